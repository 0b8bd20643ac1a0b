"""The working-day calendar: statutory holidays, make-up days, cut-off, unknown years,
the yearly CSV import, its cache and the recompute of provisional deadlines."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from minsheng.core import calendar, holidays_csv
from minsheng.core.calendar import Deadline, end_of_day
from minsheng.core.models import AuditEvent, HolidayDay

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date

# A realistic notice for 2027 (a year chinesecalendar 1.11 does not know), mixing the
# English and Chinese kind words an admin may type.
CSV_2027 = """date,kind,name
2027-01-01,holiday,元旦
2027-01-02,holiday,元旦
2027-01-03,holiday,元旦
2027-01-31,workday,春节
2027-02-06,放假,春节
2027-02-07,放假,春节
2027-02-08,放假,春节
2027-02-09,放假,春节
2027-02-10,放假,春节
2027-02-11,放假,春节
2027-02-12,放假,春节
2027-02-20,上班,春节
2027-04-03,休,清明
2027-04-04,休,清明
2027-04-05,休,清明
2027-05-01,holiday,劳动节
2027-05-02,holiday,劳动节
2027-05-03,holiday,劳动节
2027-05-04,holiday,劳动节
2027-05-05,holiday,劳动节
2027-05-08,班,劳动节
"""
ROWS_2027 = 21


def at(text: str) -> dt.datetime:
    """An aware moment in China: ``at("2026-03-02 10:00")``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def import_2027() -> holidays_csv.ImportResult:
    return holidays_csv.import_holidays(holidays_csv.parse(CSV_2027.encode()), by=None)


@pytest.fixture
def registry(monkeypatch):
    """An empty recompute registry for the test (apps may have registered theirs)."""
    functions: list = []
    monkeypatch.setattr(calendar, "_recompute_functions", functions)
    return functions


# -- statutory holidays from the package -----------------------------------------------------


def test_2026_spring_festival_and_make_up_days():
    assert calendar.year_known(2026)
    assert calendar.is_working_day(D(2026, 2, 13))  # Friday before
    assert calendar.is_working_day(D(2026, 2, 14))  # Saturday, make-up working day
    for day in range(15, 24):  # 15–23 February off, weekdays included
        assert not calendar.is_working_day(D(2026, 2, day)), day
    assert calendar.is_working_day(D(2026, 2, 24))
    assert calendar.is_working_day(D(2026, 2, 28))  # Saturday, make-up working day
    assert not calendar.is_working_day(D(2026, 3, 1))  # an ordinary Sunday

    friday = at("2026-02-13 10:00")
    assert calendar.add_working_days(friday, 1) == Deadline(end_of_day(D(2026, 2, 14)), False)
    assert calendar.add_working_days(friday, 2).due_at == end_of_day(D(2026, 2, 24))
    # Received on the make-up Saturday after the cut-off: the clock starts after the holiday.
    assert calendar.start_day(at("2026-02-14 18:00")) == D(2026, 2, 24)
    assert calendar.start_day(at("2026-02-16 10:00")) == D(2026, 2, 24)
    assert calendar.add_working_days(at("2026-02-24 09:00"), 4).due_at == end_of_day(D(2026, 2, 28))


def test_national_day_start_and_make_up_saturday():
    evening_before = at("2026-09-30 18:00")
    assert calendar.start_day(evening_before) == D(2026, 10, 8)
    assert calendar.add_working_days(evening_before, 1).due_at == end_of_day(D(2026, 10, 9))
    assert calendar.add_working_days(evening_before, 2).due_at == end_of_day(D(2026, 10, 10))
    assert calendar.add_working_days(evening_before, 3).due_at == end_of_day(D(2026, 10, 12))
    assert calendar.start_day(D(2026, 10, 3)) == D(2026, 10, 8)
    assert calendar.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)


