"""Operations: tasks, progress, quality management, handover, residual contamination, victim assistance.

Pure domain rules (Python, NumPy, Shapely): no database, web or CLI. Storage,
access, the CLI and the REST API build on these; docs/operations.md lists the
entities and fields they need.
"""
