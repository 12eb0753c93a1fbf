"""A runaway script is stopped, its instance shows why, and the server serves meanwhile."""

from __future__ import annotations

import io
import threading
import time

import pytest

from engine.sandbox import SandboxLimits, pool_for
from tests.samples import process

RUNAWAY = {
    "time": ("for i in range(10 ** 12):\n    pass", "时间限制"),
    "memory": ("s = 'a' * 2 ** 31", "内存超过限制"),
}


def _deploy(api, script):
    files = {"files": [(io.BytesIO(process(script=script)), "sample.bpmn")]}
    r = api.post("/specs/deploy", "admin", data=files, content_type="multipart/form-data")
    assert r.status == 201, r


@pytest.mark.parametrize("kind", sorted(RUNAWAY))
def test_runaway_script_errors_its_instance_while_others_write(app, api, kind):
    script, words = RUNAWAY[kind]
    limits = SandboxLimits(seconds=1.5, memory_mb=128)
    app.extensions["runtime"].sandbox_limits = limits
    _deploy(api, script)
    token = api.login("admin")
    done = threading.Event()
    started: list = []

    def run_runaway():
        client = app.test_client()
        r = client.post(
            "/api/v1/specs/sample/instances",
            json={"data": {"unit_org_id": "yz-water"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        started.append(r)
        done.set()

    runner = threading.Thread(target=run_runaway)
    runner.start()
    waited = 0
    while pool_for(limits).busy == 0 and not done.is_set() and waited < 1000:
        time.sleep(0.01)  # until the script is running in its worker
        waited += 1
    # Writes from other users go on while the script runs: logins (token rows), fee switches.
    writes = []
    for charge in (False, True, False):
        writes.append(api.put("/orgs/yz-water/fee-setting", "yz_water_1", json={"charge": charge}))
    in_time = not done.is_set() if kind == "time" else True
    runner.join(30)
    assert all(w.status == 200 for w in writes), writes
    assert in_time, "the writes waited for the runaway script"
    assert api.get("/orgs/yz-water/fee-setting", "yz_water_1").json["charge"] is False

    (r,) = started
    assert r.status_code == 201, r.get_json()
    instance_id = r.get_json()["instance_id"]
    detail = api.get(f"/ops/instances/{instance_id}", "admin").json
    assert detail["status"] == "error"
    assert words in detail["problem"]
    stuck = api.get("/ops/instances", "admin", query_string={"stuck": "true"}).json["items"]
    assert any(str(i["id"]) == str(instance_id) and words in i["problem"] for i in stuck)
