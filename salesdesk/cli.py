"""`flask --app app salesdesk …` commands. Features add theirs to the same group."""

from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from . import backup as backups
from . import database
from .auth import services as accounts
from .auth.models import Role, User
from .errors import DomainError
from .extensions import db


@click.group()
def salesdesk():
    """Salesdesk administration."""


@salesdesk.command("init")
@click.option("--admin-email", help="E-mail of the first administrator.")
@click.option("--admin-password", help="Password of the first administrator.")
@with_appcontext
def init(admin_email, admin_password):
    """Apply migrations and create the first administrator. Safe to run twice."""
    upgrade()
    has_admin = db.session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1))
    if has_admin and not admin_email:
        click.echo("Database is up to date; an administrator exists already.")
        return
    admin_email = admin_email or click.prompt("Administrator e-mail")
    if db.session.scalar(select(User.id).where(User.email == admin_email.strip().lower())):
        click.echo(f"{admin_email} exists already; nothing to create.")
        return
    admin_password = admin_password or click.prompt(
        "Administrator password", hide_input=True, confirmation_prompt=True
    )
    _create_user(email=admin_email, display_name="管理员", role=Role.ADMIN, password=admin_password)
    click.echo(f"Created administrator {admin_email}.")


@salesdesk.command("upgrade")
@with_appcontext
def upgrade_command():
    """Apply pending migrations (back up first)."""
    try:
        result = database.upgrade_database()
    except database.UnknownRevision as error:
        raise click.ClickException(f"{error}; upgrade the code instead.") from error
    scripts = database.migration_scripts()
    if not result.applied:
        click.echo(f"The database is already current: {database.describe_revision(result.after, scripts)}.")
        return
    click.echo(
        f"Upgraded the database from {database.describe_revision(result.before, scripts)} "
        f"to {database.describe_revision(result.after, scripts)} ({len(result.applied)} migrations)."
    )


@salesdesk.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH when it exists.")
@with_appcontext
def backup(path, force):
    """Back the database up into PATH while the app keeps running."""
    report = _or_exit(backups.backup_database, path, force=force)
    click.echo(
        f"Backed up the {backups.KIND_NAMES[report.kind]} database with {report.method} "
        f"into {report.path} ({_size(report.size)})."
    )
    checked = "integrity check passed" if report.kind == "sqlite" else "archive readable by pg_restore"
    click.echo(f"Verified: {checked}; migration {database.describe_revision(report.revision)}.")
    click.echo("Rows: " + ", ".join(f"{table} {count}" for table, count in report.row_counts.items()) + ".")


@salesdesk.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Restore without asking for confirmation.")
@with_appcontext
def restore(path, yes):
    """Replace the whole database with the backup in PATH, then apply pending migrations."""
    found = _or_exit(backups.inspect_backup, path)
    click.echo(
        f"{path}: a Salesdesk {backups.KIND_NAMES[found.kind]} backup at migration "
        f"{database.describe_revision(found.revision)}."
    )
    if not yes:
        click.confirm(f"Replace everything in the {backups.describe_target()} with this backup?", abort=True)
    result = _or_exit(backups.restore_database, path)
    click.echo(f"Restored {path} into the {result.target}.")
    if result.upgrade.applied:
        click.echo(
            f"Then upgraded it from {database.describe_revision(result.upgrade.before)} to "
            f"{database.describe_revision(result.upgrade.after)} ({len(result.upgrade.applied)} migrations)."
        )
    click.echo("Restart the app: its workers still hold caches of the data before the restore.")


@salesdesk.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--team", "team_name", help="Team name; created when it does not exist.")
@click.option("--name", "display_name", help="Display name (default: the part before @).")
@with_appcontext
def create_user(email, password, role, team_name, display_name):
    """Create a user (and the team, when it does not exist yet)."""
    team = None
    if team_name:
        team = _or_exit(accounts.get_or_create_team, team_name)
    user = _create_user(
        email=email,
        display_name=display_name or email.split("@")[0],
        role=role,
        password=password,
        team=team,
    )
    click.echo(f"Created {user.role} {user.email}" + (f" in {team.name}" if team else "") + ".")


@salesdesk.command("demo")
@with_appcontext
def demo():
    """Load the demo company and its data (only what is missing) and print the logins."""
    # Imported here: the app itself never needs the demo or its word lists.
    from .demo import company, load

    upgrade()
    load()
    click.echo(f"\nDemo logins (password for all: {company.DEMO_PASSWORD}):")
    for email, name, role, team in company.logins():
        click.echo(f"  {email:<32} {name:<6} {role:<8} {team}")


def _size(size):
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024


def _create_user(**fields):
    return _or_exit(accounts.create_user, **fields)


def _or_exit(service, *args, **kwargs):
    try:
        return service(*args, **kwargs)
    except DomainError as error:
        raise click.ClickException(error.message) from error
