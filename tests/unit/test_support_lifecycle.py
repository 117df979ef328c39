"""The support desk's services: filing (checks, routing), every step from every state by
the right person, the wrong one and someone who cannot see the request, who sees what,
the service-level clock, ratings, reopening, closing by itself, and two support users
accepting one request at the same moment."""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from salesdesk import clock, signals
from salesdesk.auth.models import User
from salesdesk.database import write_transaction
from salesdesk.errors import Conflict, DomainError, Forbidden, NotFound
from salesdesk.extensions import db
from salesdesk.support import access, levels, lifecycle, requests
from salesdesk.support.models import Event, EventKind, Request, Routing, Status
from tests.fixtures.ledger import make_customer
from tests.fixtures.support import (
    MONDAY_10,
    count,
    draft,
    events,
    file,
    local,
    make_type,
    request_in,
    told,
)


def reload(request):
    db.session.expire_all()
    return db.session.get(Request, request.id)


# ---- filing ---------------------------------------------------------------------------


class TestFiling:
    def test_filed_timed_and_announced(self, desk):
        customer = make_customer(desk.rep_a, "宁波海港物流有限公司")
        request = file(desk.rep_a, desk.robin_a, customer_id=customer.id, needed_by=date(2026, 3, 2))
        request = reload(request)
        assert (request.status, request.team_id, request.customer_id) == (
            Status.NEW,
            desk.team_a.id,
            customer.id,
        )
        assert request.handler_id is not None and request.version == 1
        assert request.response_due_at == local(2026, 3, 2, 18)  # 8 working hours
        assert request.next_due_at == request.response_due_at
        assert events(request) == [EventKind.FILED]
        assert told("support.filed") == [request.handler_id]

    def test_the_lead_hears_of_requests_nobody_was_given(self, desk):
        file(desk.rep_a, desk.queue_a)
        assert told("support.filed") == [desk.lead_a.id]

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"type_id": 999_999}, "type_id"),
            ({"type_id": "合同"}, "type_id"),
            ({"type_id": None}, "type_id"),
            ({"title": "   "}, "title"),
            ({"title": "长" * 121}, "title"),
            ({"details": "长" * 20_001}, "details"),
            ({"needed_by": date(2026, 3, 1)}, "needed_by"),
            ({"priority": "critical"}, "priority"),
            ({"priority": None}, "priority"),
            ({"customer_id": 999_999}, "customer_id"),
            ({"customer_id": -1}, "customer_id"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_saved(self, desk, fields, field):
        with pytest.raises(DomainError) as refused:
            requests.file_request(desk.rep_a, draft(desk.queue_a, **fields))
        assert refused.value.field == field
        assert count(Request) == count(Event) == 0

    def test_a_retired_type_is_refused(self, desk):
        with pytest.raises(DomainError) as refused:
            file(desk.rep_a, desk.retired)
        assert refused.value.field == "type_id" and count(Request) == 0

    def test_a_customer_the_requester_may_not_see_is_refused(self, desk):
        theirs = make_customer(desk.rep_b, "广州南方贸易有限公司")
        with pytest.raises(DomainError) as refused:
            file(desk.rep_a, desk.queue_a, customer_id=theirs.id)
        assert refused.value.field == "customer_id" and count(Request) == 0

    def test_needed_by_today_is_fine(self, desk):
        assert file(desk.rep_a, desk.queue_a, needed_by=date(2026, 3, 2)).needed_by == date(2026, 3, 2)

    def test_only_sellers_and_admins_file(self, desk):
        with pytest.raises(Forbidden):
            file(desk.support_a, desk.queue_a)
        assert file(desk.admin, desk.queue_a).requester_id == desk.admin.id
        assert file(desk.manager_b, desk.queue_a).team_id == desk.team_a.id


class TestRouting:
    def handlers(self, desk, request_type, times):
        return [file(desk.rep_a, request_type).handler_id for _time in range(times)]

    def test_round_robin_cycles_through_the_queue(self, desk):
        queue = sorted([desk.support_a.id, desk.support_a2.id, desk.lead_a.id])
        assert self.handlers(desk, desk.robin_a, 4) == [*queue, queue[0]]

    def test_least_open_goes_to_whoever_has_fewest(self, desk):
        company = sorted(
            [desk.support_a.id, desk.support_a2.id, desk.lead_a.id, desk.support_b.id, desk.lead_b.id]
        )
        first = self.handlers(desk, desk.company, 5)
        assert sorted(first) == company  # one each
        # The lowest id closes theirs: the next request goes to them again.
        done = db.session.scalar(select(Request).where(Request.handler_id == company[0]))
        lifecycle.cancel(desk.rep_a, done.id)
        assert self.handlers(desk, desk.company, 1) == [company[0]]

    def test_the_lead_picks(self, desk):
        assert self.handlers(desk, desk.queue_a, 2) == [None, None]

    def test_no_active_support_users_no_handler(self, desk, world):
        with write_transaction():
            for user in (desk.support_b, desk.lead_b):
                user.active = False
        empty = make_type("团队B报价", world.team_b, Routing.ROUND_ROBIN)
        assert self.handlers(desk, empty, 1) == [None]
        assert told("support.filed") == []  # nobody left to tell


# ---- every step from every state ------------------------------------------------------


def _accept(desk, actor, request):
    return lifecycle.accept(actor, request.id)


def _assign(desk, actor, request):
    return lifecycle.assign(actor, request.id, desk.support_a2.id)


def _reply(desk, actor, request):
    return lifecycle.reply(actor, request.id, "收到，我下午补充")


def _note(desk, actor, request):
    return lifecycle.reply(actor, request.id, "内部：先别承诺交期", internal=True)


def _return(desk, actor, request):
    return lifecycle.send_back(actor, request.id, "请补充客户的付款记录")


def _resolve(desk, actor, request):
    return lifecycle.resolve(actor, request.id, "条款已审核")


def _confirm(desk, actor, request):
    return lifecycle.confirm(actor, request.id, 5, "很及时")


def _reopen(desk, actor, request):
    return lifecycle.reopen(actor, request.id, "客户又改了条款")


def _cancel(desk, actor, request):
    return lifecycle.cancel(actor, request.id)


EVERY_STATE = frozenset(Status)
# step: (service call, the states it applies in, who may, who sees but may not, the
# event it records, the state it leaves, None: the state stays)
STEPS = {
    "accept": (_accept, {Status.NEW}, "support_a", "rep_a", EventKind.ACCEPTED, Status.IN_PROGRESS),
    "assign": (_assign, Status.OPEN, "lead_a", "support_a", EventKind.ASSIGNED, None),
    "reply": (_reply, Status.OPEN | {Status.RESOLVED}, "rep_a", None, EventKind.REPLY, None),
    "note": (_note, EVERY_STATE - {Status.CANCELLED}, "support_a", "rep_a", EventKind.NOTE, None),
    "return": (_return, {Status.IN_PROGRESS}, "support_a", "rep_a", EventKind.RETURNED, Status.RETURNED),
    "resolve": (_resolve, {Status.IN_PROGRESS}, "support_a", "rep_a", EventKind.RESOLVED, Status.RESOLVED),
    "confirm": (_confirm, {Status.RESOLVED}, "rep_a", "support_a", EventKind.CONFIRMED, Status.CLOSED),
    "reopen": (
        _reopen,
        {Status.RESOLVED, Status.CLOSED},
        "rep_a",
        "support_a",
        EventKind.REOPENED,
        Status.IN_PROGRESS,
    ),
    "cancel": (_cancel, Status.OPEN, "rep_a", "support_a", EventKind.CANCELLED, Status.CANCELLED),
}
OUTSIDERS = ["rep_a2", "rep_b", "manager_b", "support_b", "lead_b"]


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_from_each_state(desk, step, status):
    call, allowed, right, _wrong, kind, after = STEPS[step]
    request = request_in(desk, status)
    before = (len(events(request)), request.version)
    if status not in allowed:
        with pytest.raises(Conflict):
            call(desk, getattr(desk, right), request)
        request = reload(request)
        assert (request.status, (len(events(request)), request.version)) == (status, before)
        return
    call(desk, getattr(desk, right), request)
    request = reload(request)
    # The requester's answer to a request sent back puts it back in the handler's hands.
    resumed = step == "reply" and status == Status.RETURNED
    assert request.status == (Status.IN_PROGRESS if resumed else after or status)
    assert events(request)[-1] == kind and len(events(request)) == before[0] + 1
    assert request.version == before[1] + 1


@pytest.mark.parametrize("step", [step for step, spec in STEPS.items() if spec[3]])
def test_someone_who_sees_it_but_may_not_is_forbidden(desk, step):
    call, allowed, _right, wrong, _kind, _after = STEPS[step]
    status = next(status for status in Status if status in allowed)
    request = request_in(desk, status)
    before = len(events(request))
    with pytest.raises(Forbidden):
        call(desk, getattr(desk, wrong), request)
    assert reload(request).status == status and len(events(request)) == before


@pytest.mark.parametrize("outsider", OUTSIDERS)
@pytest.mark.parametrize("step", list(STEPS))
def test_someone_who_cannot_see_it_is_told_it_does_not_exist(desk, step, outsider):
    call, allowed, *_rest = STEPS[step]
    status = next(status for status in Status if status in allowed)
    request = request_in(desk, status)
    with pytest.raises(NotFound):
        call(desk, getattr(desk, outsider), request)
    with pytest.raises(NotFound):
        requests.get_request_for(getattr(desk, outsider), request.id)


class TestWhoTakesWhichStep:
    def test_a_routed_request_is_its_handlers_to_accept_or_the_leads(self, desk):
        routed = file(desk.rep_a, desk.robin_a)
        handler = db.session.get(User, routed.handler_id)
        others = [user for user in (desk.support_a, desk.support_a2) if user.id != handler.id]
        with pytest.raises(Forbidden):
            lifecycle.accept(others[0], routed.id)
        lead_taken = file(desk.rep_a, desk.robin_a)
        assert lifecycle.accept(desk.lead_a, lead_taken.id).handler_id == desk.lead_a.id
        assert lifecycle.accept(handler, routed.id).handler_id == handler.id

    def test_accepting_tells_the_requester(self, desk):
        request = file(desk.rep_a, desk.queue_a)
        lifecycle.accept(desk.support_a, request.id)
        assert told("support.accepted") == [desk.rep_a.id]

    def test_admins_assign_return_and_resolve_but_do_not_accept(self, desk):
        request = file(desk.rep_a, desk.queue_a)
        with pytest.raises(Forbidden):
            lifecycle.accept(desk.admin, request.id)
        lifecycle.assign(desk.admin, request.id, desk.support_a.id)
        lifecycle.accept(desk.support_a, request.id)
        lifecycle.send_back(desk.admin, request.id, "请补充")
        lifecycle.reply(desk.rep_a, request.id, "已补充")
        assert lifecycle.resolve(desk.admin, request.id, "已处理").status == Status.RESOLVED

    def test_assigning_records_who_from_and_to_and_tells_the_new_handler(self, desk):
        request = request_in(desk, Status.IN_PROGRESS)
        lifecycle.assign(desk.lead_a, request.id, desk.support_a2.id)
        assert reload(request).handler_id == desk.support_a2.id
        assert events(request, EventKind.ASSIGNED)[0].detail == "赵支持 → 钱支持"
        assert told("support.assigned") == [desk.support_a2.id]

    @pytest.mark.parametrize("handler", ["support_b", "rep_a", "support_a", None])
    def test_assign_only_to_another_support_user_of_the_queue(self, desk, handler):
        request = request_in(desk, Status.IN_PROGRESS)  # support_a handles it
        with pytest.raises(DomainError) as refused:
            lifecycle.assign(desk.lead_a, request.id, getattr(desk, handler).id if handler else None)
        assert refused.value.field == "handler_id" and reload(request).handler_id == desk.support_a.id

    def test_the_requesters_manager_replies_and_writes_notes(self, desk):
        request = request_in(desk, Status.IN_PROGRESS)
        lifecycle.reply(desk.manager_a, request.id, "我来补充一下背景")
        lifecycle.reply(desk.manager_a, request.id, "内部：重点客户", internal=True)
        assert events(request)[-2:] == [EventKind.REPLY, EventKind.NOTE]
        with pytest.raises(Forbidden):
            lifecycle.resolve(desk.manager_a, request.id, "已处理")

    @pytest.mark.parametrize("step", [_return, _resolve])
    def test_return_and_resolve_need_a_message(self, desk, step):
        request = request_in(desk, Status.IN_PROGRESS)
        with pytest.raises(DomainError) as refused:
            lifecycle.send_back(desk.support_a, request.id, "  ") if step is _return else lifecycle.resolve(
                desk.support_a, request.id, ""
            )
        assert refused.value.field == "body" and reload(request).status == Status.IN_PROGRESS


# ---- who sees what --------------------------------------------------------------------


def test_the_visible_clause_agrees_with_may_see(desk, world):
    team_b_type = make_type("团队B合同", world.team_b, Routing.LEAD)
    filed = [
        request_in(desk, Status.IN_PROGRESS),  # team A's queue, support_a handles it
        file(desk.rep_a2, desk.queue_a),
        file(desk.rep_b, desk.queue_a),  # another team's rep asking team A's support
        file(desk.rep_b, desk.company),
        file(desk.rep_a, team_b_type),
        file(desk.manager_b, team_b_type),
        file(desk.admin, desk.company),
    ]
    # A handler who has since moved to another team still sees the request they hold.
    with write_transaction():
        filed[2].handler_id = desk.support_b.id
    everyone = db.session.scalars(select(User)).all()
    all_requests = db.session.scalars(select(Request)).all()
    for user in everyone:
        listed = set(db.session.scalars(select(Request.id).where(access.visible_clause(user, Request))))
        allowed = {request.id for request in all_requests if access.may_see(user, request)}
        assert listed == allowed, user.email
    assert {request.id for request in all_requests if access.may_see(desk.manager_a, request)} == {
        filed[0].id,
        filed[1].id,
        filed[4].id,
    }
    assert access.may_see(desk.support_b, filed[2]) and not access.may_see(desk.support_b, filed[1])


# ---- the clock ------------------------------------------------------------------------


class TestClock:
    def test_due_times_skip_the_weekend(self, desk, frozen_clock):
        frozen_clock(local(2026, 3, 6, 17))  # Friday 17:00
        normal = reload(file(desk.rep_a, desk.queue_a))
        assert (normal.response_warn_at, normal.response_due_at) == (
            local(2026, 3, 9, 15),
            local(2026, 3, 9, 16),
        )
        assert (normal.resolution_warn_at, normal.resolution_due_at) == (
            local(2026, 3, 10, 16),
            local(2026, 3, 10, 17),
        )
        urgent = reload(file(desk.rep_a, desk.queue_a, priority="urgent"))
        assert (urgent.response_warn_at, urgent.response_due_at) == (
            local(2026, 3, 6, 18),
            local(2026, 3, 9, 10),
        )
        assert urgent.resolution_due_at == local(2026, 3, 9, 12)

    @pytest.mark.parametrize(("accepted", "minutes", "met"), [((9, 10), 120, True), ((9, 17), 540, False)])
    def test_accepting_records_the_first_response(self, desk, frozen_clock, accepted, minutes, met):
        frozen_clock(local(2026, 3, 6, 17))
        request = file(desk.rep_a, desk.queue_a)
        frozen_clock(local(2026, 3, *accepted))
        request = reload(lifecycle.accept(desk.support_a, request.id))
        assert (request.response_minutes, request.response_met) == (minutes, met)
        assert request.accepted_at == local(2026, 3, *accepted)
        assert request.next_due_at == request.resolution_due_at

    def test_returning_pauses_a_reply_resumes_resolving_stops_reopening_resumes(self, desk):
        request = file(desk.rep_a, desk.queue_a)  # Monday 10:00
        with clock.at(local(2026, 3, 2, 11)):
            lifecycle.accept(desk.support_a, request.id)
        with clock.at(local(2026, 3, 2, 12)):
            lifecycle.send_back(desk.support_a, request.id, "请补充客户的付款记录")
        paused = reload(request)
        assert (paused.elapsed_minutes, paused.clock_started_at) == (120, None)
        assert paused.resolution_due_at is paused.next_due_at is None
        assert levels.remaining_minutes(paused, local(2026, 3, 20), None) is None

        with clock.at(local(2026, 3, 4, 10)):  # two days later the requester answers
            lifecycle.reply(desk.rep_a, request.id, "付款记录见附件")
        resumed = reload(request)
        assert resumed.status == Status.IN_PROGRESS and resumed.clock_started_at == local(2026, 3, 4, 10)
        # 1,080 minutes less the 120 used: 480 on Wednesday, 480 on Thursday.
        assert resumed.resolution_due_at == resumed.next_due_at == local(2026, 3, 5, 17)

        with clock.at(local(2026, 3, 5, 9, 30)):
            lifecycle.resolve(desk.support_a, request.id, "已处理")
        resolved = reload(request)
        assert (resolved.resolution_minutes, resolved.resolution_met) == (120 + 480 + 30, True)
        assert resolved.clock_started_at is resolved.next_due_at is None
        assert resolved.auto_close_at == local(2026, 3, 10, 9, 30)  # three working days

        with clock.at(local(2026, 3, 6, 10)):
            lifecycle.reopen(desk.rep_a, request.id)
        reopened = reload(request)
        assert reopened.status == Status.IN_PROGRESS and reopened.elapsed_minutes == 630
        assert reopened.resolution_minutes is reopened.resolution_met is reopened.auto_close_at is None
        assert reopened.resolution_due_at == local(2026, 3, 6, 17, 30)  # the 450 minutes left

    def test_a_late_resolution_is_recorded_as_missed(self, desk):
        request = request_in(desk, Status.IN_PROGRESS)
        with clock.at(local(2026, 3, 5, 10)):
            lifecycle.resolve(desk.support_a, request.id, "已处理")
        resolved = reload(request)
        assert (resolved.resolution_minutes, resolved.resolution_met) == (3 * 540, False)

    def test_cancelling_stops_every_clock(self, desk):
        request = reload(lifecycle.cancel(desk.rep_a, file(desk.rep_a, desk.queue_a).id))
        assert request.clock_started_at is request.next_due_at is None
        assert request.closed_at == MONDAY_10


# ---- rating, reopening, closing by itself ---------------------------------------------


class TestConfirming:
    @pytest.mark.parametrize("rating", [0, 6, -1, "5", True, None, 4.5])
    def test_only_one_to_five_stars(self, desk, rating):
        request = request_in(desk, Status.RESOLVED)
        with pytest.raises(DomainError) as refused:
            lifecycle.confirm(desk.rep_a, request.id, rating)
        assert refused.value.field == "rating"
        assert reload(request).status == Status.RESOLVED and events(request, EventKind.CONFIRMED) == []

    def test_a_long_comment_is_refused(self, desk):
        request = request_in(desk, Status.RESOLVED)
        with pytest.raises(DomainError) as refused:
            lifecycle.confirm(desk.rep_a, request.id, 4, "长" * 501)
        assert refused.value.field == "comment"

    @pytest.mark.parametrize(("rating", "announced"), [(5, True), (4, False)])
    def test_five_stars_are_announced_to_recognition(self, desk, rating, announced):
        request = request_in(desk, Status.RESOLVED)
        heard = []

        def receiver(sender, **kwargs):
            heard.append((sender.id, kwargs["rating"]))

        with signals.support_rated.connected_to(receiver):
            lifecycle.confirm(desk.rep_a, request.id, rating, "很及时")
        assert heard == ([(request.id, 5)] if announced else [])
        closed = reload(request)
        assert (closed.status, closed.rating, closed.rating_comment) == (Status.CLOSED, rating, "很及时")
        assert events(request, EventKind.CONFIRMED)[0].detail == str(rating)
        assert told("support.confirmed") == [desk.support_a.id]


class TestReopening:
    def closed_monday(self, desk):
        request = request_in(desk, Status.CLOSED)  # everything at Monday 10:00
        assert reload(request).closed_at == MONDAY_10
        return request

    def test_within_seven_days(self, desk, frozen_clock):
        request = self.closed_monday(desk)
        frozen_clock(MONDAY_10 + timedelta(days=7))
        assert lifecycle.reopen(desk.rep_a, request.id).status == Status.IN_PROGRESS
        assert told("support.reopened") == [desk.support_a.id]

    def test_not_after_seven_days(self, desk, frozen_clock):
        request = self.closed_monday(desk)
        frozen_clock(MONDAY_10 + timedelta(days=7, minutes=1))
        with pytest.raises(DomainError) as refused:
            lifecycle.reopen(desk.rep_a, request.id)
        assert "7" in refused.value.message
        assert reload(request).status == Status.CLOSED and events(request, EventKind.REOPENED) == []


class TestClosingUnrated:
    def test_after_three_working_days_once(self, desk):
        request = request_in(desk, Status.RESOLVED)  # Monday 10:00
        assert reload(request).auto_close_at == local(2026, 3, 5, 10)
        assert lifecycle.close_unrated(local(2026, 3, 5, 9, 59)) == 0
        assert lifecycle.close_unrated(local(2026, 3, 5, 10)) == 1
        assert lifecycle.close_unrated(local(2026, 3, 5, 10, 1)) == 0
        closed = reload(request)
        assert (closed.status, closed.rating, closed.closed_at) == (
            Status.CLOSED,
            None,
            local(2026, 3, 5, 10),
        )
        assert events(request, EventKind.CLOSED)[0].actor_id is None
        assert events(request).count(EventKind.CLOSED) == 1

    def test_a_confirmed_or_reopened_request_stays(self, desk):
        confirmed = request_in(desk, Status.CLOSED)
        reopened = request_in(desk, Status.RESOLVED)
        lifecycle.reopen(desk.rep_a, reopened.id)
        assert lifecycle.close_unrated(local(2026, 4, 1)) == 0
        assert reload(confirmed).rating == 4 and reload(reopened).status == Status.IN_PROGRESS


# ---- two at once ----------------------------------------------------------------------


def test_two_support_users_accepting_at_once_leave_one_handler(desk, make_app):
    request = file(desk.rep_a, desk.queue_a)
    request_id, user_ids = request.id, (desk.support_a.id, desk.support_a2.id)
    db.session.commit()
    apps = [make_app() for _user in user_ids]  # built one after the other (see test_kb_concurrency)
    barrier = threading.Barrier(len(user_ids))
    outcomes = [None] * len(user_ids)

    def worker(index):
        with apps[index].app_context():
            actor = db.session.get(User, user_ids[index])
            barrier.wait()
            try:
                lifecycle.accept(actor, request_id)
                outcomes[index] = "accepted"
            except Conflict:
                outcomes[index] = "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["accepted", "conflict"]
    accepted = reload(request)
    assert accepted.handler_id == user_ids[outcomes.index("accepted")]
    assert (accepted.status, accepted.version) == (Status.IN_PROGRESS, 2)
    assert events(accepted, EventKind.ACCEPTED)[0].actor_id == accepted.handler_id
    assert len(events(accepted, EventKind.ACCEPTED)) == 1
    assert told("support.accepted") == [desk.rep_a.id]
