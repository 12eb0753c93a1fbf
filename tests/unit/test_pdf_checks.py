"""Hostile uploads are refused within a fixed budget of memory: bombs, page counts, scripts."""

from __future__ import annotations

import logging
import tracemalloc

import pytest

from engine.documents import inspect_pdf
from engine.errors import FileRejectedError
from tests.pdf_samples import (
    ACTIVE,
    MB,
    bomb_pdf,
    declared_pages_pdf,
    lying_pages_pdf,
    many_objects_pdf,
    object_stream_bomb_pdf,
    with_catalog,
)
from web.errors import http_status

PEAK_BOUND = 100 * MB


@pytest.fixture(autouse=True)
def _quiet_pypdf(caplog):
    caplog.set_level(logging.CRITICAL, logger="pypdf")


def refusal(data: bytes, **limits: int) -> tuple[FileRejectedError, int]:
    """The refusal of data and the peak of Python memory allocated while checking it."""
    tracemalloc.start()
    try:
        with pytest.raises(FileRejectedError) as caught:
            inspect_pdf(data, **limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, peak


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: bomb_pdf(pages=4, decoded_per_page=60 * MB), id="4-pages-of-60MB"),
        pytest.param(lambda: bomb_pdf(pages=1, decoded_per_page=300 * MB), id="one-300MB-page"),
        pytest.param(lambda: object_stream_bomb_pdf(200 * MB), id="object-stream"),
    ],
)
def test_decompression_bomb_is_refused_within_bounded_memory(build):
    data = build()
    assert len(data) < 1 * MB  # small on the wire, hundreds of MB decoded

    error, peak = refusal(data)

    assert (http_status(error), error.code) == (422, "pdf_too_complex")
    assert "压缩炸弹" in error.message and "50 MB" in error.message
    assert peak < PEAK_BOUND, f"peak {peak / MB:.0f} MB"


def test_decoded_bytes_budget_is_configurable():
    data = bomb_pdf(pages=2, decoded_per_page=3 * MB)

    assert inspect_pdf(data).pages == 2
    error, _ = refusal(data, max_decoded_bytes=5 * MB)
    assert error.code == "pdf_too_complex" and "5 MB" in error.message


def test_declared_page_count_is_refused_before_walking_the_pages():
    error, peak = refusal(declared_pages_pdf(100_000))

    assert (http_status(error), error.code) == (422, "too_many_pages")
    assert "100000" in error.message and "200" in error.message
    assert peak < 1 * MB


def test_page_tree_that_understates_its_count_is_refused_once_past_the_limit():
    error, _ = refusal(lying_pages_pdf(300))

    assert error.code == "too_many_pages"


def test_too_many_objects_are_refused_before_parsing():
    error, peak = refusal(many_objects_pdf(60_000))

    assert (http_status(error), error.code) == (422, "pdf_too_complex")
    assert "50000" in error.message
    assert peak < 10 * MB


def test_object_limit_is_configurable():
    assert inspect_pdf(many_objects_pdf(300)).pages == 1
    error, _ = refusal(many_objects_pdf(300), max_objects=100)
    assert error.code == "pdf_too_complex"


@pytest.mark.parametrize(("name", "sample"), ACTIVE.items(), ids=list(ACTIVE))
def test_active_content_is_refused_naming_why(name, sample):
    data, code = sample

    error, _ = refusal(data)

    assert (http_status(error), error.code) == (422, code)
    words = {
        "pdf_javascript": "JavaScript",
        "pdf_launch_action": "启动外部程序",
        "pdf_embedded_file": "内嵌了其他文件",
    }
    assert words[code] in error.message


def test_plain_actions_and_object_streams_are_accepted():
    go_to_first_page = with_catalog("/OpenAction [3 0 R /Fit]")

    assert inspect_pdf(go_to_first_page).pages == 1
    assert inspect_pdf(object_stream_bomb_pdf(4096)).pages == 1
