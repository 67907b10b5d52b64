"""The app as an ASGI application: Streamlit's pages (dashboard/app.py) plus the routes of dashboard/web.py.

`streamlit run dashboard/asgi.py` serves it (dashboard.serve does, for scripts/run.sh).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts dashboard/ on the path, the packages live one level up
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard.web import routes  # noqa: E402

app = st.App("app.py", routes=routes())
