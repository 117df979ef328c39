"""Which language and time zone a request is rendered in."""

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

from babel import Locale, dates, support
from babel.numbers import format_compact_decimal
from flask import current_app, g, has_request_context, request, session
from flask_babel import get_locale, get_timezone, get_translations
from flask_login import current_user
from wtforms.i18n import messages_path

# The languages the app speaks, each named in itself (the first is the default).
LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}


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


def install_date_filters(app):
    """`dateformat` and `datetimeformat` as Flask-Babel has them, with the request's
    locale and time zone read once and the locale's patterns parsed once: a list page
    formats 75 dates, at ~150 µs each through Flask-Babel."""
    app.jinja_env.filters["dateformat"] = format_date
    app.jinja_env.filters["datetimeformat"] = format_datetime


def _locale():
    # What flask_babel.get_locale() returns, from where it keeps it (force_locale()
    # replaces it there), without its checks on every call.
    locale = getattr(g.get("_flask_babel"), "babel_locale", None)
    return locale if locale is not None else get_locale()


def _zone():
    zone = getattr(g.get("_flask_babel"), "babel_tzinfo", None)
    return zone if zone is not None else get_timezone()


def _user_time(value):
    zone = _zone()
    return zone.normalize((value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone))


def local_date(value):
    """The day an instant fell on for the user (a date stays as it is)."""
    return _user_time(value).date() if isinstance(value, datetime) else value


def format_date(value=None, format="medium", rebase=True):
    if value is None:
        value = datetime.now(UTC)
    if rebase and isinstance(value, datetime):
        value = _user_time(value)
    locale = _locale()
    return _date_pattern(locale, format).apply(value, locale)


def format_datetime(value=None, format="medium", rebase=True):
    if value is None:
        value = datetime.now(UTC)
    zone = _zone() if rebase else None
    return dates.format_datetime(value, format, tzinfo=zone, locale=_locale())


@cache
def _date_pattern(locale, format):
    if format in ("full", "long", "medium", "short"):
        format = dates.get_date_format(format, locale=locale)
    elif format in locale.datetime_skeletons:
        format = locale.datetime_skeletons[format]  # "Md": the locale's month and day
    return dates.parse_pattern(format)


def _catalogue():
    # Keyed by the locale object: force_locale() and refresh() change it.
    locale = _locale()
    cached = g.get("catalogue")
    if cached is None or cached[0] is not locale:
        cached = g.catalogue = (locale, get_translations())
    return cached[1]


class _WTFormsMessages:
    """WTForms' own messages ("This field is required.") in the request's language, each
    catalogue read once a process: Flask-WTF reads it from disk again in every request
    that makes a form (~0.3 ms; the layout's language switch is one)."""

    def catalogue(self):
        return _wtforms_catalogue(str(_locale()))

    def gettext(self, string):
        return self.catalogue().ugettext(string)

    def ngettext(self, singular, plural, n):
        return self.catalogue().ungettext(singular, plural, n)


WTFORMS_MESSAGES = _WTFormsMessages()


@cache
def _wtforms_catalogue(locale_name):
    return support.Translations.load(messages_path(), [locale_name], domain="wtforms")


def html_lang():
    """The BCP 47 tag for <html lang>: zh-Hans-CN or en."""
    return str(get_locale()).replace("_", "-")


def money(amount):
    """An exact CNY amount for display: ¥1,234,567.00."""
    if amount is None:
        return "—"
    return money_format()(amount)


def money_format():
    """`money` in the request's language as a function of an amount (not None), for a
    page that writes thousands of them."""
    return _currency_format(str(_locale()))


@cache
def _currency_format(locale_name):
    """The locale's CNY format as a function. Boards and lists show thousands of amounts:
    where the locale writes them as Python's "{:,.2f}" does (zh, en), its symbol goes
    around that; any other locale keeps Babel's pattern, parsed once."""
    locale = Locale.parse(locale_name)
    pattern = locale.currency_formats["standard"]

    def by_babel(amount):
        return pattern.apply(amount, locale, currency="CNY", currency_digits=True)

    sample = Decimal("-1234567.89")
    prefix, found, suffix = by_babel(-sample).partition("1,234,567.89")
    negative_prefix, negative_found, negative_suffix = by_babel(sample).partition("1,234,567.89")
    if not (found and negative_found and negative_suffix == suffix):
        return by_babel

    def by_python(amount):
        text = f"{abs(amount):,.2f}"
        return f"{prefix}{text}{suffix}" if amount >= 0 else f"{negative_prefix}{text}{suffix}"

    return by_python


def compact_money(amount):
    """An amount where space is short (lists, cards, charts): ¥128万, ¥1.2亿, or ¥1.3M in
    English; "—" for none. The exact figure is `money`, on the customer's page."""
    if not amount:
        return "—"
    return "¥" + format_compact_decimal(amount, locale=_locale(), fraction_digits=1)
