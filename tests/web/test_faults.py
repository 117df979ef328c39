"""Crashes: a gunicorn worker killed (SIGKILL) in the middle of an import commit and in
the middle of a claim storm. gunicorn starts a new worker; nothing is half-written, no
customer has two owners or a missing history row, and the work can be done again."""

import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from salesdesk import clock
from salesdesk.extensions import db
from salesdesk.ledger.models import Customer, ImportJob, OwnershipChange
from tests.fixtures.ledger import make_customer
from tests.helpers import LiveClient, make_user
from tests.web.test_ledger_import import HEADERS, csv_bytes

IMPORT_ROWS = 2000


def workers_of(master):
    """The pids of the master's worker processes."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master.pid:
                children.append(int(entry))
    return children


def kill_workers(master, count=None):
    victims = workers_of(master)[:count]
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    return victims


def wait_until(condition, seconds=60, step=0.01):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def wait_for_respawn(master, killed):
    assert wait_until(lambda: len(set(workers_of(master)) - set(killed)) == 4, seconds=60, step=0.2), (
        "gunicorn did not start new workers"
    )


def job_state(job_id):
    db.session.rollback()
    return db.session.execute(
        select(ImportJob.status, ImportJob.processed_rows, ImportJob.total_rows).where(ImportJob.id == job_id)
    ).one()


def imported_count():
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(Customer.name.like("断电测试%")))


def import_rows():
    rows = []
    for number in range(IMPORT_ROWS):
        row = [""] * len(HEADERS)
        row[0] = f"断电测试{number:05d}贸易有限公司"
        row[1] = "王总"
        row[2] = f"139{number:08d}"
        rows.append(row)
    return rows


def map_and_preview(client, job_id):
    # The upload waits 1.5 s for the file to be read; a busy machine can take longer.
    assert wait_until(lambda: job_state(job_id).status != "reading", seconds=60, step=0.2)
    mapping = {
        f"map-{field}": str(index) for field, index in db.session.get(ImportJob, job_id).mapping.items()
    }
    assert client.post(f"/customers/import/{job_id}/mapping", data=mapping).status_code == 303
    assert wait_until(lambda: job_state(job_id).status == "previewed", seconds=180, step=0.2), job_state(
        job_id
    )


def test_a_worker_killed_during_an_import_commit_leaves_nothing_half_written(world, gunicorn_server):
    client = LiveClient(gunicorn_server.url, world.rep_a.email)
    upload = client.post(
        "/customers/import", files={"file": ("客户.csv", csv_bytes(rows=import_rows()), "text/csv")}
    )
    assert upload.status_code == 303, upload.text
    job_id = int(upload.headers["Location"].split("/")[3])
    map_and_preview(client, job_id)

    assert client.post(f"/customers/import/{job_id}/commit").status_code == 303
    # The commit marks 3/4 progress just before its one write transaction: kill then.
    assert wait_until(lambda: job_state(job_id).processed_rows >= IMPORT_ROWS * 3 // 4, step=0.005)
    killed = kill_workers(gunicorn_server.process)
    assert job_state(job_id).status == "committing", "the kill came too late to test anything"
    wait_for_respawn(gunicorn_server.process, killed)
    client.close()

    # All or nothing: the transaction died with the worker.
    assert imported_count() == 0
    assert job_state(job_id).status == "committing"

    # After a while the job counts as abandoned, and the user runs it again.
    db.session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id)
        .values(heartbeat_at=clock.now() - timedelta(minutes=10))
    )
    db.session.commit()
    client = LiveClient(gunicorn_server.url, world.rep_a.email)
    map_and_preview(client, job_id)
    assert client.post(f"/customers/import/{job_id}/commit").status_code == 303
    assert wait_until(lambda: job_state(job_id).status == "done", seconds=180, step=0.2), job_state(job_id)
    assert imported_count() == IMPORT_ROWS
    client.close()


def test_a_worker_killed_during_a_claim_storm_leaves_one_owner_and_full_history(world, gunicorn_server):
    customers = [make_customer(world.manager_a, f"风暴{n}号科技有限公司", pool=True) for n in range(30)]
    ids = [customer.id for customer in customers]
    reps = [make_user(f"crash{n}@test.example", "rep", world.team_a) for n in range(30)]
    clients = [LiveClient(gunicorn_server.url, rep.email) for rep in reps]
    barrier = threading.Barrier(len(clients))
    answered = []
    halfway = threading.Event()

    def storm(client):
        barrier.wait()
        statuses = []
        for customer_id in random.sample(ids, 6):
            try:
                statuses.append(client.post(f"/customers/{customer_id}/claim").status_code)
            except httpx.TransportError:
                statuses.append("lost")  # its worker was killed mid-request
            answered.append(1)
            if len(answered) >= 40:
                halfway.set()
        return statuses

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(storm, client) for client in clients]
        assert halfway.wait(120)
        killed = kill_workers(gunicorn_server.process, count=2)
        results = [future.result() for future in futures]
    for client in clients:
        client.close()
    wait_for_respawn(gunicorn_server.process, killed)

    statuses = [status for result in results for status in result]
    assert {s for s in statuses if s != "lost"} <= {303, 409}, statuses
    db.session.rollback()
    owners = dict(
        db.session.execute(select(Customer.id, Customer.owner_id).where(Customer.id.in_(ids))).all()
    )
    history = db.session.execute(
        select(OwnershipChange.customer_id, OwnershipChange.reason, OwnershipChange.to_user_id)
        .where(OwnershipChange.customer_id.in_(ids))
        .order_by(OwnershipChange.customer_id, OwnershipChange.id)
    ).all()
    claims = [row for row in history if row.reason == "claim"]
    claimed = {row.customer_id for row in claims}
    # Every owner came with exactly one claim row naming them; no claim without an owner.
    assert len(claims) == len(claimed)
    for customer_id, owner_id in owners.items():
        rows = [row for row in history if row.customer_id == customer_id]
        # A customer created straight into the pool has no history until someone claims it.
        last_owner = rows[-1].to_user_id if rows else None
        assert last_owner == owner_id, (customer_id, rows, owner_id)
        assert (owner_id is not None) == (customer_id in claimed)
    assert statuses.count(303) <= len(claimed) <= statuses.count(303) + statuses.count("lost")

    # The restarted service works: a rep claims what is left, or is refused cleanly.
    client = LiveClient(gunicorn_server.url, world.rep_a.email)
    left = [customer_id for customer_id, owner in owners.items() if owner is None]
    if left:
        assert client.post(f"/customers/{left[0]}/claim").status_code == 303
    assert client.get("/").status_code == 200
    client.close()
