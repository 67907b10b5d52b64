"""The session report: the privacy rule on every figure, attention, local times, plain-text titles, printable."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.report import html_report
from db.class_figures import class_figures
from db.schema import LessonSession
from db.session import open_database
from tests.db.test_class_figures import ATTENTIVE, AWAY, lesson_with

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def report_of(tmp_path: Path, plan, title: str = "Chemistry", zone=UTC, emotion: bool = True) -> str:  # type: ignore[no-untyped-def]
    _engine, sessions = open_database(f"sqlite:///{tmp_path / 'report.db'}")
    lesson_id = lesson_with(sessions, plan)
    with sessions.begin() as s:
        lesson = s.get(LessonSession, lesson_id)
        lesson.title, lesson.ended_at = title, datetime(2026, 11, 2, 9, 45, tzinfo=UTC)
    with sessions() as s:
        figures = class_figures(s, lesson_id, min_group=3, individuals=False)
    return html_report(figures, zone, emotion, now=NOW)


def percentages(report: str) -> list[str]:
    """The figures in the report's text (its tables), outside the embedded Plotly library and chart data."""
    text = re.sub(r"<script.*?</script>", "", report, flags=re.S)
    return re.findall(r"\d+\.\d%", text)


def test_a_one_student_lesson_shows_no_figure_of_that_student(tmp_path: Path) -> None:
    report = report_of(tmp_path, [("Ada", m, "Sad", AWAY) for m in range(3)])
    assert "has no class figures" in report
    assert percentages(report) == [] and "plotly" not in report.lower()  # no table, no chart
    assert "1 student joined" in report and "streaming at once" not in report


def test_every_figure_leaves_out_the_minutes_with_too_few_students(tmp_path: Path) -> None:
    plan = [(name, m, "Happy", ATTENTIVE) for name in ("Ada", "Bob", "Cy") for m in (0, 1)]
    plan += [("Ada", m, "Sad", AWAY) for m in (2, 3)]
    report = report_of(tmp_path, plan)
    assert "2 of 4 minutes had fewer than 3 students" in report
    assert "Most often: <b>Happy</b>" in report
    tables = percentages(report)
    assert "70.0%" in tables and "100.0%" in tables  # Happy's share; attentive in the minutes shown
    assert "Looking away" in report and "Attention per minute" in report  # attention is reported
    # the charts' data hold the two shown minutes only (09:00 and 09:01), never Ada's minutes alone
    assert "2026-11-02T09:02" not in report and "2026-11-02T09:03" not in report
    assert "2026-11-02T09:00:00" in report and "2026-11-02T09:01:00" in report
    assert report.count('"tickformat":"%H:%M"') >= 3  # the per-minute axes read in hours and minutes


def test_times_are_in_the_schools_zone_and_say_so(tmp_path: Path) -> None:
    plan = [(name, 0, "Happy", ATTENTIVE) for name in ("Ada", "Bob", "Cy")]
    report = report_of(tmp_path, plan, zone=ZoneInfo("Europe/Berlin"))
    assert "2026-11-02 10:00 – 2026-11-02 10:45 (Europe/Berlin)" in report and "45 min" in report
    # the chart axes are titled with the zone and plot the local wall time (Plotly's JSON escapes the slash)
    assert "Time (Europe\\u002fBerlin)" in report and '"x":["2026-11-02T10:00:00' in report


def test_attention_only_reports_leave_every_mood_figure_out(tmp_path: Path) -> None:
    plan = [(name, 0, "Happy", ATTENTIVE) for name in ("Ada", "Bob", "Cy")]
    report = report_of(tmp_path, plan, emotion=False)
    assert "Class mood" not in report and "Happy" not in report and "facial expressions" not in report
    assert "Attentive (eyes open, facing the screen)" in report


def test_a_title_with_markup_is_plain_text_and_the_page_prints(tmp_path: Path) -> None:
    title = "<script>alert(1)</script> **Year 9** [pizza](https://example.com)"
    report = report_of(tmp_path, [("Ada", 0, "Happy", ATTENTIVE)], title=title)
    assert "<script>alert(1)" not in report and "&lt;script&gt;alert(1)&lt;/script&gt; **Year 9**" in report
    assert "<a " not in report.split("<body>")[1].split("<div class=\"chart\">")[0]
    assert "@media print" in report and "break-inside: avoid" in report


def test_the_report_lists_the_moments_that_mattered(tmp_path: Path) -> None:
    plan = [(name, m, "Happy", AWAY if 6 <= m < 9 else ATTENTIVE) for name in ("Ada", "Bob", "Cy") for m in range(12)]
    report = report_of(tmp_path, plan)
    assert "Moments that mattered" in report
    assert "<td>09:06</td><td>Attention fell from 100% to 0% for 3 min (3 students)</td>" in report
