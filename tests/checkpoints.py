"""Common starting points of the long flows, walked once per worker and put back like the seed.

Many tests begin the same way: an application submitted to its unit (about 15 requests), or one
through every level to the committee (about 60). The first test of a worker that asks for such a
starting point walks it through the API as before; the rows of every table, the files the walk
stored and the tokens it signed in with are then kept, and a later test that asks for it from
the same state is given those rows, files and tokens instead of the walk: the database it
then works on is the one the walk would have left (ids and PostgreSQL sequences included).

A test gets the kept state only where the walk would have started from the seed exactly: the
shared app with its usual settings, the clock at the start, nothing written since the seed was
put back, no file stored and nobody signed in. Any other test walks, as before. What a walk
leaves outside the database and the files dir (a service patched by the test, a log line
captured) is not kept: a test that relies on such a side effect of the walk has to arrange it
after reaching its starting point (none does today: those that patch something write first).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask

from engine import ManualClock
from storage import db
from tests.dbstate import Baseline, Written

T = TypeVar("T")
UNKEPT_SETTINGS = {"CLOCK", "FILES_DIR"}


@dataclass
class Kept:
    rows: Baseline
    changed: set[str]  # the tables whose rows differ from the seed's
    files: dict[Path, bytes]
    tokens: dict[str, str]
    result: Any


@dataclass
class Context:
    """What a test's starting state is made of (set by the app fixture before each test)."""

    app: Flask
    clock: ManualClock
    files: Path
    shared: bool


class Checkpoints:
    """The starting points one worker has walked, by name."""

    def __init__(self, seed: Baseline, written: Written, settings: dict[str, Any], start: datetime):
        self.seed = seed
        self.written = written
        self.settings = _kept_settings(settings)
        self.start = start
        self.kept: dict[str, Kept] = {}
        self.context: Context | None = None
        self.walks = 0  # walks taken, for the tests of this module
        self.restores = 0

    def at_seed(self, api: Any) -> bool:
        """True when ``api`` works on the seed exactly, as the kept walks started from."""
        ctx = self.context
        return (
            ctx is not None
            and ctx.shared
            and api.app is ctx.app
            and not api.tokens
            and ctx.clock.now == self.start
            and not self.written.tables
            and not (ctx.files.exists() and any(ctx.files.iterdir()))
            and _kept_settings(ctx.app.config) == self.settings
        )

    def reach(self, name: str, api: Any, walk: Callable[[Any], T]) -> T:
        """``walk(api)``'s result, and the state it leaves: walked, or put back if kept."""
        if not self.at_seed(api):
            self.walks += 1
            return walk(api)
        kept = self.kept.get(name)
        if kept is None:
            self.walks += 1
            result = walk(api)
            self.kept[name] = self._keep(api, result)
            return result
        self._put_back(api, kept)
        self.restores += 1
        return copy.deepcopy(kept.result)

    def _keep(self, api: Any, result: Any) -> Kept:
        assert self.context is not None
        with api.app.app_context():
            with db.engine.connect() as conn:
                rows = Baseline(conn)
            db.session.remove()
        changed = {t.name for t in rows.tables if rows.rows[t.name] != self.seed.rows[t.name]}
        folder = self.context.files
        files = {}
        if folder.exists():
            files = {
                p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()
            }
        return Kept(rows, changed, files, dict(api.tokens), copy.deepcopy(result))

    def _put_back(self, api: Any, kept: Kept) -> None:
        assert self.context is not None
        with api.app.app_context():
            # The writes are seen by self.written: the next test puts these tables back.
            with db.engine.begin() as conn:
                kept.rows.restore(conn, kept.changed)
            db.session.remove()
        for path, data in kept.files.items():
            target = self.context.files / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        api.tokens.update(kept.tokens)


def _kept_settings(config: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(config).items() if k not in UNKEPT_SETTINGS}


_current: Checkpoints | None = None


def install(checkpoints: Checkpoints | None) -> None:
    """The worker's checkpoints (the seed fixture installs them; None: every test walks)."""
    global _current
    _current = checkpoints


def reach(name: str, api: Any, walk: Callable[[Any], T]) -> T:
    """``walk(api)`` run, or its kept result and state put back (see the module's doc)."""
    if _current is None:
        return walk(api)
    return _current.reach(name, api, walk)
