"""Finding 12: a form sent twice (a double click, a retry, parallel requests) takes
effect once. Awards, thanks and follow-ups carry a one-time token; every request with
a token already used gets the first one's outcome and writes nothing."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.jobs import run_if_leased
from salesdesk.ledger.models import FollowUp
from salesdesk.recognition.models import PointEntry
from salesdesk.submissions import FormSubmission, new_token
from tests.fixtures.ledger import follow_up_form, make_customer, quick_follow_up_form
from tests.fixtures.recognition import gift_form
from tests.helpers import browser_session, post_all_at_once

ALREADY = "已经提交过了"


def gift(recipient, **overrides):
    return gift_form(recipient, 5, "deal", "谢谢支持", **overrides)


def entries_given_by(user):
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(PointEntry.giver_id == user.id))


def follow_ups_of(customer):
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(FollowUp.customer_id == customer.id))


@pytest.fixture
def customer(world):
    return make_customer(world.rep_a, "苏州恒达精密机械有限公司")


@pytest.mark.parametrize(
    ("path", "giver"), [("/recognition/award", "manager_a"), ("/recognition/thank", "rep_a2")]
)
def test_finding_12_the_same_gift_sent_three_times_at_once_is_given_once(
    app, world, live_server, path, giver
):
    giver = getattr(world, giver)
    form = gift(world.rep_a, submission_token=new_token())
    statuses = post_all_at_once(live_server, [(path, form, browser_session(app, giver))] * 3)
    assert statuses == [303, 303, 303]
    assert entries_given_by(giver) == 1


@pytest.mark.parametrize(
    ("path", "follow_up"),
    [("/customers/{id}/follow-ups", follow_up_form), ("/workbench/follow-ups/{id}", quick_follow_up_form)],
)
def test_finding_12_the_same_follow_up_sent_three_times_at_once_is_logged_once(
    app, world, live_server, customer, path, follow_up
):
    form = follow_up(submission_token=new_token())
    url = path.format(id=customer.id)
    statuses = post_all_at_once(live_server, [(url, form, browser_session(app, world.rep_a))] * 3)
    assert statuses == [303, 303, 303]
    assert follow_ups_of(customer) == 1


def test_finding_12_an_award_sent_twice_shows_the_first_outcome(client_as, world):
    client = client_as(world.manager_a)
    form = gift(world.rep_a, submission_token=new_token(), next="/people/1")
    first = client.post("/recognition/award", data=form)
    second = client.post("/recognition/award", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] == "/people/1"
    assert ALREADY in client.get("/recognition").get_data(as_text=True)
    assert entries_given_by(world.manager_a) == 1


def test_finding_12_a_follow_up_sent_twice_is_logged_once(client_as, world, customer):
    client = client_as(world.rep_a)
    form = follow_up_form(submission_token=new_token())
    assert client.post(f"/customers/{customer.id}/follow-ups", data=form).status_code == 303
    again = client.post(f"/customers/{customer.id}/follow-ups", data=form, htmx=True)
    assert again.status_code == 200
    assert ALREADY in json.loads(again.headers["HX-Trigger"])["toast"][-1]["message"]
    assert follow_ups_of(customer) == 1


def test_finding_12_a_form_without_its_token_is_refused_and_offered_again(client_as, world):
    client = client_as(world.manager_a)
    for token in ("", "forged"):
        form = gift(world.rep_a, submission_token=token)
        response = client.post("/recognition/award", data=form)
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and "表单已过期" in html
        assert 'name="submission_token" type="hidden" value="' in html  # a fresh one, to send again
    assert entries_given_by(world.manager_a) == 0


def test_finding_12_a_refused_post_does_not_use_up_its_token(client_as, world):
    client = client_as(world.manager_a)
    form = gift(world.rep_a, submission_token=new_token())
    assert client.post("/recognition/award", data={**form, "points": "100000"}).status_code == 422
    assert client.post("/recognition/award", data=form).status_code == 303
    assert entries_given_by(world.manager_a) == 1


def test_finding_12_each_inline_follow_up_form_has_its_own_token(client_as, world, frozen_clock):
    for name in ("苏州恒达精密机械有限公司", "无锡华光电子有限公司"):
        make_customer(world.rep_a, name, next_follow_up_on=clock.now().date())
    html = client_as(world.rep_a).get("/").get_data(as_text=True)
    tokens = re.findall(r'name="submission_token" type="hidden" value="([\w-]{22})"', html)
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_finding_12_tokens_are_forgotten_after_a_day(client_as, world, frozen_clock):
    start = clock.now()
    client = client_as(world.manager_a)
    client.post("/recognition/award", data=gift(world.rep_a))
    frozen_clock(start + timedelta(hours=23))
    client.post("/recognition/award", data=gift(world.rep_b))
    frozen_clock(start + timedelta(days=1, hours=1))
    run_if_leased("purge-form-submissions")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1
