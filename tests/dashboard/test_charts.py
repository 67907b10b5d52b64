import pandas as pd

from dashboard.charts import attention_line


def test_the_attention_chart_names_its_lines_in_words() -> None:
    windows = pd.date_range("2026-11-02 09:00", periods=3, freq="10s", tz="UTC")
    attention = pd.DataFrame({"window": windows, "attentive": [0.5, 0.2, 0.0], "looking_down": [0.5, 0.8, 1.0],
                              "looking_away": [0.0] * 3, "eyes_closed": [0.0] * 3, "observations": [6] * 3,
                              "participants": [3] * 3})
    fig = attention_line(attention)
    lines = {trace.name: list(trace.y) for trace in fig.data}
    assert set(lines) == {"attentive", "looking down", "looking away", "eyes closed"}
    assert lines["looking down"] == [0.5, 0.8, 1.0]
    assert not fig.layout.legend.title.text
