"""Face detection, emotion classification, tracking and per-stream processing (no Streamlit, no database)."""