def test_weekend_start_counts_from_monday():
    saturday = at("2026-03-07 09:00")
    assert calendar.start_day(saturday) == D(2026, 3, 9)
    assert calendar.add_working_days(saturday, 0).due_at == end_of_day(D(2026, 3, 9))
    assert calendar.add_working_days(saturday, 1).due_at == end_of_day(D(2026, 3, 10))


# -- the cut-off -------------------------------------------------------------------------------


def test_cut_off_moves_the_start_to_the_next_working_day():
    assert calendar.start_day(at("2026-03-02 16:59")) == D(2026, 3, 2)
    assert calendar.start_day(at("2026-03-02 17:00")) == D(2026, 3, 2)
    assert calendar.start_day(at("2026-03-02 17:00:01")) == D(2026, 3, 3)
    assert calendar.start_day(at("2026-03-06 18:00")) == D(2026, 3, 9)  # Friday evening


def test_same_day_deadline_ends_the_start_day():
    due = calendar.add_working_days(at("2026-03-02 16:00"), 0)
    assert due == Deadline(dt.datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=SHANGHAI), False)
    assert due.due_at.utcoffset() == dt.timedelta(hours=8)
    assert calendar.add_working_days(at("2026-03-02 18:00"), 0).due_at == end_of_day(D(2026, 3, 3))


def test_aware_moments_in_other_zones_are_read_in_china_time():
    assert calendar.start_day(dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)) == D(2026, 3, 2)
    assert calendar.start_day(dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)) == D(2026, 3, 3)
    # 23:30 UTC on Sunday is 07:30 on Monday in China.
    assert calendar.start_day(dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)) == D(2026, 3, 2)


def test_cut_off_comes_from_the_setting():
    with override_settings(WORKDAY_CUTOFF="12:00"):
        assert calendar.start_day(at("2026-03-02 12:30")) == D(2026, 3, 3)
    with override_settings(WORKDAY_CUTOFF="五点"), pytest.raises(ImproperlyConfigured):
        calendar.start_day(at("2026-03-02 12:30"))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="naive"):
        calendar.add_working_days(dt.datetime(2026, 3, 2, 10, 0), 1)
    with pytest.raises(ValueError):
        calendar.add_working_days(at("2026-03-02 10:00"), -1)
    with pytest.raises(TypeError):
        calendar.is_working_day(at("2026-03-02 10:00"))


# -- counting between moments --------------------------------------------------------------


def test_working_days_between():
    monday = at("2026-03-02 10:00")
    assert calendar.working_days_between(monday, at("2026-03-02 20:00")) == 0
    assert calendar.working_days_between(monday, at("2026-03-03 09:00")) == 1
    assert calendar.working_days_between(monday, at("2026-03-07 12:00")) == 4  # Saturday
    assert calendar.working_days_between(at("2026-03-02 18:00"), at("2026-03-03 15:00")) == 0
    assert calendar.working_days_between(monday, at("2026-02-27 10:00")) == 0  # before the start
    # Over the Spring Festival only the make-up Saturday and the 24th count.
    assert calendar.working_days_between(at("2026-02-13 10:00"), at("2026-02-24 10:00")) == 2
    # Into 2027 (Monday to Friday until its notice is imported): 12-31, 01-01, 01-04, 01-05.
    assert calendar.working_days_between(at("2026-12-30 10:00"), D(2027, 1, 5)) == 4


@pytest.mark.parametrize(
    "start",
    [
        "2026-02-13 10:00",
        "2026-02-14 18:00",
        "2026-09-30 18:00",
        "2026-12-20 10:00",
        "2026-03-07 09:00",
    ],
)
def test_between_is_the_inverse_of_add(start):
    moment = at(start)
    for n in range(40):
        due = calendar.add_working_days(moment, n)
        assert calendar.working_days_between(moment, due.due_at) == n


# -- due soon and overdue ------------------------------------------------------------------


