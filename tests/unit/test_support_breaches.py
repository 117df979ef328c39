"""The desk's minute job: a warning before each due time and a breach after it, each
recorded and notified once however often (and by however many processes) the job runs;
and resolved requests nobody rated close by themselves."""

import threading

import pytest

from salesdesk import clock, jobs
from salesdesk.extensions import db
from salesdesk.support import breaches, lifecycle
from salesdesk.support.models import EventKind, Request, Status
from tests.fixtures.support import events, file, local, request_in, told

# A normal request filed on Monday 2 March at 10:00 (Shanghai): first response due at
# 18:00 (warned at 17:00), resolution due on Wednesday at 10:00 (warned at 9:00).
RESPONSE_WARN, RESPONSE_DUE = local(2026, 3, 2, 17), local(2026, 3, 2, 18)
RESOLUTION_WARN, RESOLUTION_DUE = local(2026, 3, 4, 9), local(2026, 3, 4, 10)


def reload(request):
    db.session.expire_all()
    return db.session.get(Request, request.id)


def timeline(request, kind):
    return [event.detail for event in events(request, kind)]


def run(moment, times=1):
    """Run the checks at `moment`; how many flags the runs flipped in all."""
    return sum(breaches.check_levels(moment) for _time in range(times))


class TestFirstResponse:
    def test_warned_then_breached_once_each(self, desk):
        request = file(desk.rep_a, desk.queue_a)  # nobody given it: the lead hears
        assert request.response_warn_at == RESPONSE_WARN and request.response_due_at == RESPONSE_DUE
        assert run(local(2026, 3, 2, 16, 59)) == 0
        assert run(RESPONSE_WARN, times=2) == 1
        assert reload(request).response_warned and timeline(request, EventKind.WARNED) == ["response"]
        assert told("support.warned_response") == [desk.lead_a.id]

        assert run(RESPONSE_DUE, times=2) == 1
        breached = reload(request)
        assert breached.response_breached_at == RESPONSE_DUE and breached.breached
        assert timeline(request, EventKind.BREACHED) == ["response"]
        assert told("support.breached_response") == [desk.lead_a.id]
        assert events(request, EventKind.BREACHED)[0].actor_id is None

    def test_the_handler_and_the_leads_are_told(self, desk):
        request = file(desk.rep_a, desk.robin_a)
        run(RESPONSE_DUE)
        assert told("support.breached_response") == sorted({request.handler_id, desk.lead_a.id})
        # Found only after the due time: a breach, no late warning with it.
        assert told("support.warned_response") == [] and events(request, EventKind.WARNED) == []

    def test_the_company_wide_queue_tells_every_lead(self, desk):
        file(desk.rep_a, desk.company)
        run(RESPONSE_WARN)
        assert set(told("support.warned_response")) >= {desk.lead_a.id, desk.lead_b.id}

    def test_no_breach_once_accepted(self, desk):
        request = file(desk.rep_a, desk.queue_a)
        with clock.at(local(2026, 3, 2, 17, 30)):
            lifecycle.accept(desk.support_a, request.id)
        run(local(2026, 3, 2, 19))
        assert reload(request).response_breached_at is None
        assert events(request, EventKind.BREACHED) == []

    def test_a_request_cancelled_unaccepted_is_left_alone(self, desk):
        request = file(desk.rep_a, desk.queue_a)
        lifecycle.cancel(desk.rep_a, request.id)
        assert run(local(2026, 3, 20)) == 0


