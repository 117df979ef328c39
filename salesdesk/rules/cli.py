"""`flask --app app salesdesk reclaim`, for cron (the app also runs it by itself)."""

import click
from flask.cli import with_appcontext

from ..cli import salesdesk
from .reclaim import run_reclaim


@salesdesk.command("reclaim")
@with_appcontext
def reclaim():
    """Warn owners and return overdue customers to the pool. Safe to run any time."""
    warned, moved = run_reclaim()
    click.echo(f"Warned about {warned} customers; returned {moved} to the pool.")
