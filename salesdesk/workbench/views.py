from flask_babel import lazy_gettext as _l

from ..web import render
from . import bp

# Pillars whose issue has not landed yet: nav entries lead to a "coming soon" page.
COMING_SOON = {
    "customers": _l("Customer ledger"),
    "pool": _l("Public pool"),
    "kb": _l("Knowledge base"),
}


@bp.route("/")
def home():
    return render("workbench/home.html")


@bp.route("/<any(customers, pool, kb):section>")
def coming_soon(section):
    return render("workbench/coming_soon.html", title=COMING_SOON[section])
