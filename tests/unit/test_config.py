"""Configuration order and the generated secret key."""

import os
import stat

from salesdesk import create_app


def test_defaults_put_sqlite_and_a_secret_key_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESDESK_INSTANCE_PATH", str(tmp_path))
    for name in ("SALESDESK_DATABASE_URL", "SALESDESK_SECRET_KEY", "SALESDESK_HTTPS"):
        monkeypatch.delenv(name, raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'salesdesk.db'}"
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip() and len(app.config["SECRET_KEY"]) == 64
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.config.get("SESSION_COOKIE_SECURE")


def test_instance_config_then_environment_then_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESDESK_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text(
        "PAGE_SIZE = 7\nSECRET_KEY = 'from-instance'\nSQLALCHEMY_DATABASE_URI = 'sqlite:///a.db'\n"
    )
    monkeypatch.setenv("SALESDESK_DATABASE_URL", "postgres://u@db/salesdesk")
    monkeypatch.setenv("SALESDESK_HTTPS", "1")
    monkeypatch.delenv("SALESDESK_SECRET_KEY", raising=False)
    app = create_app({"LOGIN_MAX_FAILURES": 3})
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["SECRET_KEY"] == "from-instance"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/salesdesk"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["LOGIN_MAX_FAILURES"] == 3
    assert not (tmp_path / "secret_key").exists()
    monkeypatch.setenv("SALESDESK_SECRET_KEY", "from-env")
    assert create_app().config["SECRET_KEY"] == "from-env"


def test_sqlite_keeps_one_pooled_connection_and_maps_what_the_environment_says(tmp_path, monkeypatch):
    from sqlalchemy import text

    from salesdesk.extensions import db

    monkeypatch.setenv("SALESDESK_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SALESDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SALESDESK_SQLITE_MMAP_BYTES", "0")
    app = create_app()
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 1
    with app.app_context():
        assert db.session.execute(text("PRAGMA mmap_size")).scalar() == 0
        db.session.remove()
        db.engine.dispose()
    monkeypatch.delenv("SALESDESK_SQLITE_MMAP_BYTES")
    with create_app().app_context():
        assert db.session.execute(text("PRAGMA mmap_size")).scalar() == 1 << 30
        db.session.remove()
        db.engine.dispose()
