"""Which language and time zone a request is rendered in."""

from functools import cache

from babel import Locale
from babel.numbers import format_compact_decimal
from flask import current_app, g, has_request_context, session
from flask_babel import get_locale, get_translations
from flask_login import current_user

from .auth.models import LANGUAGES


def select_locale():
    """The user's choice; before login, the one picked on the login page; else Chinese."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.locale
    chosen = session.get("locale")
    return chosen if chosen in LANGUAGES else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_TIMEZONE"]
    if current_user and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


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
