"""Which language and time zone a request is rendered in."""

from functools import cache

from babel import Locale
from babel.numbers import format_compact_decimal
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from .auth.models import LANGUAGES


def settle_locale():
    """before_request, before anything else: the request's language, settled once.
    First the one in the session (picked on the login page, or the user's last one; else
    Chinese), then, once the user is loaded, theirs. Error pages read only what is settled
    here: when the database is down the user cannot be loaded, and after a rollback
    reading the user would query it again."""
    g.locale = _session_locale()
    if request.endpoint != "static" and current_user.is_authenticated:
        g.locale = current_user.locale
        # Kept in the cookie too: the next error page speaks it without the database.
        if session.get("locale") != g.locale:
            session["locale"] = g.locale


def _session_locale():
    chosen = session.get("locale")
    return chosen if chosen in LANGUAGES else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_locale():
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    return g.get("locale") or _session_locale()


def select_timezone():
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if "timezone" not in g:
        user = current_user
        g.timezone = user.timezone if user.is_authenticated else current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return g.timezone


def install_template_gettext(app):
    """Templates translate through the request's catalogue, found once: Flask-Babel
    looks it up anew for each string (7 µs), and a list page translates 140 of them.
    `_` is gettext itself, without Jinja's alias in between."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: _catalogue().ugettext(message),
        ngettext=lambda singular, plural, n: _catalogue().ungettext(singular, plural, n),
        pgettext=lambda context, message: _catalogue().upgettext(context, message),
        npgettext=lambda context, singular, plural, n: _catalogue().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"]


def _catalogue():
    # Keyed by the locale object: force_locale() and refresh() change it.
    locale = get_locale()
    cached = g.get("catalogue")
    if cached is None or cached[0] is not locale:
        cached = g.catalogue = (locale, get_translations())
    return cached[1]


def html_lang():
    """The BCP 47 tag for <html lang>: zh-Hans-CN or en."""
    return str(get_locale()).replace("_", "-")


def money(amount):
    """An exact CNY amount for display: ¥1,234,567.00."""
    if amount is None:
        return "—"
    locale, pattern = _currency_format(str(get_locale()))
    return pattern.apply(amount, locale, currency="CNY", currency_digits=True)


@cache
def _currency_format(locale_name):
    # Lists show one amount per row: parse the locale's pattern once, not per row.
    locale = Locale.parse(locale_name)
    return locale, locale.currency_formats["standard"]


def compact_money(amount):
    """An amount for charts: 12.5万, or 125K in English."""
    return "¥" + format_compact_decimal(amount or 0, locale=get_locale(), fraction_digits=1)
