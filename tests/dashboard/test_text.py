import pytest
from markdown_it import MarkdownIt

from dashboard.text import md_escape, plotly_escape

NASTY = ["[Click for free pizza](https://evil.example)", "**bold** and _it_", "# heading", "`code`", "<b>html</b>",
         "$x^2$", "a\\b", "1. list", "- item", "![img](x.png)", "Ada Lovelace", "Zoë O'Brien-Smith"]


@pytest.mark.parametrize("text", NASTY)
def test_markdown_sees_only_the_text_as_typed(text: str) -> None:
    (block,) = [t for t in MarkdownIt().parse(f"You are in **{md_escape(text)}**.") if t.type == "inline"]
    kinds = [t.type for t in block.children or []]
    assert kinds == ["text", "strong_open", "text", "strong_close", "text"]
    assert (block.children or [])[2].content == text


def test_plotly_labels_lose_their_tags() -> None:
    assert plotly_escape('<a href="https://x">Ada</a>') == '&lt;a href="https://x"&gt;Ada&lt;/a&gt;'
