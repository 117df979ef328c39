"""Finding 11 of the hardening issue: when the gunicorn master dies (SIGKILL, the OOM
killer), its workers leave at once, so the master that systemd restarts two seconds
later can bind the port. Before, the orphans kept it for about 30 s (half the worker
timeout, when their parent check fired) and the restarted master failed three times."""

import os
import signal
import socket
import time

from tests.web.test_faults import wait_until, workers_of


def port_is_free(port):
    """Whether a new master could bind the port (gunicorn binds with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
        return True


def test_finding_11_workers_leave_at_once_when_the_master_dies(gunicorn_server):
    master = gunicorn_server.process
    port = int(gunicorn_server.url.rsplit(":", 1)[1])
    assert wait_until(lambda: len(workers_of(master)) == 4, seconds=30, step=0.1)
    assert not port_is_free(port)
    os.kill(master.pid, signal.SIGKILL)
    master.wait()
    started = time.monotonic()
    assert wait_until(lambda: port_is_free(port), seconds=40, step=0.05)
    seconds = time.monotonic() - started
    assert seconds < 3, f"the port was free only {seconds:.1f} s after the master died"
