"""The benchmark harness: the quality comparison (``compare``), its tables and plots, the
localisation benchmark with a known answer (``bench-localisation``) and its noise-region probe,
and the speed benchmark (``bench-speed``)."""
