"""The admin pages of the chat groups: the connections with their state, the form, the
test message and the delete button. Every post redirects (303) or shows the page again."""

from flask import current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..auth import allowed
from ..auth import services as accounts
from ..errors import DomainError
from ..web import add_form_error, form_status, render, see_other
from . import access, addresses, bp, connections
from .forms import ConnectionForm
from .models import EVENT_LABELS
from .outbox import KEEP_FOR
from .robots import PLATFORM_LABELS

ADMINS = allowed(access.may_manage_connections)


def _page_context(**context):
    return {
        "platform_labels": PLATFORM_LABELS,
        "event_labels": EVENT_LABELS,
        "status_labels": connections.Status.LABELS,
        "status_of": connections.status_of,
        "mask": addresses.mask,
        "has_base_url": bool(current_app.config["BASE_URL"]),
        "now": clock.now(),
        **context,
    }


@bp.route("/admin/integrations")
@ADMINS
def index():
    return render(
        "chat/index.html",
        **_page_context(
            connections=connections.all_connections(),
            waiting=connections.waiting_counts(),
            keep_days=KEEP_FOR.days,
        ),
    )


def _form_page(form, connection, save, answer=None, status=None):
    if form.validate_on_submit():
        try:
            saved = save(form.values())
        except DomainError as error:
            if error.status != DomainError.status:
                raise
            add_form_error(form, error)
        else:
            flash(_("Saved %(name)s.", name=saved.name), "success")
            return see_other(url_for("chat.index"))
    return render(
        "chat/form.html",
        status=status or form_status(form),
        **_page_context(form=form, connection=connection, answer=answer),
    )


@bp.route("/admin/integrations/new", methods=["GET", "POST"])
@ADMINS
def new():
    form = ConnectionForm(teams=accounts.teams())
    if request.method == "GET":
        form.team_id.data = 0
        form.locale.data = current_app.config["BABEL_DEFAULT_LOCALE"]
        form.events.data = list(EVENT_LABELS)
    return _form_page(form, None, lambda values: connections.create_connection(current_user, values))


@bp.route("/admin/integrations/<int:connection_id>", methods=["GET", "POST"])
@ADMINS
def edit(connection_id):
    connection = connections.get_connection(connection_id)
    form = ConnectionForm(obj=connection, teams=accounts.teams())
    if request.method == "GET":
        form.team_id.data = connection.team_id or 0
        form.url.data = addresses.mask(connection.url)
    return _form_page(
        form,
        connection,
        lambda values: connections.update_connection(
            current_user, connection_id, _kept_url(values, connection)
        ),
    )


def _kept_url(values, connection):
    """The page shows the address masked: sent back unchanged, it keeps the saved one."""
    if values.url.strip() == addresses.mask(connection.url):
        return connections.Values(**{**vars(values), "url": connection.url})
    return values


@bp.route("/admin/integrations/<int:connection_id>/test", methods=["POST"])
@ADMINS
def test(connection_id):
    answer = connections.send_test(connection_id)
    connection = connections.get_connection(connection_id)
    form = ConnectionForm(obj=connection, teams=accounts.teams(), formdata=None)
    form.team_id.data = connection.team_id or 0
    form.url.data = addresses.mask(connection.url)
    return render(
        "chat/form.html",
        "chat/_test_answer.html",
        **_page_context(form=form, connection=connection, answer=answer),
    )


@bp.route("/admin/integrations/<int:connection_id>/delete", methods=["POST"])
@ADMINS
def delete(connection_id):
    name = connections.delete_connection(current_user, connection_id)
    flash(_("Disconnected %(name)s; its waiting messages were dropped.", name=name), "success")
    return see_other(url_for("chat.index"))