def test_due_soon_and_overdue():
    due = calendar.add_working_days(at("2026-03-02 10:00"), 2).due_at  # Wednesday 03-04
    assert due == end_of_day(D(2026, 3, 4))
    assert not calendar.due_soon(due, at("2026-03-02 12:00"))
    assert calendar.due_soon(due, at("2026-03-02 12:00"), within_days=2)
    assert calendar.due_soon(due, at("2026-03-03 09:00"))
    assert not calendar.due_soon(due, at("2026-03-03 09:00"), within_days=0)
    assert calendar.due_soon(due, at("2026-03-04 20:00"), within_days=0)
    assert not calendar.is_overdue(due, at("2026-03-04 23:59:59"))
    assert calendar.is_overdue(due, at("2026-03-05 00:00:01"))
    assert not calendar.due_soon(due, at("2026-03-05 00:00:01"))
    # On a Saturday, Monday is the next working day and Tuesday the one after.
    assert calendar.due_soon(end_of_day(D(2026, 3, 9)), at("2026-03-07 10:00"))
    assert not calendar.due_soon(end_of_day(D(2026, 3, 10)), at("2026-03-07 10:00"))
    with pytest.raises(ValueError):
        calendar.due_soon(due, at("2026-03-02 12:00"), within_days=-1)


def test_now_defaults_to_the_current_time():
    due = end_of_day(D(2026, 3, 4))
    with time_machine.travel(at("2026-03-03 09:00"), tick=False):
        assert calendar.due_soon(due)
        assert not calendar.is_overdue(due)
    with time_machine.travel(at("2026-03-05 08:00"), tick=False):
        assert calendar.is_overdue(due)


# -- unknown years -------------------------------------------------------------------------


def test_unknown_years_fall_back_to_monday_to_friday_and_never_crash():
    assert not calendar.year_known(2027)
    assert not calendar.year_known(2003)
    assert calendar.is_working_day(D(2030, 1, 1))  # a Tuesday; New Year unknown that far ahead
    assert not calendar.is_working_day(D(2030, 1, 5))
    due = calendar.add_working_days(at("2030-06-03 10:00"), 5)
    assert due == Deadline(end_of_day(D(2030, 6, 10)), True)
    assert calendar.add_working_days(at("2003-06-02 10:00"), 1).provisional


def test_15_working_days_from_2026_12_20_run_into_2027_and_are_provisional():
    due = calendar.add_working_days(at("2026-12-20 10:00"), 15)  # a Sunday: starts on 12-21
    assert due == Deadline(end_of_day(D(2027, 1, 11)), True)
    # The same span inside 2026 is final.
    assert not calendar.add_working_days(at("2026-11-20 10:00"), 15).provisional


def test_importing_2027_makes_the_deadline_final_and_moves_it(
    registry, django_capture_on_commit_callbacks
):
    received = at("2026-12-20 10:00")
    over_new_year = {"due": calendar.add_working_days(received, 15)}
    over_spring = {"due": calendar.add_working_days(at("2027-02-01 10:00"), 10)}
    assert over_new_year["due"] == Deadline(end_of_day(D(2027, 1, 11)), True)
    assert over_spring["due"] == Deadline(end_of_day(D(2027, 2, 15)), True)
    assert calendar.start_day(at("2027-01-30 12:00")) == D(2027, 2, 1)
    calls: list[frozenset[int]] = []

    @calendar.register_provisional_recompute
    def recompute(years: frozenset[int]) -> None:
        # What an app does: recompute its provisional deadlines from the stored start.
        calls.append(years)
        if over_new_year["due"].provisional:
            over_new_year["due"] = calendar.add_working_days(received, 15)

    with django_capture_on_commit_callbacks(execute=True):
        result = import_2027()

    assert (result.created, result.years) == (ROWS_2027, (2027,))
    assert calls == [frozenset({2027})]
    assert calendar.year_known(2027)
    # 2027-01-01 is now a holiday: one day later, and final.
    assert over_new_year["due"] == Deadline(end_of_day(D(2027, 1, 12)), False)
    # Spring Festival 6–12 February, with the Saturday 20th worked.
    spring = calendar.add_working_days(at("2027-02-01 10:00"), 10)
    assert spring == Deadline(end_of_day(D(2027, 2, 20)), False)
    assert calendar.start_day(at("2027-01-30 12:00")) == D(2027, 1, 31)  # make-up Sunday


