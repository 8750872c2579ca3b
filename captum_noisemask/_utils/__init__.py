"""Private helpers shared by the method, the metrics and the experiments."""
