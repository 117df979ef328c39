"""`flask --app app salesdesk recount-follow-ups`: count everyone's follow-ups per person
and month again (follow_up_counts.py). The app keeps the counts as follow-ups are
logged; this repairs them after rows were written around it (SQL by hand, a partial
restore)."""

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..cli import salesdesk
from ..database import write_transaction
from ..ledger.models import FollowUp
from . import follow_up_counts


@salesdesk.command("recount-follow-ups")
@with_appcontext
def recount_follow_ups():
    """Count the follow-ups per person and month again, for the performance board."""
    with write_transaction() as session:
        authors = session.scalars(select(FollowUp.author_id).distinct()).all()
        follow_up_counts.recount(authors)
    click.echo(f"Counted again the follow-ups of everyone who logged any ({len(authors)}).")