# -- the HolidayDay table ------------------------------------------------------------------


def test_table_entries_override_the_package():
    HolidayDay.objects.create(date=D(2026, 3, 2), kind=HolidayDay.Kind.HOLIDAY, name="本县特别假日")
    HolidayDay.objects.create(date=D(2026, 3, 7), kind=HolidayDay.Kind.WORKDAY, name="补班")
    assert not calendar.is_working_day(D(2026, 3, 2))
    assert calendar.is_working_day(D(2026, 3, 7))
    assert calendar.start_day(at("2026-03-02 10:00")) == D(2026, 3, 3)
    # Overriding a known year keeps deadlines in it final.
    assert not calendar.add_working_days(at("2026-03-02 10:00"), 3).provisional


def test_one_imported_entry_makes_a_year_known():
    HolidayDay.objects.create(date=D(2028, 1, 1), kind=HolidayDay.Kind.HOLIDAY, name="元旦")
    assert calendar.year_known(2028)
    assert not calendar.add_working_days(at("2028-03-01 10:00"), 3).provisional


# -- parsing the CSV -----------------------------------------------------------------------


def test_parse_accepts_chinese_words_headers_encodings_and_date_styles():
    text = "日期,类型,名称\n2027/1/1,放假,元旦,,\n2027年2月20日,上班,春节\n\n2027-04-03,休,\n"
    for data in (text.encode("gbk"), text.encode("utf-8-sig"), text.encode()):
        rows = holidays_csv.parse(data)
        assert [(r.date, r.kind, r.name) for r in rows] == [
            (D(2027, 1, 1), "holiday", "元旦"),
            (D(2027, 2, 20), "workday", "春节"),
            (D(2027, 4, 3), "holiday", ""),
        ]
    # No header: the columns are date, kind, name; English kinds in any case.
    rows = holidays_csv.parse(b"2027-01-01,Holiday,New Year\n2027-01-31,WORKDAY\n")
    assert [r.kind for r in rows] == ["holiday", "workday"]
    # A header may put the columns in another order.
    rows = holidays_csv.parse("kind,date\n班,2027-01-31\n".encode())
    assert rows[0].date == D(2027, 1, 31)
    assert rows[0].kind == "workday"


def test_bad_rows_are_all_reported_in_chinese():
    text = (
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"  # line 2: fine
        "2027-02-30,holiday,春节\n"  # line 3: no such day
        "2027-02-06,请假,春节\n"  # line 4: unknown kind
        "2027-01-01,holiday,元旦\n"  # line 5: duplicate of line 2
        "2027-05-01,holiday," + "劳" * 40 + "\n"  # line 6: name too long
        "2027-05-02,holiday,劳动节,多余\n"  # line 7: extra column
        "1999-05-03,holiday,劳动节\n"  # line 8: year out of range
    )
    with pytest.raises(holidays_csv.HolidayCsvError) as caught:
        holidays_csv.parse(text.encode())
    errors = caught.value.errors
    assert [e.split("：")[0] for e in errors] == [f"第{n}行" for n in (3, 4, 5, 6, 7, 8)]
    assert "日期“2027-02-30”无效" in errors[0]
    assert "类型“请假”无法识别" in errors[1]
    assert "与第2行重复" in errors[2]
    assert "超过 32 个字" in errors[3]
    assert "列数过多" in errors[4]
    assert "年份 1999 超出范围" in errors[5]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "没有数据行"),
        (b"date,kind\n", "没有数据行"),
        ("日期,类别,名称\n2027-01-01,放假,元旦\n".encode(), "表头应为"),
        (b"\xff\xfe\x00\x00" * 10, "编码无法识别"),
        (b"x" * (holidays_csv.MAX_BYTES + 1), "文件过大"),
    ],
)
def test_unreadable_files_are_refused(data, message):
    with pytest.raises(holidays_csv.HolidayCsvError, match=message):
        holidays_csv.parse(data)


