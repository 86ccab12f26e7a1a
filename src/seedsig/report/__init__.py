"""Report: the HTML report a biologist reads, its sections, methods text and figures."""
