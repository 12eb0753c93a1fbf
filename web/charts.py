"""Charts drawn on the server as inline SVG: no script, no external asset.

Every chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` listing its numbers,
and every number is also drawn as text beside its bar, so the chart reads without colour or
a pointer. The page puts the same numbers in a table under each chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = "#0b4f8a"
ALERT = "#c62828"
TEXT = "#1f2933"
GRID = "#d9e2ec"
ROW = 26  # px per bar row
LABEL_W = 210  # px for the labels left of the bars
BAR_W = 420  # px of the longest bar
WEEK_W = 44  # px per ISO week column
WEEK_H = 48  # px of the tallest weekly column


def _value(value: float | int | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}"


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> Markup:
    return Markup(
        f'<svg id="{escape(chart_id)}" class="chart" role="img" xmlns="http://www.w3.org/2000/svg"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def bar_chart(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, float | int | None]],
    *,
    unit: str = "",
    alert: bool = False,
) -> Markup:
    """Horizontal bars, one per (label, value); the value is written after its bar."""
    top = max((v for _, v in rows if v), default=0)
    width, height = LABEL_W + BAR_W + 90, max(ROW * len(rows), ROW) + 8
    parts = []
    for i, (label, value) in enumerate(rows):
        y = 4 + i * ROW
        length = round(BAR_W * (value or 0) / top) if top else 0
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{escape(value)}">'
            f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13"'
            f' fill="{TEXT}">{escape(_clip(label))}</text>'
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{max(length, 1)}" height="{ROW - 8}"'
            f' fill="{ALERT if alert else BAR}"/>'
            f'<text x="{LABEL_W + length + 6}" y="{y + 17}" font-size="13" fill="{TEXT}">'
            f"{escape(_value(value, unit))}</text></g>"
        )
    if not rows:
        parts.append(f'<text x="8" y="20" font-size="13" fill="{TEXT}">暂无数据</text>')
    desc = "；".join(f"{label}：{_value(value, unit)}" for label, value in rows) or "暂无数据"
    return _svg(chart_id, title, desc, width, height, "".join(parts))


def weekly_chart(
    chart_id: str, title: str, weeks: Sequence[str], rows: Sequence[tuple[str, Sequence[int]]]
) -> Markup:
    """One row of weekly columns per level (small multiples on one scale); each column
    carries its number."""
    top = max((v for _, values in rows for v in values), default=0)
    row_h = WEEK_H + 28
    width = LABEL_W + WEEK_W * len(weeks) + 10
    height = 22 + row_h * max(len(rows), 1)
    parts = [
        f'<text x="{LABEL_W + i * WEEK_W + WEEK_W / 2}" y="14" text-anchor="middle"'
        f' font-size="11" fill="{TEXT}">{escape(week.split("-")[-1])}</text>'
        for i, week in enumerate(weeks)
    ]
    for r, (label, values) in enumerate(rows):
        base = 22 + r * row_h + WEEK_H + 14
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{base - 4}" text-anchor="end" font-size="13"'
            f' fill="{TEXT}">{escape(_clip(label))}</text>'
            f'<line x1="{LABEL_W}" x2="{width - 10}" y1="{base}" y2="{base}" stroke="{GRID}"/>'
        )
        for i, value in enumerate(values):
            h = round(WEEK_H * value / top) if top else 0
            x = LABEL_W + i * WEEK_W
            parts.append(
                f'<g class="week" data-level="{escape(label)}" data-week="{escape(weeks[i])}"'
                f' data-value="{value}"><rect x="{x + 10}" y="{base - h}" width="{WEEK_W - 20}"'
                f' height="{h}" fill="{BAR}"/><text x="{x + WEEK_W / 2}" y="{base - h - 3}"'
                f' text-anchor="middle" font-size="11" fill="{TEXT}">{value}</text></g>'
            )
    if not rows:
        parts.append(f'<text x="8" y="40" font-size="13" fill="{TEXT}">暂无数据</text>')
    desc = "；".join(
        f"{label}：" + "，".join(f"{w} {v} 件" for w, v in zip(weeks, values, strict=True))
        for label, values in rows
    )
    return _svg(chart_id, title, desc or "暂无数据", width, height, "".join(parts))


def _clip(label: str, most: int = 15) -> str:
    """A label that fits left of the bars (the full text is in the table and the desc)."""
    return label if len(label) <= most else label[: most - 1] + "…"