class TestResolution:
    def test_warned_then_breached_while_the_clock_runs(self, desk):
        request = request_in(desk, Status.IN_PROGRESS)
        assert reload(request).resolution_due_at == RESOLUTION_DUE
        assert run(local(2026, 3, 3, 17), times=2) == 0
        assert run(RESOLUTION_WARN, times=2) == 1
        assert timeline(request, EventKind.WARNED) == ["resolution"]
        assert told("support.warned_resolution") == sorted([desk.support_a.id, desk.lead_a.id])
        assert run(RESOLUTION_DUE, times=2) == 1
        assert reload(request).resolution_breached_at == RESOLUTION_DUE
        assert timeline(request, EventKind.BREACHED) == ["resolution"]
        assert told("support.breached_resolution") == sorted([desk.support_a.id, desk.lead_a.id])

    @pytest.mark.parametrize("status", [Status.RETURNED, Status.RESOLVED, Status.CLOSED, Status.CANCELLED])
    def test_not_while_the_clock_stands(self, desk, status):
        request = request_in(desk, status)
        assert run(local(2026, 3, 20)) == 0
        assert events(request, EventKind.BREACHED) == events(request, EventKind.WARNED) == []

    def test_a_reopened_request_is_timed_again(self, desk):
        request = request_in(desk, Status.RESOLVED)
        run(local(2026, 3, 20))  # resolved: nothing
        with clock.at(local(2026, 3, 3, 10)):
            lifecycle.reopen(desk.rep_a, request.id)
        # Nothing was used at resolving (Monday 10:00): the full 18 hours again.
        assert reload(request).resolution_due_at == local(2026, 3, 5, 10)
        assert run(local(2026, 3, 5, 10)) == 1
        assert timeline(request, EventKind.BREACHED) == ["resolution"]

    def test_a_pause_and_a_resumption_warn_again(self, desk):
        request = request_in(desk, Status.IN_PROGRESS)
        run(RESOLUTION_WARN)
        with clock.at(local(2026, 3, 4, 9, 30)):
            lifecycle.send_back(desk.support_a, request.id, "请补充")
        with clock.at(local(2026, 3, 9, 10)):
            lifecycle.reply(desk.rep_a, request.id, "已补充")
        resumed = reload(request)
        # 1,050 minutes used, 30 left: warned at once, due at 10:30.
        assert not resumed.resolution_warned and resumed.resolution_due_at == local(2026, 3, 9, 10, 30)
        assert run(local(2026, 3, 9, 10)) == 1
        assert timeline(request, EventKind.WARNED) == ["resolution", "resolution"]


def test_two_processes_running_the_job_at_once_flip_each_flag_once(desk, make_app):
    requests = [file(desk.rep_a, desk.queue_a) for _index in range(3)]
    request_ids = [request.id for request in requests]
    db.session.commit()
    apps = [make_app() for _index in range(2)]
    barrier = threading.Barrier(len(apps))
    flipped = [None] * len(apps)

    def worker(index):
        with apps[index].app_context():
            barrier.wait()
            try:
                flipped[index] = breaches.check_levels(RESPONSE_DUE)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(apps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(flipped) == len(request_ids)  # one breach each, whoever flipped it
    db.session.expire_all()
    for request_id in request_ids:
        request = db.session.get(Request, request_id)
        assert timeline(request, EventKind.BREACHED) == ["response"]
    assert told("support.breached_response") == [desk.lead_a.id] * len(request_ids)


def test_the_periodic_job_checks_and_closes_unrated_requests(desk, frozen_clock):
    resolved = request_in(desk, Status.RESOLVED)  # closes itself on Thursday 10:00
    waiting = file(desk.rep_a, desk.queue_a)
    assert jobs.JOBS["support-levels"][1] is breaches.run_support_levels
    frozen_clock(local(2026, 3, 5, 10))
    jobs.run_if_leased("support-levels")
    jobs.run_if_leased("support-levels")  # within the minute: not leased again
    assert reload(resolved).status == Status.CLOSED
    assert events(resolved).count(EventKind.CLOSED) == 1
    assert reload(waiting).response_breached_at is not None
    # A re-run after the interval finds nothing left to do.
    frozen_clock(local(2026, 3, 5, 10, 2))
    assert breaches.run_support_levels() == (0, 0)
