"""Salesdesk: a self-hosted sales-collaboration desk."""

import os
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

from . import assets, audit, jobs, notifications, submissions  # noqa: F401  (tables shared by every feature)
from .config import load_config
from .extensions import babel, csrf, db, htmx, login_manager, migrate
from .web import BoundedIntegerConverter, FormLimitedRequest, flashes_to_toasts, is_htmx, safe_next_url

ROOT = Path(__file__).resolve().parent.parent

# Each feature is a sub-package exposing a blueprint `bp`, a `translations/` catalog
# and optionally `cli` commands. The demo (salesdesk/demo/) is no feature: it has no
# blueprint and only `salesdesk demo` loads it.
FEATURES = (
    "auth",
    "admin",
    "ledger",
    "rules",
    "kb",
    "recognition",
    "support",
    "performance",
    "chat",
    "fields",
    "workbench",
)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(config_overrides=None):
    instance_path = os.environ.get("SALESDESK_INSTANCE_PATH") or ROOT / "instance"
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, config_overrides)
    if app.config.get("BEHIND_PROXY"):
        # Caddy or nginx on this machine: the client's address and scheme come from it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    app.url_map.converters["int"] = BoundedIntegerConverter
    register_extensions(app)
    assets.init_app(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_response_hooks(app)
    register_commands(app)
    return app


def load_shared_dictionaries(app=None):
    """For `gunicorn --preload`, called in the master before it forks the workers: load
    the dictionaries that requests otherwise load lazily in every worker (pinyin ~11 MB,
    rjieba's ~30 MB, OpenCC's tables) once and, given the app, its compiled templates, its
    languages and the fuzzy name index of its database (the first duplicate check of
    each worker would read every name, about a second for 100,000). Then freeze the
    garbage collector's view of them, so that collections in the workers do not copy
    the shared pages."""
    import gc

    from sqlalchemy.orm import configure_mappers

    from .kb import search as kb_search
    from .ledger import search as ledger_search

    ledger_search.index_values("重慶银行")  # pypinyin, and OpenCC through simplify()
    kb_search.index_words("合同审批")  # rjieba
    configure_mappers()  # otherwise at each worker's first query
    if app is not None:
        for name in app.jinja_env.list_templates(extensions=["html"]):
            app.jinja_env.get_template(name)  # compiled once, not at first use in each worker
        _load_languages(app)
        _load_name_index(app)
    gc.freeze()


def _load_languages(app):
    """Each language's catalogues and the locale data its dates and amounts read, and
    what exports and uploads import on first use (openpyxl, the MIME types): each
    worker wrote ~7 MB fewer pages of its own, 4 workers 474 -> 458 MB Pss in all
    (bench/load_memory.py, PostgreSQL, 100,000 customers)."""
    import mimetypes
    from datetime import date

    import openpyxl  # noqa: F401  (imported for its side effect: loaded before the fork)
    from flask_babel import force_locale, get_translations

    from .i18n import LANGUAGES, WTFORMS_MESSAGES, compact_money, format_date, money

    mimetypes.init()
    with app.test_request_context():
        for locale in LANGUAGES:
            with force_locale(locale):
                get_translations()
                WTFORMS_MESSAGES.catalogue()
                format_date(date(2026, 1, 2), "Md")
                money(1)
                compact_money(12345)


def _load_name_index(app):
    from sqlalchemy.exc import SQLAlchemyError

    from .ledger.similar import name_index

    with app.app_context():
        try:
            name_index().refresh()
        except SQLAlchemyError:
            # Not migrated yet, or not reachable: the workers load it at their first check.
            app.logger.warning("the name index was not preloaded", exc_info=True)
        finally:
            db.session.remove()
            db.engine.dispose()  # the workers must not share the master's connections


def feature_modules(submodule=None):
    """The feature packages (or one submodule of each, where it exists), in order."""
    for name in FEATURES:
        module_name = f"{__name__}.{name}" + (f".{submodule}" if submodule else "")
        if submodule is None or find_spec(module_name) is not None:
            yield import_module(module_name)


def translation_directories():
    package = Path(__file__).resolve().parent
    candidates = [package / "translations"] + [package / name / "translations" for name in FEATURES]
    return ";".join(str(path) for path in candidates if path.is_dir())


def register_extensions(app):
    from .auth.services import load_user_session
    from .database import configure_engine, include_in_migrations, render_migration_item
    from .i18n import (
        install_date_filters,
        install_template_gettext,
        select_locale,
        select_timezone,
        settle_locale,
    )

    db.init_app(app)
    with app.app_context():
        configure_engine(app, db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
        include_name=include_in_migrations,
    )
    csrf.init_app(app)
    htmx.init_app(app)
    app.request_class = FormLimitedRequest  # htmx's request, with the form limit
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translation_directories()
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)
    install_date_filters(app)
    app.before_request(settle_locale)

    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user_session)
    login_manager.unauthorized_handler(_send_to_login)


def _send_to_login():
    if is_htmx():
        # The htmx request is a fragment; bring the whole page back after login.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        path = current.path + (f"?{current.query}" if current.query else "")
        next_path = safe_next_url(path, None) if current.netloc == request.host else None
        return "", 401, {"HX-Redirect": url_for("auth.login", next=next_path)}
    next_path = request.full_path.rstrip("?") if request.method == "GET" else None
    if next_path and next_path != url_for("workbench.home"):
        flash(_("Please log in to continue."), "info")
    return redirect(url_for("auth.login", next=next_path))


def register_blueprints(app):
    from . import health

    app.register_blueprint(health.bp)
    for module in feature_modules():
        app.register_blueprint(module.bp)


def register_errorhandlers(app):
    from .errors import register_errorhandlers as register

    register(app)


def register_response_hooks(app):
    app.after_request(flashes_to_toasts)
    app.after_request(jobs.start_due_jobs)

    @app.before_request
    def refuse_nul_bytes():
        # No text field takes a NUL; PostgreSQL would refuse it deep inside a query.
        values = [*request.args.values(), *(request.form.values() if request.form else [])]
        if any("\x00" in value for value in values):
            abort(400)

    from .forms import option_tags
    from .i18n import compact_money, html_lang, money

    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["options"] = option_tags
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["compact_money"] = compact_money

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("HTTPS"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and "Cache-Control" not in headers:
            # Customer data must not linger in shared or back-button caches.
            headers["Cache-Control"] = "no-store"
        return response


def register_commands(app):
    from .cli import salesdesk

    # Importing a feature's cli module adds its commands to the group.
    list(feature_modules("cli"))
    app.cli.add_command(salesdesk)
