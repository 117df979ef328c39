"""Every POST form with each field missing and each field of the wrong kind (issue 14, finding 5).

The route matrix's FORMS table gives each POST route a valid submission; the fields are
those and whatever fields the route's form class has (recorded while the route answers).
Each field is then left out, and given text where a number, date or choice is expected,
several values where one is, 100,000 characters, an id that does not exist and another
team's id. Nothing may answer 5xx; a refusal (4xx) writes no row. The wrong kinds are
refused; long text in a text field, and another team's id, may be allowed (an article
is long, thanks go across teams: the matrix forges the ids that must not be). A post
without a field of the form is refused, unless a browser leaves it out when nothing is
chosen (an unchecked box, an empty multiple select): a stale page or a forged post must
not clear what it did not show. Values that are not fields of a form class (the import
mapping's columns, the territories' rows) may be left out where leaving them out means
what leaving them empty means."""

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart
from wtforms import (
    BooleanField,
    DateField,
    DateTimeField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
)

from salesdesk.auth.models import Role
from salesdesk.database import write_transaction
from salesdesk.extensions import db
from salesdesk.forms import MAY_BE_ABSENT, TAKES_SEVERAL, Form
from salesdesk.ledger.models import Customer, Stage
from salesdesk.rules.models import Territory
from tests.fixtures.kb import write
from tests.fixtures.ledger import make_customer, new_customer_form
from tests.web.route_matrix.forms import BLUEPRINTS, FORMS, customer_fields, resolve, without
from tests.web.route_matrix.routes import Case, build_url
from tests.web.route_matrix.scene import build_scene, changed_tables, snapshot

LONG = "x" * 100_000
MISSING_ID = "999999999"
HUGE = "9" * 30
# The same kind of object in the other team, for ids in the valid submissions.
OTHER_TEAM = {
    "rep_a": "rep_b",
    "rep_a2": "rep_b",
    "support_a": "rep_b",
    "manager_a": "manager_b",
    "team_a": "team_b",
    "pool": "cust_b",
    "cat": "cat_child",
    "article3": "draft",
}
# Fields whose value must be a number, a date or one of the offered choices.
TYPED_FIELDS = (IntegerField, DateField, DateTimeField, SelectField, RadioField, SelectMultipleField)


@pytest.fixture
def submitted_fields(monkeypatch):
    """{field name: field} of every form a request filled from its post."""
    seen = {}
    process = Form.process

    def recording(self, formdata=None, *args, **kwargs):
        process(self, formdata, *args, **kwargs)
        if formdata is not None and self.is_submitted():
            seen.update((field.name, field) for field in self if field.name != "csrf_token")

    monkeypatch.setattr(Form, "process", recording)
    return seen


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_finding_5_a_missing_or_mistyped_field_is_refused_and_changes_nothing(
    app, world, blueprint, submitted_fields
):
    ids = build_scene(world)
    failures = []
    for endpoint, spec in FORMS.items():
        if endpoint.split(".")[0] == blueprint:
            submitted_fields.clear()
            fuzz(app, world, ids, endpoint, spec, submitted_fields, failures)
    assert not failures, "\n".join(failures)


def fuzz(app, world, ids, endpoint, spec, fields, failures):
    user = None if spec.actor == "anon" else getattr(world, spec.actor)
    url = build_url(app.url_map.bind("localhost"), endpoint, Case(None, None, spec.params), ids)
    template = spec.valid(ids) if callable(spec.valid) else spec.valid
    if not template:
        return  # nothing to leave out; the matrix posts these empty

    def post(changes=(), leave_out=None):
        data = {**resolve(template, ids), **dict(changes)}
        data = without(data, leave_out) if leave_out else data
        client = app.test_client()
        client = client.login_as(user) if user else client
        if not any(isinstance(value, tuple) for value in data.values()):
            return client.post(url, data=data)
        # A file: encoded in memory (see the route matrix).
        parts = {
            key: FileStorage(*value) if isinstance(value, tuple) else value for key, value in data.items()
        }
        boundary, body = encode_multipart({**parts, "csrf_token": client.csrf_token()})
        return client.post(
            url, data=body, content_type=f"multipart/form-data; boundary={boundary}", csrf=False
        )

    before = snapshot()

    def attempt(label, must_refuse, **kwargs):
        nonlocal before
        try:
            status = post(**kwargs).status_code
        except Exception as error:  # the test app raises what would be a 500, and the walk goes on
            status = 500
            label = f"{label} ({error!r:.100})"
        after = snapshot()
        changed = [name for name in changed_tables(before, after) if name not in spec.records]
        before = after
        # A status in spec.also (303 back with a message) refuses only if it wrote nothing.
        refused = 400 <= status < 500 or (status in spec.also and not changed)
        if status >= 500:
            failures.append(f"{endpoint} {label}: {status} (server error)")
        elif must_refuse and not refused:
            failures.append(f"{endpoint} {label}: {status}, expected a refusal")
        elif 400 <= status < 500 and changed:
            failures.append(f"{endpoint} {label}: {status}, changed {changed}")
        return refused

    for name in template:
        if isinstance(fields.get(name), MAY_BE_ABSENT):
            attempt(f"without {name} (nothing chosen)", must_refuse=False, leave_out=name)
            continue
        if name in fields:
            attempt(f"without {name}", must_refuse=True, leave_out=name)
            continue
        missing_refused = attempt(f"without {name}", must_refuse=False, leave_out=name)
        empty_refused = attempt(f"{name}=''", must_refuse=False, changes={name: ""})
        if empty_refused and not missing_refused:
            # Leaving a field out may only mean leaving it empty: on the rows where empty
            # was just refused (a refusal writes nothing), missing is refused too.
            attempt(f"without {name}", must_refuse=True, leave_out=name)
    for name in sorted(set(template) | set(fields)):
        for label, value, must_refuse in wrong_values(name, template.get(name), fields.get(name), spec, ids):
            attempt(f"{name}={label}", must_refuse, changes={name: value})


