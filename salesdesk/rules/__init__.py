"""Assignment and anti-collision rules (分配与防撞单): the public pool, claims, reclaim,
extensions, collision reports, assignment and the rule settings."""

from flask import Blueprint

bp = Blueprint("rules", __name__)

# The modules whose signal receivers, jobs and notification kinds must be registered.
from . import assignment, handover, models, protection, reclaim, views  # noqa: E402,F401
