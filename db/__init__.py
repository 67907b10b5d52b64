"""SQLAlchemy 2.0 schema, sessions, the batched observation writer, aggregate queries and reports."""
