"""A self-contained HTML session report: summary figures and the class-mood charts."""
from __future__ import annotations

import html

import pandas as pd

from dashboard import charts
from db.queries import SessionSummary


def html_report(summary: SessionSummary, shares: pd.DataFrame, min_group: int) -> str:
    """One HTML page with Plotly embedded, so it opens offline and can be printed to PDF."""
    visible = shares[shares["participants"] >= min_group] if not shares.empty else shares
    figures = [charts.mood_area(visible, "Class mood per minute"), charts.participants_line(shares)]
    parts = [fig.to_html(full_html=False, include_plotlyjs="inline" if i == 0 else False) for i, fig in enumerate(figures)]
    def fmt(ts: object) -> str:
        return ts.strftime("%Y-%m-%d %H:%M UTC") if ts is not None else "–"  # type: ignore[attr-defined]
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.1%}</td></tr>"
                   for k, v in sorted(summary.mean_probabilities.items(), key=lambda kv: -kv[1]))
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(summary.title)} – session report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2rem auto;color:#222}}
table{{border-collapse:collapse}}td{{padding:2px 12px;border-bottom:1px solid #eee}}.muted{{color:#777}}</style></head>
<body><h1>{html.escape(summary.title)}</h1>
<p>Started {fmt(summary.started_at)} · ended {fmt(summary.ended_at)} · {summary.participants} students ·
{summary.observations} records · overall mood: <b>{html.escape(summary.dominant or '–')}</b></p>
<h2>Average class mood</h2><table>{rows or '<tr><td>no emotion data</td></tr>'}</table>
{''.join(parts)}
<p class="muted">Class-level figures only; minutes with fewer than {min_group} students are not shown in the mood chart.
Estimates describe facial expressions, not feelings, and are often wrong for individuals.</p></body></html>"""
