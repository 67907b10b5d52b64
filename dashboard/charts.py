"""Pure chart builders: DataFrame (or typed result) in, Plotly figure out. No Streamlit here."""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import tzinfo

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.text import plotly_escape
from db.moments import Moment
from engine.types import ATTENTION_STATES, EMOTIONS, Prediction

# One colour per emotion, used by every chart so a colour always means the same feeling. The colours are Okabe and
# Ito's, chosen to stay apart for readers with red-green or blue-yellow colour blindness (tests/dashboard/test_charts.py
# checks every palette here under simulated protanopia, deuteranopia and tritanopia).
EMOTION_COLOURS: dict[str, str] = {
    "Angry": "#D55E00", "Disgust": "#009E73", "Fear": "#CC79A7", "Happy": "#DDAA33", "Sad": "#0072B2",
    "Surprise": "#56B4E9", "Neutral": "#BBBBBB",
}
ATTENTION_COLOURS: dict[str, str] = {
    "attentive": "#009E73", "looking_down": "#0072B2", "looking_away": "#E69F00", "eyes_closed": "#444444",
}
# the course trend's three lines: attention, and mood as its positive and negative shares
TREND_COLOURS: dict[str, str] = {
    "attentive": ATTENTION_COLOURS["attentive"], "positive": EMOTION_COLOURS["Happy"], "negative": EMOTION_COLOURS["Angry"],
}
LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "legend": {"orientation": "h", "yanchor": "top", "y": -0.34}}


def finish(fig: go.Figure, time_title: str | None = None, tick_minutes: int | None = None) -> go.Figure:
    """Axes that make room for their own labels (Plotly clips them otherwise with these narrow margins) and, for a
    time axis, its title (which says the time zone) and, for per-minute charts, a tick every `tick_minutes`
    minutes reading hours and minutes."""
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    if time_title is not None:
        fig.update_xaxes(title=time_title)
    if tick_minutes:
        fig.update_xaxes(tickformat="%H:%M", dtick=tick_minutes * 60_000)
    return fig


MOMENT_COLOURS = {"attention": ATTENTION_COLOURS["looking_away"], "positive": ATTENTION_COLOURS["attentive"],
                  "negative": EMOTION_COLOURS["Angry"]}


def mark_moments(fig: go.Figure, moments: Sequence[Moment], zone: tzinfo) -> go.Figure:
    """Shade each moment's span on a time chart, labelled with what happened."""
    for moment in moments:
        fig.add_vrect(x0=moment.start.tz_convert(zone), x1=moment.end.tz_convert(zone), line_width=0, opacity=0.15,
                      fillcolor=MOMENT_COLOURS[moment.kind], annotation_text=moment.kind,
                      annotation_position="top left", annotation_font_size=11)
    return fig


ZOOM_MARGIN = pd.Timedelta(minutes=2)


def zoom_to(fig: go.Figure, moment: Moment | None, zone: tzinfo, margin: pd.Timedelta = ZOOM_MARGIN) -> go.Figure:
    """A time chart narrowed to a moment (with `margin` either side) and the moment shaded; unchanged for None."""
    if moment is None:
        return fig
    fig.update_xaxes(range=[(moment.start - margin).tz_convert(zone), (moment.end + margin).tz_convert(zone)])
    return mark_moments(fig, [moment], zone)


def tick_minutes(windows: pd.Series, ticks: int = 10) -> int:
    """Minutes between ticks so that a per-minute axis over `windows` shows about `ticks` of them."""
    if windows.empty:
        return 1
    span = (windows.max() - windows.min()).total_seconds() / 60
    return next((m for m in (1, 2, 5, 10, 15, 30, 60, 120) if span / m <= ticks), 240)


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15, "color": "#888"})
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=260, **LAYOUT)
    return fig


def mood_area(shares: pd.DataFrame, title: str = "Class mood over time", time_title: str = "Time",
              tick_minutes: int | None = None, empty: str = "No emotion data yet") -> go.Figure:
    """Stacked area of the seven emotion shares per window (rows of `emotion_shares`); `empty` says why there are
    none."""
    if shares.empty:
        return empty_figure(empty)
    long = shares.melt(id_vars="window", value_vars=list(EMOTIONS), var_name="emotion", value_name="share")
    fig = px.area(long, x="window", y="share", color="emotion", color_discrete_map=EMOTION_COLOURS,
                  category_orders={"emotion": list(EMOTIONS)}, title=title)
    fig.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1], "title": None}, height=340, **LAYOUT)
    return finish(fig, time_title, tick_minutes)


def current_distribution(shares: pd.DataFrame, title: str = "Right now") -> go.Figure:
    """Horizontal bars of the latest window's emotion shares."""
    if shares.empty:
        return empty_figure("Waiting for students")
    latest = shares.iloc[-1]
    values = [float(latest[e]) for e in EMOTIONS]
    fig = go.Figure(go.Bar(x=values, y=list(EMOTIONS), orientation="h",
                           marker_color=[EMOTION_COLOURS[e] for e in EMOTIONS],
                           text=[f"{v:.0%}" for v in values], textposition="auto"))
    fig.update_layout(title=title, xaxis={"tickformat": ".0%", "range": [0, 1]}, height=340,
                      yaxis={"autorange": "reversed"}, **LAYOUT)
    return finish(fig)


