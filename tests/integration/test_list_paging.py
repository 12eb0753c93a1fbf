"""Long lists on the pages come a page at a time (上一页 / 下一页) with the whole count shown:
the worklist (待办事项) and 职称评审资格审查's 待审查 and decision tabs."""

from __future__ import annotations

import re

import pytest

from tests.integration.test_guide_words import _at_first_level, _decide, _link, _tab_counts
from tests.page_helpers import signed_in, task_links, text
from web.blueprints import pages, pages_review


@pytest.fixture
def page_of_two(monkeypatch):
    monkeypatch.setattr(pages, "PAGE", 2)
    monkeypatch.setattr(pages_review, "PAGE", 2)


def _offsets(html: str) -> dict[str, int]:
    """The pager's links: rel (prev, next) -> the offset it opens."""
    found = re.findall(r'<a href="[^"]*offset=(\d+)[^"]*" rel="(prev|next)"', html)
    return {rel: int(offset) for offset, rel in found}


def test_the_pending_tab_pages_its_tasks(app, api, page_of_two):
    _unit, app_ids = _at_first_level(api, 5)
    client = signed_in(app, "yz_water_1")
    pages_seen = []
    for offset in (0, 2, 4):
        html = text(client.get(f"/review/qualification?tab=pending&offset={offset}"))
        assert _tab_counts(html)["待审查"] == 5  # the whole tab's count, on every page
        pages_seen.append({a for a in app_ids if _link(a) in html})
        if offset == 0:
            assert _offsets(html) == {"next": 2} and "第 1–2 项，共 5 项" in html
        if offset == 4:
            assert _offsets(html) == {"prev": 2} and "第 5–5 项，共 5 项" in html
    # each application on exactly one page
    assert [len(seen) for seen in pages_seen] == [2, 2, 1]
    assert set().union(*pages_seen) == set(app_ids)


def test_a_decision_tab_pages_its_applications_newest_first(app, api, page_of_two):
    _unit, app_ids = _at_first_level(api, 3)
    for app_id in app_ids:
        _decide(api, app_id, "reject", reject_reason="资历不符合申报条件")
    client = signed_in(app, "yz_water_1")
    first = text(client.get("/review/qualification?tab=reject"))
    assert _tab_counts(first)["评审不通过"] == 3
    assert [a for a in app_ids if _link(a) in first] == app_ids[1:]
    assert _offsets(first) == {"next": 2}
    second = text(client.get("/review/qualification?tab=reject&offset=2"))
    assert [a for a in app_ids if _link(a) in second] == app_ids[:1]
    assert _offsets(second) == {"prev": 0} and "tab=reject" in second.split('rel="prev"')[0]


def test_the_worklist_pages_and_keeps_its_filter(app, api, page_of_two):
    _unit, _app_ids = _at_first_level(api, 3)
    client = signed_in(app, "yz_water_1")
    first = text(client.get("/tasks?name=level_review"))
    assert "共 3 项" in first and len(set(task_links(first))) == 2
    assert _offsets(first) == {"next": 2} and "name=level_review" in first.split('rel="next"')[0]
    second = text(client.get("/tasks?name=level_review&offset=2"))
    assert len(set(task_links(second))) == 1
    assert not set(task_links(first)) & set(task_links(second))


def test_a_short_list_shows_no_pager(app, api):
    _at_first_level(api, 1)
    html = text(signed_in(app, "yz_water_1").get("/review/qualification"))
    assert 'class="pager"' not in html


@pytest.mark.parametrize("offset", ["-1", "x", "99999999999"])
def test_a_bad_offset_is_refused_in_chinese(app, offset):
    client = signed_in(app, "yz_water_1")
    for path in ("/tasks", "/review/qualification"):
        r = client.get(f"{path}?offset={offset}")
        assert r.status_code == 400, (path, offset)
        assert "offset 应为 0 至" in text(r)
