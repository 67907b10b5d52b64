"""The session report: one self-contained HTML page (Plotly embedded, so it opens offline and prints to PDF from a
browser), rendered from templates/report.html with every figure under the privacy rule (db.class_figures)."""
from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dashboard import charts
from dashboard.times import in_zone, stamp, zone_name
from db.class_figures import ClassFigures

TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                   trim_blocks=True, lstrip_blocks=True)
ATTENTION_NAMES = {"attentive": "Attentive (eyes open, facing the screen)",
                   "looking_down": "Looking down (reading or writing)", "looking_away": "Looking away",
                   "eyes_closed": "Eyes closed"}


def file_stem(title: str) -> str:
    """A lesson title as the start of a download's file name: letters and digits, dashes between."""
    return "".join(ch if ch.isalnum() else "-" for ch in title).strip("-").lower() or "lesson"


def duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    minutes = max(0, round((end - start).total_seconds() / 60))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def html_report(figures: ClassFigures, zone: tzinfo, emotion: bool = True, now: datetime | None = None) -> str:
    """The report of one lesson; `emotion` False (attention-only deployments) leaves every mood figure out."""
    summary = figures.summary
    label = f"Time ({zone_name(zone)})"
    mood = in_zone(figures.mood, "window", zone)
    attention = in_zone(figures.attention, "window", zone)
    shown = figures.windows - figures.hidden
    people = mood if not mood.empty else attention
    ticks = charts.tick_minutes(people["window"]) if not people.empty else 1
    moments = figures.moments(emotion)
    chart_list = []
    if emotion and not mood.empty:
        chart_list.append(charts.mark_moments(charts.mood_area(mood, "Class mood per minute", label, ticks),
                                              [m for m in moments if m.kind != "attention"], zone))
    if not attention.empty:
        chart_list.append(charts.mark_moments(charts.attention_line(attention, "Attention per minute", label, ticks),
                                              [m for m in moments if m.kind == "attention"], zone))
    if shown:
        chart_list.append(charts.participants_line(people, "Students streaming per minute", label, ticks))
    html_charts = [Markup(fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False,
                                      config={"displaylogo": False, "responsive": True}))
                   for i, fig in enumerate(chart_list)]
    mood_rows = sorted(figures.mean_mood.items(), key=lambda kv: -kv[1]) if emotion else []
    attention_rows = [(ATTENTION_NAMES[k], v) for k, v in figures.mean_attention.items()]
    return _env.get_template("report.html").render(
        title=summary.title, zone=zone_name(zone),
        started=stamp(summary.started_at, zone, with_zone=False), ended=stamp(summary.ended_at, zone, with_zone=False),
        duration=duration(summary.started_at, summary.ended_at), joined=summary.participants,
        peak=figures.peak_students if (figures.individuals or figures.peak_students >= figures.min_group) else 0,
        windows=figures.windows, hidden=figures.hidden, shown_windows=shown, min_group=figures.min_group,
        individuals=figures.individuals, emotion=emotion,
        dominant=figures.dominant if emotion else None,
        mood=[(k, f"{v:.1%}") for k, v in mood_rows], attention=[(k, f"{v:.1%}") for k, v in attention_rows],
        charts=html_charts, generated=stamp(now or datetime.now(UTC), zone),
        moments=[(stamp(m.start.to_pydatetime(), zone, with_zone=False)[11:], m.describe()) for m in moments],
    )
