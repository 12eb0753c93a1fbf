"""A live server on a free port with a fresh database, and headless Chromium (Debian's)."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from engine import ManualClock
from tests.conftest import FIXTURES, START, open_cycles
from tests.helpers import Api

SHOTS = Path("/tmp/zp-shots")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
]


@dataclass
class Live:
    app: Flask
    url: str
    api: Api


@pytest.fixture(scope="module")
def chromium_path() -> str:
    pytest.importorskip("playwright.sync_api")
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("chromium is not installed (apt-get install chromium fonts-noto-cjk)")
    return path


@pytest.fixture(scope="module")
def live(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from web import create_app
    from web.cli import upgrade_db

    root = tmp_path_factory.mktemp("live")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZHIPING_INSTANCE_DIR", str(root / "instance"))
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{root / 'live.db'}",
                "FILES_DIR": str(root / "files"),
                "CLOCK": ManualClock(START),
                "RATELIMIT_ENABLED": False,
                "PASSWORD_SCRYPT_N": 2**8,
            }
        )
    upgrade_db(app)
    with app.app_context():
        app.extensions["deployments"].deploy_directory(actor="tests")
        app.extensions["accounts"].load_orgs(json.loads((FIXTURES / "orgs.json").read_text()))
        open_cycles(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(app, f"http://127.0.0.1:{server.server_port}", Api(app))
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any, live: Live) -> Iterator[Any]:
    """Pages in a fresh browser context each (one signed-in person per context)."""
    contexts = []

    def make() -> Any:
        context = browser.new_context(
            base_url=live.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


# ASCII a Chinese page may show: codes, ids and names of formats, never English prose.
ALLOWED_ASCII = {"PDF", "CN", "ISSN", "BPMN", "DI", "sha256", "ID", "QR", "SMS", "JSON", "CSV"}
# The designers' modeler names what the engine reads by its BPMN property names.
DESIGNER_TERMS = frozenset(
    {"id", "Schema", "UI", "bpmn", "forms", "Python", "spiffworkflow", "property"}
    | {"orgVariable", "formJsonSchemaFilename", "validator", "prefill", "preScript", "postScript"}
    | {"userVariable"}
    | {"unit", "review"}  # the example status expression "unit_review", quoted
)
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# identifiers: user names, application / task / process ids, file names, dates, codes
IDENTIFIER = re.compile(r"[\w.@/:-]*(?:\d|_|\.|@)[\w.@/:-]*")
# codes shown to be typed or compared: verification codes, credit codes (all capitals, long)
CODE = re.compile(r"[A-Z0-9]{8,}")


def english_words(page: Any, allow: frozenset[str] = frozenset()) -> list[str]:
    """ASCII words of the page's visible text (and <title>) that are not ids or codes."""
    text = page.evaluate("document.title + '\\n' + document.body.innerText")
    words = []
    for token in text.split():
        for chunk in re.split(
            r"[\u3000-\u303f\uff00-\uffef\u4e00-\u9fff（）「」《》：，。；、]+", token
        ):
            if not chunk or IDENTIFIER.fullmatch(chunk) or CODE.fullmatch(chunk):
                continue
            words += [
                w for w in ASCII_WORD.findall(chunk) if w not in ALLOWED_ASCII and w not in allow
            ]
    return words


def assert_chinese(page: Any, allow: frozenset[str] = frozenset()) -> None:
    """No English reaches the user on this page (``allow``: technical terms the page names)."""
    words = english_words(page, allow)
    assert not words, f"English on {page.url}: {words[:10]}"


def shot(page: Any, name: str, allow: frozenset[str] = frozenset()) -> None:
    """Save a full-page screenshot to /tmp/zp-shots/<name>.png; the page must be Chinese."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert_chinese(page, allow)
