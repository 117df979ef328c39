"""The sales-support desk (销售支持工单): requests to the support team with service
levels in working time, comments, attachments, satisfaction and metrics."""

from flask import Blueprint

bp = Blueprint("support", __name__)

# The modules whose routes, jobs and notification kinds must be registered.
from . import admin_views, breaches, metrics_views, models, panel, views  # noqa: E402,F401
