"""Ingest: expression and clinical inputs (formats, GEO, download, gene ids, single-cell) read and checked."""
