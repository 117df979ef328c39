"""The home page (工作台)."""

from flask import Blueprint

bp = Blueprint("workbench", __name__)

from . import digest, views  # noqa: E402,F401
