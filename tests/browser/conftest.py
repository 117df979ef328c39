import pytest


@pytest.fixture(params=["sqlite"])
def database_url(sqlite_database):
    """Browser tests run on SQLite only; the database tests cover PostgreSQL."""
    return sqlite_database


def pytest_collection_modifyitems(items):
    for item in items:
        if "/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
