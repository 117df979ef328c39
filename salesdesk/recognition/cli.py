"""`flask --app app salesdesk close-month`: award the 协作之星 badges of ended months (for cron;
the app also does it by itself in the course of requests)."""

from datetime import date

import click
from flask.cli import with_appcontext

from ..cli import salesdesk
from ..errors import DomainError
from . import badges as stars


def _month(value):
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except ValueError as error:
        raise click.BadParameter("use YYYY-MM, for example 2026-10") from error


@salesdesk.command("close-month")
@click.option("--month", help="The month to close as YYYY-MM (default: every ended month not closed yet).")
@with_appcontext
def close_month(month):
    """Award the 协作之星 badges of ended months, once per month."""
    try:
        results = [stars.close_month(_month(month))] if month else stars.close_due_months()
    except DomainError as error:
        raise click.ClickException(error.message) from error
    if not results:
        click.echo("No ended month is waiting to be closed.")
    for closing, badges, closed_now in results:
        label = f"{closing.month:%Y-%m}"
        if not closed_now:
            click.echo(f"{label} was closed already ({closing.badge_count} badges).")
            continue
        names = ", ".join(f"{badge.rank}. {badge.user.display_name} ({badge.points})" for badge in badges)
        click.echo(f"Closed {label}: {len(badges)} badges" + (f": {names}" if names else "") + ".")
