"""Chat groups (企业微信、钉钉、飞书): connections to the groups' robots, the events each
group hears, and the outbox that posts them after the commit (PRODUCT.md section 8)."""

from flask import Blueprint

bp = Blueprint("chat", __name__)

# The modules whose routes, jobs, signal receivers and notification kinds must be registered.
from . import events, models, outbox, views  # noqa: E402,F401
