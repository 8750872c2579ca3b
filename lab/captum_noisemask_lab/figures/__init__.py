"""The lab's figures, drawn with matplotlib's object-oriented API (no pyplot state, no GUI
backend): :mod:`.maps` the reproduction's (Figure 6, the side-by-side comparison), :mod:`.curves`
the benchmarks' (pixel-flipping curves, the randomisation check, pattern maps)."""
