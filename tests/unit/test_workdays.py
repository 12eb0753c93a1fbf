from datetime import date, datetime

import chinese_calendar
import pytest

from engine.errors import UnknownYearError
from engine.workdays import CalendarPolicy, WorkCalendar, parse_date

EXCLUDE_START = CalendarPolicy(count_start_day=False)
NO_MAKEUP = CalendarPolicy(makeup_days_count=False)


@pytest.mark.parametrize(
    ("start", "policy", "end"),
    [
        # DOMAIN.md §4.3, main convention (both ends counted)
        (date(2026, 9, 28), CalendarPolicy(), date(2026, 10, 9)),
        (date(2026, 2, 13), CalendarPolicy(), date(2026, 2, 26)),
        (date(2026, 4, 30), CalendarPolicy(), date(2026, 5, 9)),
        (date(2026, 10, 1), CalendarPolicy(), date(2026, 10, 13)),
        # start day excluded (Civil Code style)
        (date(2026, 9, 28), EXCLUDE_START, date(2026, 10, 10)),
        (date(2026, 2, 13), EXCLUDE_START, date(2026, 2, 27)),
        (date(2026, 4, 30), EXCLUDE_START, date(2026, 5, 11)),
        # weekend make-up days not counted
        (date(2026, 2, 13), NO_MAKEUP, date(2026, 2, 27)),
        (date(2026, 4, 30), NO_MAKEUP, date(2026, 5, 11)),
    ],
)
def test_earliest_end_matches_domain_examples(start, policy, end):
    assert WorkCalendar(policy=policy).earliest_end(start) == end


def test_earliest_end_across_national_day():
    cal = WorkCalendar()
    assert cal.workdays_between(date(2026, 9, 28), date(2026, 10, 9)) == [
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]
    assert cal.count_workdays(date(2026, 9, 28), date(2026, 10, 8)) == 4


def test_earliest_end_from_holiday_start_counts_makeup_saturday():
    cal = WorkCalendar()
    assert cal.workdays_between(date(2026, 10, 1), date(2026, 10, 13)) == [
        date(2026, 10, 8),
        date(2026, 10, 9),
        date(2026, 10, 10),
        date(2026, 10, 12),
        date(2026, 10, 13),
    ]


def test_earliest_end_with_other_n():
    cal = WorkCalendar()
    assert cal.earliest_end(date(2026, 9, 28), n=1) == date(2026, 9, 28)
    assert cal.earliest_end(date(2026, 9, 28), n=3) == date(2026, 9, 30)
    assert cal.earliest_end(date(2026, 9, 28), n=4) == date(2026, 10, 8)


def test_earliest_end_rejects_non_positive_n():
    with pytest.raises(ValueError, match="at least 1"):
        WorkCalendar().earliest_end(date(2026, 9, 28), n=0)


def test_count_workdays_excludes_start_day_when_configured():
    window = (date(2026, 9, 28), date(2026, 10, 9))
    assert WorkCalendar().count_workdays(*window) == 5
    assert WorkCalendar(policy=EXCLUDE_START).count_workdays(*window) == 4


def test_count_workdays_excludes_makeup_days_when_configured():
    window = (date(2026, 4, 30), date(2026, 5, 9))
    assert WorkCalendar().count_workdays(*window) == 5
    assert WorkCalendar(policy=NO_MAKEUP).count_workdays(*window) == 4


def test_count_workdays_empty_window_is_zero():
    cal = WorkCalendar()
    assert cal.count_workdays(date(2026, 10, 9), date(2026, 10, 8)) == 0
    assert cal.count_workdays(date(2026, 10, 9), date(2026, 10, 9)) == 1
    assert (
        WorkCalendar(policy=EXCLUDE_START).count_workdays(date(2026, 10, 9), date(2026, 10, 9)) == 0
    )


def test_count_workdays_whole_2026():
    # 261 weekdays - 19 weekday holidays + 6 make-up weekend days
    assert WorkCalendar().count_workdays(date(2026, 1, 1), date(2026, 12, 31)) == 248


def test_is_workday_knows_holidays_and_makeup_days():
    cal = WorkCalendar()
    assert cal.is_workday(date(2026, 10, 9)) is True
    assert cal.is_workday(date(2026, 10, 5)) is False  # Monday inside National Day
    assert cal.is_workday(date(2026, 10, 10)) is True  # make-up Saturday
    assert cal.is_workday(date(2026, 10, 17)) is False  # ordinary Saturday