# -- importing -----------------------------------------------------------------------------


def test_reimport_is_idempotent_and_updates_changed_rows():
    first = import_2027()
    assert (first.created, first.updated, first.unchanged) == (ROWS_2027, 0, 0)
    again = import_2027()
    assert (again.created, again.updated, again.unchanged) == (0, 0, ROWS_2027)
    assert HolidayDay.objects.count() == ROWS_2027
    assert AuditEvent.objects.filter(action="holiday.imported").count() == 1
    changed = CSV_2027.replace("2027-02-20,上班,春节", "2027-02-20,上班,春节调休")
    result = holidays_csv.import_holidays(
        holidays_csv.parse(changed.encode()), by=None, source="国办发明电〔2026〕7号"
    )
    # The source is new for every row; the name changed for one.
    assert (result.created, result.updated) == (0, ROWS_2027)
    assert HolidayDay.objects.get(date=D(2027, 2, 20)).name == "春节调休"
    assert set(HolidayDay.objects.values_list("source", flat=True)) == {"国办发明电〔2026〕7号"}


def test_dry_run_writes_nothing(registry, django_capture_on_commit_callbacks):
    calendar.register_provisional_recompute(lambda years: pytest.fail("must not recompute"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = holidays_csv.import_holidays(
            holidays_csv.parse(CSV_2027.encode()), by=None, dry_run=True
        )
    assert (result.created, result.dry_run) == (ROWS_2027, True)
    assert "试运行" in result.summary()
    assert HolidayDay.objects.count() == 0
    assert callbacks == []
    assert not calendar.year_known(2027)


def test_import_needs_the_manage_permission(make_user):
    handler = make_user(role="handler")
    with pytest.raises(PermissionDenied):
        holidays_csv.import_holidays(holidays_csv.parse(CSV_2027.encode()), by=handler)
    assert HolidayDay.objects.count() == 0
    admin = make_user(role="admin")
    holidays_csv.import_holidays(holidays_csv.parse(CSV_2027.encode()), by=admin)
    event = AuditEvent.objects.get(action="holiday.imported")
    assert event.actor_id == admin.pk
    assert event.after["years"] == [2027]


def test_recompute_failure_does_not_stop_the_others(registry, django_capture_on_commit_callbacks):
    seen: list[frozenset[int]] = []

    def broken(years: frozenset[int]) -> None:
        raise RuntimeError("app bug")

    calendar.register_provisional_recompute(broken)
    calendar.register_provisional_recompute(seen.append)
    calendar.register_provisional_recompute(seen.append)  # registering twice is harmless
    with django_capture_on_commit_callbacks(execute=True):
        import_2027()
    assert seen == [frozenset({2027})]


# -- the cache -----------------------------------------------------------------------------


def test_years_are_cached(django_assert_num_queries):
    calendar.add_working_days(at("2026-12-20 10:00"), 15)
    with django_assert_num_queries(0):
        for _ in range(100):
            calendar.add_working_days(at("2026-12-20 10:00"), 15)
            calendar.is_working_day(D(2027, 1, 1))


def test_cache_invalidates_after_import():
    assert calendar.add_working_days(at("2026-12-20 10:00"), 15).provisional
    assert calendar.is_working_day(D(2027, 1, 1))
    import_2027()  # not committed yet (the test's transaction): read fresh, not cached
    assert not calendar.is_working_day(D(2027, 1, 1))
    assert calendar.add_working_days(at("2026-12-20 10:00"), 15) == Deadline(
        end_of_day(D(2027, 1, 12)), False
    )


def test_cache_invalidates_after_an_edit_or_a_delete():
    import_2027()
    day = HolidayDay.objects.get(date=D(2027, 1, 1))
    day.kind = HolidayDay.Kind.WORKDAY
    day.save()
    assert calendar.is_working_day(D(2027, 1, 1))
    HolidayDay.objects.filter(date__year=2027).delete()
    assert not calendar.year_known(2027)


def test_other_processes_changes_are_seen_through_the_shared_version(monkeypatch):
    assert calendar.is_working_day(D(2027, 1, 1))
    # Another process imports: rows appear without signals in this process...
    HolidayDay.objects.bulk_create(
        [HolidayDay(date=D(2027, 1, 1), kind=HolidayDay.Kind.HOLIDAY, name="元旦")]
    )
    assert calendar.is_working_day(D(2027, 1, 1))  # ...so the cache still answers
    cache.set(calendar.VERSION_KEY, "bumped-by-another-process")  # ...and it bumps the version.
    assert calendar.is_working_day(D(2027, 1, 1))  # not looked at again within the interval
    monkeypatch.setattr(calendar, "VERSION_CHECK_SECONDS", 0.0)
    assert not calendar.is_working_day(D(2027, 1, 1))


@pytest.mark.django_db(transaction=True)
def test_committed_change_bumps_the_version_and_rollback_is_forgotten():
    before = cache.get(calendar.VERSION_KEY)
    with pytest.raises(RuntimeError), transaction.atomic():
        HolidayDay.objects.create(date=D(2027, 1, 4), kind=HolidayDay.Kind.HOLIDAY)
        assert not calendar.is_working_day(D(2027, 1, 4))
        raise RuntimeError("rolled back")
    assert calendar.is_working_day(D(2027, 1, 4))
    assert cache.get(calendar.VERSION_KEY) == before
    HolidayDay.objects.create(date=D(2027, 1, 4), kind=HolidayDay.Kind.HOLIDAY)
    assert cache.get(calendar.VERSION_KEY) != before
    assert not calendar.is_working_day(D(2027, 1, 4))


# -- the command ---------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("holidays", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_imports_with_progress_and_summary(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(CSV_2027, encoding="utf-8")
    out, err = run("import", str(path), "--dry-run")
    assert "（试运行，未写入）2027年：新增 21 条" in out
    assert HolidayDay.objects.count() == 0
    out, err = run("import", str(path), "--source", "国办发明电〔2026〕7号")
    assert "21 行数据校验通过" in err
    assert "已写入 21/21" in err
    assert "2027年：新增 21 条，更新 0 条，未变 0 条" in out
    assert "重新计算" in out
    assert HolidayDay.objects.filter(source="国办发明电〔2026〕7号").count() == ROWS_2027
    out, _err = run("import", str(path))
    assert "新增 0 条，更新 0 条，未变 21 条" in out


def test_command_rejects_a_bad_file_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,元旦\n")
    with pytest.raises(CommandError, match="1 处错误，未写入任何数据"):
        run("import", str(path))
    assert HolidayDay.objects.count() == 0
    with pytest.raises(CommandError, match="无法读取文件"):
        run("import", str(tmp_path / "missing.csv"))


def test_command_show():
    out, _err = run("show", "2026")
    assert out.startswith("2026 年：已知（chinesecalendar 软件包）")
    assert "2026-02-14 星期六 上班 春节" in out
    assert "2026-02-16 星期一 放假 春节" in out
    out, _err = run("show", "2027")
    assert "2027 年：未知" in out
    assert "全年工作日 261 天" in out
    import_2027()
    out, _err = run("show", "2027")
    assert "2027 年：已知（导入的节假日安排，21 条）" in out
    assert "2027-02-20 星期六 上班 春节" in out
    assert "全年工作日 254 天" in out
    HolidayDay.objects.create(date=D(2026, 3, 2), kind=HolidayDay.Kind.HOLIDAY, name="本县假日")
    out, _err = run("show", "2026")
    assert "另有 1 条导入的安排优先" in out
    assert "2026-03-02 星期一 放假 本县假日（导入）" in out
    with pytest.raises(CommandError):
        run("show", "0")


# -- the admin -----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(role="admin", is_staff=True))
    return client


def upload(client, text: str, source: str = ""):
    file = SimpleUploadedFile("2027.csv", text.encode(), content_type="text/csv")
    return client.post(reverse("admin:core_holidayday_import"), {"file": file, "source": source})


def test_admin_upload_rejects_bad_rows_in_chinese(admin_client):
    response = admin_client.get(reverse("admin:core_holidayday_import"))
    assert response.status_code == 200
    assert "导入节假日安排" in response.content.decode()
    bad = "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,请假,元旦\n"
    response = upload(admin_client, bad)
    assert response.status_code == 200
    assert "第3行：类型“请假”无法识别" in response.content.decode()
    assert HolidayDay.objects.count() == 0


def test_admin_upload_imports_and_recomputes(
    admin_client, registry, django_capture_on_commit_callbacks
):
    seen: list[frozenset[int]] = []
    calendar.register_provisional_recompute(seen.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin_client, CSV_2027, source="国办发明电〔2026〕7号")
    assert response.status_code == 302
    assert response["Location"].endswith("?year=2027")
    assert HolidayDay.objects.count() == ROWS_2027
    assert seen == [frozenset({2027})]
    assert AuditEvent.objects.filter(action="holiday.imported").count() == 1
    page = admin_client.get(response["Location"]).content.decode()
    assert "春节" in page
    assert "导入节假日安排（CSV）" in page


def test_admin_list_filters_by_year(admin_client):
    import_2027()
    HolidayDay.objects.create(date=D(2026, 3, 2), kind=HolidayDay.Kind.HOLIDAY, name="本县假日")
    url = reverse("admin:core_holidayday_changelist")
    page = admin_client.get(url, {"year": "2026"}).content.decode()
    assert "本县假日" in page
    assert "劳动节" not in page
    assert "2027年" in page  # offered as a filter


def test_admin_add_edit_delete_go_through_the_actions(
    admin_client, registry, django_capture_on_commit_callbacks
):
    seen: list[frozenset[int]] = []
    calendar.register_provisional_recompute(seen.append)
    add = reverse("admin:core_holidayday_add")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            add, {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "source": ""}
        )
    assert response.status_code == 302
    day = HolidayDay.objects.get()
    assert not calendar.is_working_day(D(2027, 1, 1))
    change = reverse("admin:core_holidayday_change", args=[day.pk])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(change, {"date": "2028-01-03", "kind": "holiday", "name": "元旦"})
    assert calendar.is_working_day(D(2027, 1, 1))
    assert not calendar.is_working_day(D(2028, 1, 3))
    changelist = reverse("admin:core_holidayday_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            changelist, {"action": "delete_selected", "_selected_action": [day.pk], "post": "yes"}
        )
    assert not HolidayDay.objects.exists()
    assert calendar.is_working_day(D(2028, 1, 3))
    assert seen == [frozenset({2027}), frozenset({2027, 2028}), frozenset({2028})]
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["holiday.saved", "holiday.saved", "holiday.deleted"]
    edit = AuditEvent.objects.filter(action="holiday.saved").order_by("id").last()
    assert edit.before["date"] == "2027-01-01"
    assert edit.after["date"] == "2028-01-03"


def test_admin_is_for_system_admins_only(client, make_user):
    client.force_login(make_user(role="handler", is_staff=True))
    assert client.get(reverse("admin:core_holidayday_import")).status_code == 403
    assert client.get(reverse("admin:core_holidayday_changelist")).status_code == 403
    handler = make_user(role="handler")
    with pytest.raises(PermissionDenied):
        calendar.save_holiday(HolidayDay(date=D(2027, 1, 1), kind="holiday"), by=handler)
    assert not HolidayDay.objects.exists()
