"""Command-line entry points, at the edge: they read the settings and wire the engine to the database, which the
library packages never do themselves (`python -m cli.analyze`, `python -m cli.accounts`, `python -m cli.retention`)."""