def test_is_makeup_day_only_for_working_weekend_days():
    cal = WorkCalendar()
    assert cal.is_makeup_day(date(2026, 10, 10)) is True
    assert cal.is_makeup_day(date(2026, 1, 4)) is True  # Sunday
    assert cal.is_makeup_day(date(2026, 10, 17)) is False
    assert cal.is_makeup_day(date(2026, 10, 9)) is False


def test_is_workday_accepts_datetime():
    assert WorkCalendar().is_workday(datetime(2026, 10, 10, 15, 30)) is True


def test_is_workday_unknown_year_raises_naming_year():
    with pytest.raises(UnknownYearError) as excinfo:
        WorkCalendar().is_workday(date(2027, 1, 4))
    assert excinfo.value.year == 2027
    assert "2027" in str(excinfo.value)


def test_is_workday_before_library_range_raises():
    with pytest.raises(UnknownYearError) as excinfo:
        WorkCalendar().is_workday(date(2003, 12, 31))
    assert excinfo.value.year == 2003


def test_earliest_end_stops_at_unknown_year():
    with pytest.raises(UnknownYearError) as excinfo:
        WorkCalendar().earliest_end(date(2026, 12, 28), n=10)
    assert excinfo.value.year == 2027


def test_extra_year_uses_overrides_then_monday_to_friday():
    cal = WorkCalendar(
        overrides={date(2027, 1, 1): False, date(2027, 1, 9): True},
        extra_years=[2027],
    )
    assert cal.is_workday(date(2027, 1, 1)) is False  # Friday, overridden
    assert cal.is_workday(date(2027, 1, 2)) is False  # Saturday
    assert cal.is_workday(date(2027, 1, 4)) is True  # Monday
    assert cal.is_makeup_day(date(2027, 1, 9)) is True
    assert cal.known_years() == set(range(2004, 2028))


def test_earliest_end_into_extra_year():
    cal = WorkCalendar(overrides={date(2027, 1, 1): False}, extra_years=[2027])
    # 12-28..12-31 are Mon-Thu, 2027-01-01 is off, 2027-01-04 is Monday
    assert cal.earliest_end(date(2026, 12, 28)) == date(2027, 1, 4)


def test_overrides_win_over_library():
    cal = WorkCalendar(overrides={date(2026, 10, 9): False, date(2026, 10, 5): True})
    assert cal.is_workday(date(2026, 10, 9)) is False
    assert cal.is_workday(date(2026, 10, 5)) is True
    assert cal.earliest_end(date(2026, 9, 28)) == date(2026, 10, 8)


def test_extra_years_do_not_hide_library_data():
    cal = WorkCalendar(extra_years=[2026])
    assert cal.is_workday(date(2026, 10, 10)) is True
    assert cal.is_workday(date(2026, 10, 5)) is False


def test_add_workdays_skips_holidays():
    cal = WorkCalendar()
    assert cal.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert cal.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert cal.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_add_workdays_respects_makeup_policy():
    assert WorkCalendar(policy=NO_MAKEUP).add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 12)


def test_known_years_is_library_range():
    assert WorkCalendar().known_years() == set(range(2004, 2027))


def test_is_workday_caches_library_calls(monkeypatch):
    calls = []
    real = chinese_calendar.is_workday

    def counting(d):
        calls.append(d)
        return real(d)

    monkeypatch.setattr(chinese_calendar, "is_workday", counting)
    cal = WorkCalendar()
    for _ in range(3):
        cal.count_workdays(date(2026, 9, 28), date(2026, 10, 9))
    assert len(calls) == 12


def test_parse_date_accepts_iso_date():
    assert parse_date("2026-02-13") == date(2026, 2, 13)


@pytest.mark.parametrize(
    "value", ["2026-2-13", "20260213", " 2026-02-13", "2026/02/13", "２０２６-02-13", "", None]
)
def test_parse_date_rejects_other_formats(value):
    with pytest.raises(ValueError, match="年-月-日"):
        parse_date(value)


def test_parse_date_rejects_impossible_date():
    with pytest.raises(ValueError, match="日期不存在"):
        parse_date("2026-02-30")
