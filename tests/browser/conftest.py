import pytest


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path, sqlite_template):
    """Browser tests run on SQLite only; the database tests cover PostgreSQL."""
    import shutil

    path = tmp_path / "salesdesk.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
