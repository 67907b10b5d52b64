"""The Streamlit app: a thin edge over engine/ and db/ (nothing imports it)."""
