"""SQL back-tests: detections compiled to SQL and run by DuckDB or Athena."""
