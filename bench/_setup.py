"""What the API benchmarks share: a migrated, deployed app on a temporary database with the
test organisations loaded, and the tests' API client for it."""

from __future__ import annotations

import datetime
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_api(url: str | None = None) -> Any:
    """An Api client on a fresh app: on ``url`` (an empty database), else
    ZHIPING_BENCH_DATABASE_URL when set, else SQLite in a temporary folder."""
    tmp = Path(tempfile.mkdtemp(prefix="zp-bench-"))
    os.environ["ZHIPING_INSTANCE_DIR"] = str(tmp / "instance")
    url = url or os.environ.get("ZHIPING_BENCH_DATABASE_URL", f"sqlite:///{tmp / 'bench.db'}")

    from tests.helpers import Api
    from web import create_app
    from web.cli import prepare

    app = create_app(
        {
            "DATABASE_URL": url,
            "RATELIMIT_ENABLED": False,
            "PASSWORD_SCRYPT_N": 256,
            "FILES_DIR": str(tmp / "files"),
        }
    )
    logging.disable(logging.INFO)
    prepare(app)
    with app.app_context():
        doc = json.loads((ROOT / "tests" / "fixtures" / "orgs.json").read_text())
        app.extensions["accounts"].load_orgs(doc)
        open_cycles_now(app)
    return Api(app)


def open_cycles_now(app: Any) -> None:
    """Filing needs an open annual cycle: open one for every committee, from a year ago to a
    year ahead of today, as the platform's administrator of the test organisations."""
    today = datetime.date.today()
    window = {
        "year": today.year,
        "opens_on": (today - datetime.timedelta(days=365)).isoformat(),
        "closes_on": (today + datetime.timedelta(days=365)).isoformat(),
    }
    admin = app.extensions["accounts"].login("admin", "Adm-Pass-1")
    for committee in app.extensions["designer_forms"].current_committees().committees:
        app.extensions["cycles"].open_cycle(committee.id, window, admin)


def stop_group(proc: Any, timeout: float = 30) -> None:
    """Stop a process started in its own group (SIGTERM, then SIGKILL after ``timeout``)."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def cpu_busy_seconds() -> float:
    """CPU time the whole machine has spent busy since boot, all CPUs together (Linux,
    /proc/stat: user, nice, system, irq, softirq and steal; idle and iowait left out)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, all its threads (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