def wrong_values(name, valid, field, spec, ids):
    """(label, value, must it be refused) for one field."""
    typed = is_typed(name, valid, field)
    one_value = field is not None and not isinstance(field, TAKES_SEVERAL)
    example = valid if isinstance(valid, str) else "1"
    values = [
        ("several values", [example, "abc"], one_value),
        ("100,000 characters", LONG, typed),
    ]
    if typed and not isinstance(field, BooleanField):
        values += [("text", "abc", True), ("a huge number", HUGE, True), ("no such id", MISSING_ID, True)]
    scene_name = re.fullmatch(r"\{(\w+)\}", valid) if isinstance(valid, str) else None
    if scene_name and scene_name[1] in OTHER_TEAM and spec.actor != "admin":
        # May be allowed (thanks across teams); the matrix forges the ids that must not be.
        values.append(("the other team's", str(ids[OTHER_TEAM[scene_name[1]]]), False))
    return values


def is_typed(name, valid, field):
    if isinstance(field, BooleanField):
        return False
    if isinstance(field, TYPED_FIELDS):
        return True
    if not isinstance(valid, str) or "phone" in name:
        return False
    return bool(re.fullmatch(r"\{\w+\}|\d+", valid)) or is_date(valid)


def is_date(text):
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# ---- what the probe found, and the class behind it ------------------------------------------


def test_finding_5_a_customer_edit_without_the_amount_is_not_a_server_error(client_as, world):
    # The form kept the stored Decimal for the missing field, and Length() took its len().
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    with write_transaction():
        db.session.get(Customer, customer.id).expected_amount = Decimal("50000")
    data = {**customer_fields(name=customer.name), "version": str(customer.version)}
    rep = client_as(world.rep_a)
    response = rep.post(f"/customers/{customer.id}/edit", data=without(data, "expected_amount"))
    assert response.status_code == 422
    assert "表单缺少此项" in response.get_data(as_text=True)
    assert db.session.get(Customer, customer.id).expected_amount == Decimal("50000")


def test_finding_5_an_article_edit_without_tags_is_not_a_server_error(client_as, world):
    # The form kept the article's tag objects for the missing field and gave them to the service.
    article = write(world.manager_a, "报价单填写规范", "报价单必须写明有效期。", tags="报价")
    data = {"title": article.title, "body": "新的正文。", "category_id": "0", "base_version": "1"}
    response = client_as(world.manager_a).post(f"/kb/{article.id}/edit", data=data)
    assert response.status_code == 422
    db.session.refresh(article)
    assert (article.body, article.tag_names) == ("报价单必须写明有效期。", ["报价"])


def test_finding_5_an_edit_form_without_its_fields_is_refused_not_filled_from_the_object(client_as, world):
    admin = client_as(world.admin)
    response = admin.post(f"/admin/users/{world.rep_a2.id}", data={"role": "manager"})
    assert response.status_code == 422
    assert "has-error" in response.get_data(as_text=True)
    db.session.refresh(world.rep_a2)
    assert world.rep_a2.role == Role.REP


def test_finding_5_several_values_for_a_one_value_field_are_refused(client_as, world):
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    data = {**customer_fields(name=customer.name), "version": str(customer.version), "stage": ["won", "lead"]}
    response = client_as(world.rep_a).post(f"/customers/{customer.id}/edit", data=data)
    assert response.status_code == 422
    assert "此项只能填写一个值。" in response.get_data(as_text=True)
    assert db.session.get(Customer, customer.id).stage == Stage.LEAD


def test_finding_5_a_json_body_is_not_taken_for_the_form(client_as, world):
    # Flask-WTF reads a JSON body as the form, with numbers and lists where text belongs.
    customer = make_customer(world.rep_a, "杭州云栖数据科技有限公司")
    rep = client_as(world.rep_a)
    data = {**customer_fields(name=customer.name, expected_amount=5), "version": customer.version}
    response = rep.post(
        f"/customers/{customer.id}/edit", json=data, headers={"X-CSRFToken": rep.csrf_token()}, csrf=False
    )
    assert response.status_code == 422
    assert db.session.get(Customer, customer.id).version == customer.version


def test_a_rep_creates_a_customer_without_the_owner_field_their_page_leaves_out(client_as, world):
    rep = client_as(world.rep_a)
    assert 'name="owner_id"' not in rep.get("/customers/new").get_data(as_text=True)
    response = rep.post("/customers/new", data=without(new_customer_form(), "owner_id"))
    assert response.status_code == 303
    assert db.session.scalars(select(Customer)).one().owner_id == world.rep_a.id


@pytest.mark.parametrize("left_out", ["province", "city", "user_id"])
def test_finding_5_territories_posted_without_a_column_are_refused_not_cleared(client_as, world, left_out):
    # The rows were zipped from the three columns: one column missing dropped every territory.
    admin = client_as(world.admin)
    url = f"/rules/teams/{world.team_a.id}/territories"
    row = {"province": "浙江", "city": "杭州", "user_id": str(world.rep_a.id)}
    assert admin.post(url, data=row).status_code == 303
    assert admin.post(url, data=without(row, left_out)).status_code == 400
    assert db.session.execute(select(Territory.province, Territory.city, Territory.user_id)).all() == [
        ("浙江", "杭州", world.rep_a.id)
    ]
