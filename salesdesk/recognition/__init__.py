"""Recognition (协作积分): points, budgets, thanks, the leaderboard, 协作之星 badges and the feed."""

from flask import Blueprint

bp = Blueprint("recognition", __name__)

# badges registers the job that closes ended months; receivers the automatic points.
from . import badges, models, receivers, views  # noqa: E402,F401
