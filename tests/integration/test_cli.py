"""run.py commands on a fresh instance directory (SQLite), as an operator would type them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from run import cli
from tests.samples import process


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHIPING_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("ZHIPING_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ZHIPING_PASSWORD_SCRYPT_N", "256")
    return CliRunner()


def _orgs(tmp_path, name="鄞州区农业农村局(水利)", parent="yz-hrss"):
    doc = {
        "orgs": [
            {"id": "nb-hrss", "name": "宁波市人社局", "kind": "hrss", "parent": None},
            {"id": "yz-water", "name": name, "kind": "dept", "parent": parent},
            {"id": "yz-hrss", "name": "鄞州区人社局", "kind": "hrss", "parent": "nb-hrss"},
            {"id": "platform", "name": "平台", "kind": "platform", "parent": None},
        ],
        "users": [{"username": "yz1", "password": "pw-123456", "role": "dept", "org": "yz-water"}],
    }
    path = tmp_path / "orgs.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_orgs_load_is_idempotent_and_updates_changes(runner, tmp_path):
    first = runner.invoke(cli, ["orgs", "load", str(_orgs(tmp_path))])
    assert first.exit_code == 0, first.output
    assert "orgs_created 4" in first.output and "users_created 1" in first.output
    again = runner.invoke(cli, ["orgs", "load", str(_orgs(tmp_path))])
    assert "orgs_created 0, orgs_updated 0, users_created 0, users_updated 0" in again.output
    changed = runner.invoke(
        cli, ["orgs", "load", str(_orgs(tmp_path, name="鄞州区水利局", parent="nb-hrss"))]
    )
    assert "orgs_updated 1" in changed.output


def test_orgs_load_reports_bad_file(runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"orgs": [{"id": "a", "name": "A", "kind": "ministry", "parent": "missing"}]}),
        encoding="utf-8",
    )
    result = runner.invoke(cli, ["orgs", "load", str(path)])
    assert result.exit_code != 0
    assert "kind must be one of" in result.output and "unknown parent" in result.output


def test_bpmn_validate_lists_problems_with_lines_and_exits_1(runner, tmp_path):
    good = runner.invoke(cli, ["bpmn", "validate"])
    assert good.exit_code == 0 and "ok" in good.output
    bad = tmp_path / "sample.bpmn"
    bad.write_bytes(process(script="import os"))
    result = runner.invoke(cli, ["bpmn", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and ": compute: 脚本：含不允许的写法" in result.output


def test_bpmn_deploy_then_noop(runner):
    first = runner.invoke(cli, ["bpmn", "deploy"])
    assert first.exit_code == 0 and "title_application v1 deployed" in first.output
    again = runner.invoke(cli, ["bpmn", "deploy"])
    assert "title_application v1 unchanged" in again.output


def test_demo_loads_once_and_prints_logins(runner):
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output and "applicant1" in first.output
    assert "designer     Demo-2026   流程设计员（designer）" in first.output
    again = runner.invoke(cli, ["demo"])
    assert "demo data already present" in again.output
    listed = runner.invoke(cli, ["instances", "list", "--process", "title_application"])
    assert "title_application v1" in listed.output


def test_bpmn_promote_rolls_back_and_audit_verify_reports_the_chain(runner, tmp_path):
    sample = tmp_path / "sample.bpmn"
    for script in ("x = 1", "x = 2"):
        sample.write_bytes(process(script=script))
        assert runner.invoke(cli, ["bpmn", "deploy", str(sample)]).exit_code == 0
    result = runner.invoke(cli, ["bpmn", "promote", "sample", "1", "--reason", "回退"])
    assert result.exit_code == 0 and "sample v1 is current (was v2)" in result.output
    again = runner.invoke(cli, ["bpmn", "deploy", str(sample)])
    assert "sample v2 unchanged, not current" in again.output
    missing = runner.invoke(cli, ["bpmn", "promote", "sample", "5", "--reason", "x"])
    assert missing.exit_code == 1 and "没有第 5 版" in missing.output
    verified = runner.invoke(cli, ["audit", "verify"])
    assert verified.exit_code == 0 and "audit chain intact: 3 events" in verified.output


def test_instances_retry_takes_corrected_data_and_fails_while_still_in_error(runner, tmp_path):
    from web import create_app
    from web.cli import cli_operator

    sample = tmp_path / "sample.bpmn"
    sample.write_bytes(process(script="ratio = 10 / divisor"))
    assert runner.invoke(cli, ["bpmn", "deploy", str(sample)]).exit_code == 0
    app = create_app()
    with app.app_context():
        inst = app.extensions["operations"].start_bare(
            "sample", {"divisor": 0, "unit_org_id": "x"}, actor=cli_operator()
        )
    still = runner.invoke(cli, ["instances", "retry", str(inst), "--reason", "重试"])
    assert still.exit_code == 1
    assert "still in error" in still.output and "ZeroDivisionError" in still.output
    for bad in ("[1]", "{nope"):
        refused = runner.invoke(
            cli, ["instances", "retry", str(inst), "--reason", "重试", "--data", bad]
        )
        assert refused.exit_code == 2 and "--data" in refused.output
    fixed = runner.invoke(
        cli, ["instances", "retry", str(inst), "--reason", "改正除数", "--data", '{"divisor": 2}']
    )
    assert fixed.exit_code == 0, fixed.output
    assert f"instance {inst}: retry done, status running" in fixed.output


def test_the_command_line_is_quiet_unless_asked(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": "/usr/bin:/bin",
        "ZHIPING_INSTANCE_DIR": str(tmp_path / "instance"),
        "ZHIPING_DATABASE_URL": f"sqlite:///{tmp_path / 'quiet.db'}",
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(root / "run.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    quiet = run("db", "upgrade")
    assert quiet.returncode == 0
    assert quiet.stdout.strip() == "database is up to date" and quiet.stderr == ""
    loud = run("-v", "db", "upgrade")
    assert loud.returncode == 0 and "INFO" in loud.stderr
