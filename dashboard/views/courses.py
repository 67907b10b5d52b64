"""Courses: a class group's lessons over the weeks, as one trend chart and a table; class figures only."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts
from dashboard.auth import require
from dashboard.resources import get_settings, teaching
from dashboard.times import stamp, zone_name

st.title("Courses")
account = require("teacher", "admin")
settings = get_settings()
service = teaching()
zone = settings.zone

courses = service.courses(account)
if not courses:
    st.info("No courses yet. On the *Teacher dashboard*, give a new lesson a course (a class group such as "
            "\"9B maths\"); its lessons then appear here side by side.")
    st.stop()

names = {c.id: f"{c.name} ({c.lessons} lesson{'s' if c.lessons != 1 else ''})"
         + (f" – {c.owner}" if account.is_admin and c.owner else "") for c in courses}
course_id = st.selectbox("Course", list(names), format_func=names.__getitem__)
trend = service.course_trend(account, course_id)
if trend.empty:
    st.info("No lesson of this course has started yet.")
    st.stop()
local = trend.assign(started_at=trend["started_at"].dt.tz_convert(zone))
st.plotly_chart(charts.course_trend(local, f"Lesson start ({zone_name(zone)})"), key="trend")
table = pd.DataFrame({
    f"started ({zone_name(zone)})": [stamp(t.to_pydatetime(), zone, with_zone=False) for t in trend["started_at"]],
    "lesson": trend["title"], "minutes": trend["minutes"], "students": trend["students"],
    "attentive": trend["attentive"], **({"positive": trend["positive"], "negative": trend["negative"]}
                                         if settings.emotion_inference else {}),
    "moments": trend["moments"]})
st.dataframe(table, hide_index=True, width="stretch", column_config={
    c: st.column_config.NumberColumn(format="percent") for c in ("attentive", "positive", "negative")})
st.caption(f"Shares over the minutes with {settings.min_group_size} or more students streaming; an empty cell means "
           "the lesson had no such minute.")
