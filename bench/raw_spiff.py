"""Baseline: the same step without HTTP or a database — load the instance-only state,
complete the applicant's form, run the engine, serialize. Run by hand:

    .venv/bin/python bench/raw_spiff.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import runtime  # noqa: E402
from engine.functions import REGISTERED  # noqa: E402
from engine.scripts import script_engine  # noqa: E402
from tests.flows import APPLICATION_FORM  # noqa: E402


def _stub_functions() -> dict[str, Any]:
    """The registered functions with no database behind them: what the submit step calls
    answers as for a fresh applicant, the rest do nothing."""
    table: dict[str, Any] = {name: (lambda *a, **k: None) for name in REGISTERED}
    table["current_dossier"] = lambda *a, **k: {}
    return table


_PREPARED: dict[str, Any] = {}


def _prepared() -> dict[str, Any]:
    """The parsed diagram, the serializer, the sandboxed script engine and the state of an
    instance waiting at the applicant's form (built once per process)."""
    if not _PREPARED:
        root = runtime.parse_xml((ROOT / "bpmn" / "title_application.bpmn").read_bytes())
        loaded = runtime.load_spec("title_application", root, "title_application.bpmn")
        serializer = runtime.make_serializer(lambda _key: loaded)
        engine = script_engine(_stub_functions())
        start = {"application_id": 1, "applicant_user_id": 1, "unit_org_id": "u", "dossier": {}}
        wf = runtime.new_workflow(loaded, "1", start, engine)
        runtime.advance(wf)
        _PREPARED.update(serializer=serializer, engine=engine, state=runtime.dump(serializer, wf))
    return _PREPARED


def raw_samples(rounds: int) -> list[float]:
    """Seconds of ``rounds`` raw steps: load, complete submit_application, run, dump."""
    prepared = _prepared()
    serializer, engine, state = prepared["serializer"], prepared["engine"], prepared["state"]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        wf = runtime.load(serializer, state, engine)
        task = runtime.snapshot(wf).ready[0]
        task.data.update(APPLICATION_FORM)
        task.run()
        runtime.advance(wf)
        runtime.dump(serializer, wf)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    samples = raw_samples(200)
    print(
        f"raw step (load, complete submit_application, run, dump): median "
        f"{statistics.median(samples) * 1000:.2f} ms, state {len(_prepared()['state'])} bytes"
    )


if __name__ == "__main__":
    main()
