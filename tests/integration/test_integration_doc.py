"""docs/integration.md's curl walkthrough, run line for line against a live server."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.flows import CHAIN, application_at_unit_review, level, pay, unit_approves

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


def _script() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 7
    return "set -euo pipefail\n" + "\n".join(blocks)


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    # shutdown() waits for serve_forever's next look at its flag: look often.
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


@pytest.mark.skipif(not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq")
def test_the_integration_walkthrough_runs_as_written(api, server, tmp_path):
    # One application that has passed every level and paid; two waiting at the first level.
    unit, person, done = application_at_unit_review(api)
    unit_approves(api, unit, done)
    for org in CHAIN:
        level(api, org, done)
    pay(api, person, done)
    waiting = []
    for _ in range(2):
        unit, person, app_id = application_at_unit_review(api)
        unit_approves(api, unit, app_id)
        waiting.append(app_id)

    env = {
        "PATH": "/usr/bin:/bin",
        "ZP": server,
        "USERNAME": "yz_water_1",
        "PASSWORD": "yzw-Pass-1",
        "APP": done,
    }
    run = subprocess.run(
        ["bash", "-c", _script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert '"user": "yz_water_1"' in out and '"expires_at"' in out
    assert '"next": [\n    "recommend"\n  ]' in out
    assert '"done": 1' in out and '"failed": 0' in out
    pdf = tmp_path / f"review-form-{done}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    assert '"valid": true' in out and '"applicant": "李*"' in out
    assert out.rstrip().endswith("204")
    # The walkthrough's approval moved one of the waiting applications up a level.
    assert len(api.tasks("yz_hrss_1", name="level_review")) == 1
