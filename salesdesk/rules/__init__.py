"""Assignment and anti-collision rules (分配与防撞单): the public pool, claims, reclaim,
extensions, collision reports, assignment and the rule settings."""

from flask import Blueprint

bp = Blueprint("rules", __name__)

from . import models, views  # noqa: E402,F401
