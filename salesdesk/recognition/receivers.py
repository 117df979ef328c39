"""Automatic points: reactions to other features' signals. They run inside the sender's
write transaction, so the points commit or roll back with the change that caused them."""

from .. import signals
from . import automatic


@signals.customer_won.connect
def _customer_won(customer, **_kwargs):
    automatic.points_for_won_customer(customer)


@signals.article_voted.connect
def _article_voted(article, voter=None, helpful=False, previous=None, **_kwargs):
    automatic.points_for_helpful_article(article, voter, helpful, previous)


@signals.support_rated.connect
def _support_rated(request, rating=None, settings=None, **_kwargs):
    if rating == 5 and settings is not None:
        automatic.points_for_five_star_support(request, settings)