ATTENTION_LABELS = {state: state.replace("_", " ") for state in ATTENTION_STATES}  # columns -> legend entries


def attention_line(attention: pd.DataFrame, title: str = "Attention", time_title: str = "Time",
                   tick_minutes: int | None = None, empty: str = "No attention data yet") -> go.Figure:
    """Share of the class attentive (eyes open, facing the screen), looking down, looking away and with eyes
    closed; `empty` says why there are none."""
    if attention.empty:
        return empty_figure(empty)
    long = attention.rename(columns=ATTENTION_LABELS).melt(
        id_vars="window", value_vars=list(ATTENTION_LABELS.values()), var_name="signal", value_name="share")
    fig = px.line(long, x="window", y="share", color="signal", title=title,
                  color_discrete_map={ATTENTION_LABELS[state]: ATTENTION_COLOURS[state] for state in ATTENTION_STATES})
    fig.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1], "title": None}, height=300, **LAYOUT)
    fig.update_layout(legend_title_text="")
    return finish(fig, time_title, tick_minutes)


def participants_line(shares: pd.DataFrame, title: str = "Students streaming", time_title: str = "Time",
                      tick_minutes: int | None = None) -> go.Figure:
    """Students contributing per window."""
    if shares.empty:
        return empty_figure("Nobody streaming yet")
    fig = px.line(shares, x="window", y="participants", title=title, markers=True)
    step = max(1, math.ceil(int(shares["participants"].max()) / 5))  # whole students: no 0.5 ticks
    fig.update_layout(yaxis={"rangemode": "tozero", "title": None, "tick0": 0, "dtick": step}, height=260, **LAYOUT)
    return finish(fig, time_title, tick_minutes)


def timeline_heatmap(frame: pd.DataFrame, names: dict[int, str], window: str = "30s",
                     time_title: str = "Time") -> go.Figure:
    """Per-student dominant emotion over time: one row per student, colour = the most likely emotion."""
    scored = frame.dropna(subset=["label"]) if not frame.empty else frame
    if scored.empty:
        return empty_figure("No per-student data")
    bucket = scored.assign(window=scored["ts"].dt.floor(window))
    top = bucket.groupby(["participant_id", "window"])["label"].agg(lambda s: s.value_counts().index[0]).reset_index()
    codes = {e: i for i, e in enumerate(EMOTIONS)}
    pivot = top.assign(code=top["label"].map(codes)).pivot(index="participant_id", columns="window", values="code")
    scale = [[i / (len(EMOTIONS) - 1), EMOTION_COLOURS[e]] for i, e in enumerate(EMOTIONS)]
    labels = pivot.apply(lambda col: col.map(lambda v: EMOTIONS[int(v)] if pd.notna(v) else ""))
    fig = go.Figure(go.Heatmap(z=pivot.to_numpy(), x=list(pivot.columns), y=[plotly_escape(names.get(int(p), str(p))) for p in pivot.index],
                               colorscale=scale, zmin=0, zmax=len(EMOTIONS) - 1, showscale=False,
                               text=labels.to_numpy(), hovertemplate="%{y} %{x}: %{text}<extra></extra>"))
    fig.update_layout(title="Per-student timeline", height=120 + 28 * len(pivot), **LAYOUT)
    return finish(fig, time_title)


def course_trend(trend: pd.DataFrame, time_title: str = "Lesson") -> go.Figure:
    """Attention and mood per lesson of a course (rows of db.courses.course_trend, times already local)."""
    shown = trend.dropna(subset=["attentive", "positive", "negative"], how="all") if not trend.empty else trend
    if shown.empty:
        return empty_figure("No lesson of this course has class figures yet")
    series = [c for c in ("attentive", "positive", "negative") if shown[c].notna().any()]
    long = shown.melt(id_vars=["started_at", "title"], value_vars=series, var_name="figure", value_name="share")
    long["title"] = long["title"].map(plotly_escape)
    fig = px.line(long, x="started_at", y="share", color="figure", markers=True, hover_data={"title": True},
                  title="Attention and mood per lesson",
                  color_discrete_map=TREND_COLOURS)
    fig.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1], "title": None}, height=340, **LAYOUT)
    return finish(fig, time_title)


def probability_bars(prediction: Prediction, title: str = "") -> go.Figure:
    """All seven class probabilities of one face."""
    values = list(prediction.probabilities)
    fig = go.Figure(go.Bar(x=list(prediction.labels), y=values, text=[f"{v:.0%}" for v in values], textposition="auto",
                           marker_color=[EMOTION_COLOURS.get(label, "#888") for label in prediction.labels]))
    fig.update_layout(title=title, yaxis={"tickformat": ".0%", "range": [0, 1]}, height=260, **LAYOUT)
    return finish(fig)
