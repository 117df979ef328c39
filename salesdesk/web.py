"""Request and response helpers for htmx, behind one module so the library can be swapped."""

import json
from urllib.parse import urlsplit

from flask import Request, get_flashed_messages, make_response, redirect, render_template, request
from htmx_flask import make_response as htmx_response
from htmx_flask.requests import HtmxAwareRequest
from werkzeug.routing import IntegerConverter

from .database import MAX_ID


def is_htmx():
    """True for an htmx request that wants a fragment (not a boosted navigation)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(template, fragment=None, status=200, **context):
    """Render the full page, or just its fragment when htmx asked for it."""
    chosen = fragment if fragment and is_htmx() else template
    response = make_response(render_template(chosen, **context), status)
    response.vary.add("HX-Request")
    return response


def see_other(url):
    """After a successful POST: 303 for the browser, a full navigation for htmx."""
    if is_htmx():
        return htmx_response("", 204, redirect=url)
    return redirect(url, 303)


def toast_trigger(message, level="info", existing=None):
    """An HX-Trigger header value that shows toasts; JSON escapes keep it ASCII."""
    events = json.loads(existing) if existing else {}
    toasts = events.get("toast") or []
    toasts.append({"message": message, "level": level})
    events["toast"] = toasts
    return json.dumps(events, ensure_ascii=True)


def flashes_to_toasts(response):
    """Deliver flashed messages of an htmx exchange as toasts instead of on the next page."""
    if not is_htmx() or "HX-Redirect" in response.headers or response.status_code >= 300:
        return response
    for level, message in get_flashed_messages(with_categories=True):
        response.headers["HX-Trigger"] = toast_trigger(message, level, response.headers.get("HX-Trigger"))
    return response


def safe_next_url(target, fallback):
    """Only a path inside this app: no scheme, no host, no protocol-relative //."""
    if not target:
        return fallback
    target = target.replace("\\", "/").strip()
    return target if is_app_path(target) else fallback


def is_app_path(target):
    """An absolute path on this app (/kb/3): no scheme, no host, neither //host nor
    /\\host (browsers read both as another host), no control characters."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return False
    return "\\" not in target and not any(ord(ch) < 32 for ch in target)


def add_form_error(form, error):
    """Show a service's DomainError on the field it names, or on the whole form."""
    field = getattr(form, error.field, None) if error.field else None
    (field.errors if field is not None else form.form_errors).append(error.message)


def form_status(form):
    """422 for a form shown again with errors, so htmx and tests can tell."""
    return 422 if form.errors else 200


class BoundedIntegerConverter(IntegerConverter):
    """<int:…> in URLs, at most a 32-bit id: /customers/99999999999999999999 is a 404,
    not a number the database driver cannot take."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


# Endpoints whose posts may carry more than the app's upload limit (a support request
# with ten 10 MB attachments): endpoint -> bytes. Features add theirs.
LARGE_UPLOADS = {}


class FormLimitedRequest(HtmxAwareRequest):
    """Werkzeug applies MAX_FORM_MEMORY_SIZE to multipart fields only and reads an
    urlencoded body whole: such a body gets that limit as its length limit (413)."""

    @property
    def max_content_length(self):
        limit = Request.max_content_length.fget(self)
        endpoint = self.url_rule.endpoint if self.url_rule is not None else None
        if endpoint in LARGE_UPLOADS and self.mimetype == "multipart/form-data":
            limit = max(limit or 0, LARGE_UPLOADS[endpoint])
        form_limit = self.max_form_memory_size
        if self.mimetype == "application/x-www-form-urlencoded" and form_limit is not None:
            return form_limit if limit is None else min(limit, form_limit)
        return limit

    @max_content_length.setter
    def max_content_length(self, value):
        self._max_content_length = value
