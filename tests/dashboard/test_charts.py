import itertools

import pandas as pd
import pytest

from dashboard import charts
from dashboard.charts import attention_line
from tests.dashboard.colour_vision import SIMULATIONS, distance


def test_the_attention_chart_names_its_lines_in_words() -> None:
    windows = pd.date_range("2026-11-02 09:00", periods=3, freq="10s", tz="UTC")
    attention = pd.DataFrame({"window": windows, "attentive": [0.5, 0.2, 0.0], "looking_down": [0.5, 0.8, 1.0],
                              "looking_away": [0.0] * 3, "eyes_closed": [0.0] * 3, "observations": [6] * 3,
                              "participants": [3] * 3})
    fig = attention_line(attention)
    lines = {trace.name: list(trace.y) for trace in fig.data}
    assert set(lines) == {"attentive", "looking down", "looking away", "eyes closed"}
    assert lines["looking down"] == [0.5, 0.8, 1.0]
    assert {trace.name: trace.line.color for trace in fig.data}["looking away"] == charts.ATTENTION_COLOURS["looking_away"]
    assert not fig.layout.legend.title.text


def test_students_are_counted_in_whole_numbers_on_the_axis() -> None:
    from dashboard.charts import participants_line

    windows = pd.date_range("2026-11-02 09:00", periods=3, freq="10s", tz="UTC")
    small = participants_line(pd.DataFrame({"window": windows, "participants": [1, 2, 2]}))
    large = participants_line(pd.DataFrame({"window": windows, "participants": [12, 30, 28]}))
    assert (small.layout.yaxis.tick0, small.layout.yaxis.dtick) == (0, 1)  # 0, 1, 2: no 0.5 students
    assert large.layout.yaxis.dtick == 6


def test_an_empty_chart_says_why() -> None:
    from dashboard.charts import mood_area

    empty = pd.DataFrame(columns=["window"])
    assert mood_area(empty).layout.annotations[0].text == "No emotion data yet"
    hidden = attention_line(empty, empty="Hidden until 3 students stream at once, to protect privacy")
    assert hidden.layout.annotations[0].text.startswith("Hidden until 3 students")


@pytest.mark.parametrize("vision", list(SIMULATIONS))
@pytest.mark.parametrize("palette", ["EMOTION_COLOURS", "ATTENTION_COLOURS", "MOMENT_COLOURS", "TREND_COLOURS"])
def test_every_chart_palette_stays_apart_for_colour_blind_readers(palette: str, vision: str) -> None:
    colours = getattr(charts, palette)
    closest = min((distance(colours[a], colours[b], vision), a, b) for a, b in itertools.combinations(colours, 2))
    assert closest[0] >= 12.0, f"{palette}: {closest[1]} and {closest[2]} look alike with {vision} ({closest[0]:.1f})"


def test_the_simulation_tells_the_classic_red_green_pair_apart_only_with_normal_vision() -> None:
    red, green = "#d62728", "#2ca02c"  # Plotly's default red and green series
    assert distance(red, green) > 50 and distance(red, green, "deuteranopia") < 10
    assert distance("#000000", "#ffffff", "protanopia") > 99
