"""The dashboard's pure helpers (ISO weeks, medians, level order) and its SVG charts."""

from __future__ import annotations

from datetime import date

from engine import dashboard_stats as stats
from web.charts import bar_chart, weekly_chart


def test_iso_weeks_cross_the_new_year_as_iso_8601_does():
    assert stats.iso_week(date(2026, 12, 31)) == "2026-W53"
    assert stats.iso_week(date(2027, 1, 4)) == "2027-W01"
    assert stats.recent_weeks(date(2027, 1, 6), 3) == ["2026-W52", "2026-W53", "2027-W01"]
    assert stats.week_start(date(2027, 1, 6), 3) == date(2026, 12, 21)


def test_median_of_even_and_odd_counts_and_of_nothing():
    assert stats.median([3, 1, 2]) == 2.0
    assert stats.median([96.0, 120.0]) == 108.0
    assert stats.median([0.25, 0.3]) == 0.3  # rounded to one decimal
    assert stats.median([]) is None


def test_levels_run_from_the_units_up_the_tree():
    tree = stats.tree_levels(
        [
            ("nb-hrss", "市人社", None),
            ("nb-office", "办公室", "nb-hrss"),
            ("nb-water", "市水利局", "nb-office"),
            ("yz-water", "区水利", "nb-water"),
        ]
    )
    assert stats.level_of("unit-7", tree).key == stats.UNIT_LEVEL
    levels = [
        stats.level_of(o, tree) for o in ("nb-hrss", "unit-7", "yz-water", "nb-water", "nb-hrss")
    ]
    assert [lv.key for lv in stats.ordered(levels)] == [
        stats.UNIT_LEVEL,
        "yz-water",
        "nb-water",
        "nb-hrss",
    ]


def test_bar_chart_writes_each_number_and_escapes_labels():
    svg = bar_chart("c1", "各状态申报数", [("<script>x</script>", 3), ("公示中", 0)], unit=" 件")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'role="img"' in svg and '<title id="c1-title">各状态申报数</title>' in svg
    assert ">3 件</text>" in svg and ">0 件</text>" in svg
    assert "公示中：0 件" in svg  # the desc reads the numbers out


def test_charts_without_data_say_so():
    assert "暂无数据" in bar_chart("c2", "t", [])
    assert "暂无数据" in weekly_chart("c3", "t", ["2026-W48"], [])
    assert ">—</text>" in bar_chart("c4", "t", [("用人单位", None)])


def test_weekly_chart_has_a_column_with_its_number_per_week():
    svg = weekly_chart("w", "每周", ["2026-W48", "2026-W49"], [("区水利", [2, 0])])
    assert 'data-week="2026-W48" data-value="2"' in svg
    assert 'data-week="2026-W49" data-value="0"' in svg
    assert "区水利：2026-W48 2 件，2026-W49 0 件" in svg
