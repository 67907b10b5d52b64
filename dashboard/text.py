"""User-supplied strings (display names, lesson titles) shown as plain text wherever Streamlit or Plotly would
otherwise interpret them: Markdown (links, emphasis, emoji and icon codes, LaTeX) and Plotly's HTML subset."""
from __future__ import annotations

import html
import re

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it leaves nothing to interpret.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=\"'&%^@,;?/])")


def md_escape(text: str) -> str:
    """`text` for a Markdown context (st.success, st.subheader, …), rendered exactly as typed."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def plotly_escape(text: str) -> str:
    """`text` for a Plotly label, which renders <a>, <b>, <br> and friends."""
    return html.escape(text, quote=False)
