"""The knowledge base (知识库): articles with revisions, Chinese-aware search, feedback,
onboarding paths and stage playbooks."""

from flask import Blueprint

bp = Blueprint("kb", __name__, url_prefix="/kb")

from . import editor_views, models, path_views, views  # noqa: E402,F401
