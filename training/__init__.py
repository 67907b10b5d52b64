"""FER2013 loading, the model zoo, training, evaluation and export (imports engine, never dashboard or db)."""
