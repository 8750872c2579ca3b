"""The benchmark harness: the quality comparison (``compare``), its tables and plots, and the
speed benchmark (``bench-speed``)."""
