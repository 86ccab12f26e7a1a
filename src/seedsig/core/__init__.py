"""What every stage shares: errors, tables, provenance, AnnData I/O, small statistics, the figure style."""
