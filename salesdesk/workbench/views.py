from ..web import render
from . import bp


@bp.route("/")
def home():
    return render("workbench/home.html")
