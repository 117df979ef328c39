"""Versioned static files: url_for("static", …) adds ?v=<content hash>, so after an
upgrade browsers fetch the new CSS and JavaScript at once, and a versioned URL can be
cached for a year (by the browser and by the proxy that serves /static/)."""

import hashlib
from pathlib import Path

from flask import g, request, url_for
from markupsafe import Markup, escape

YEAR = 365 * 24 * 3600


def init_app(app):
    versions = {}  # filename -> ((mtime, size), version): a changed file gets a new hash

    def version_of(filename):
        # Once per request and file: a page links the icon sprite a hundred times.
        seen = g.setdefault("static_versions", {})
        if filename not in seen:
            seen[filename] = current_version(filename)
        return seen[filename]

    def current_version(filename):
        path = Path(app.static_folder) / filename
        try:
            stat = path.stat()
        except OSError:
            return None
        known = versions.get(filename)
        if known is None or known[0] != (stat.st_mtime_ns, stat.st_size):
            known = ((stat.st_mtime_ns, stat.st_size), hashlib.sha256(path.read_bytes()).hexdigest()[:12])
            versions[filename] = known
        return known[1]

    @app.url_defaults
    def add_version(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = version_of(values["filename"])
            if version:
                values["v"] = version

    def max_age(_filename):
        return YEAR if request.args.get("v") else None

    app.get_send_file_max_age = max_age
    app.jinja_env.globals["icon"] = icon

    @app.after_request
    def immutable_when_versioned(response):
        if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
            response.cache_control.immutable = True
        return response


def icon(name, label=None):
    """An icon of the sprite (static/img/icons.svg): hidden from screen readers unless it
    is labelled. A function, not a Jinja macro: a page draws dozens, and a macro call
    costs ten times as much (bench/ledger_floor.py)."""
    sprite = g.get("icon_sprite")
    if sprite is None:
        sprite = g.icon_sprite = escape(url_for("static", filename="img/icons.svg"))
    named = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return Markup(f'<svg class="icon" {named}><use href="{sprite}#{escape(name)}"></use></svg>')
