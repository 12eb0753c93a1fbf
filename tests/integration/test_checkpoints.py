"""A kept starting point (tests/checkpoints.py) gives a test what walking it would have: the
same rows, files, tokens and next ids; a test that does not start from the seed walks."""

from __future__ import annotations

import shutil
from typing import Any

from sqlalchemy import select

from storage import db
from tests.checkpoints import Checkpoints
from tests.conftest import START
from tests.dbstate import Baseline
from tests.flows import _walk_to_unit_review, file_application, register_applicant
from tests.helpers import Api


def _rows(app) -> dict[str, list[dict[str, Any]]]:
    with app.app_context():
        with db.engine.connect() as conn:
            rows = Baseline(conn).rows
        db.session.remove()
    # Compared as sets of rows: PostgreSQL may hand a table's rows back in another order.
    return {table: sorted(found, key=repr) for table, found in rows.items()}


def _files(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _back_to_the_seed(app, seed) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            seed.baseline.restore(conn, seed.written.tables)
        db.session.remove()
    seed.written.tables.clear()


def _one_more_application(api: Api, unit: dict[str, Any]) -> tuple[str, int]:
    """A second applicant files: the ids the database hands out next."""
    person = register_applicant(api, unit)
    app_id = file_application(api, person)
    with api.app.app_context():
        from storage.models import Application

        row = db.session.execute(select(Application.id).order_by(Application.id.desc())).first()
        db.session.remove()
    assert row is not None
    return app_id, row[0]


def test_a_kept_walk_puts_back_what_walking_left(app, seed, kept_walks):
    files = kept_walks.context.files
    points = Checkpoints(seed.baseline, seed.written, kept_walks.settings, START)
    points.context = kept_walks.context

    first = Api(app)
    walked = points.reach("unit_review", first, _walk_to_unit_review)
    assert (points.walks, points.restores) == (1, 0)
    rows, stored, tokens = _rows(app), _files(files), dict(first.tokens)
    after_walk = _one_more_application(first, walked[0])

    _back_to_the_seed(app, seed)
    shutil.rmtree(files)
    again = Api(app)
    kept = points.reach("unit_review", again, _walk_to_unit_review)
    assert (points.walks, points.restores) == (1, 1)
    assert kept == walked
    assert _rows(app) == rows and _files(files) == stored and again.tokens == tokens
    unit, person, app_id = kept
    # The unit acts on the kept application with the kept token, as after walking.
    task = again.only_task(unit["username"], application=app_id, name="unit_review")
    assert task["name"] == "unit_review"
    assert again.get(f"/applications/{app_id}", person["username"]).json["status"] == "unit_review"
    # The database hands out the same next ids (PostgreSQL: the sequences were put back).
    assert _one_more_application(again, unit) == after_walk


def test_a_test_that_wrote_first_walks(app, api, seed, kept_walks):
    points = Checkpoints(seed.baseline, seed.written, kept_walks.settings, START)
    points.context = kept_walks.context
    points.reach("unit_review", api, _walk_to_unit_review)
    _back_to_the_seed(app, seed)

    api.tokens.clear()
    api.login("admin")  # signing in writes a token: no longer the seed
    points.reach("unit_review", api, _walk_to_unit_review)
    assert (points.walks, points.restores) == (2, 0)


def test_a_moved_clock_or_changed_setting_walks(app, seed, kept_walks, clock):
    points = Checkpoints(seed.baseline, seed.written, kept_walks.settings, START)
    points.context = kept_walks.context
    points.reach("unit_review", Api(app), _walk_to_unit_review)
    _back_to_the_seed(app, seed)
    shutil.rmtree(kept_walks.context.files)

    clock.advance(days=1)
    assert not points.at_seed(Api(app))
    clock.advance(days=-1)
    assert points.at_seed(Api(app))
    app.config["MAX_UPLOAD_MB"] = 1
    assert not points.at_seed(Api(app))
