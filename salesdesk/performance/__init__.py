"""Targets and performance (目标与绩效): targets per period for people and teams, their
live progress and pace, the performance board, and the managers' weekly report."""

from flask import Blueprint

from .formatting import change, compared, figure, figure_cells, pace_badge, progress, progress_cells

bp = Blueprint("performance", __name__)
bp.add_app_template_global(figure, "figure_text")
bp.add_app_template_global(change, "change_text")
bp.add_app_template_global(compared, "compared_figure")
bp.add_app_template_global(figure_cells, "figure_cells")
bp.add_app_template_global(progress, "target_progress")
bp.add_app_template_global(progress_cells, "progress_cells")
bp.add_app_template_global(pace_badge, "pace_badge")

# The modules whose routes, jobs, notification kinds and signal receivers must be registered.
from . import board_views, follow_up_counts, milestones, models, report, views  # noqa: E402,F401
