"""Training only: one module per algorithm (its key) with its Config, models, run(spec,
report) and CARD, plus what several share: the loops (image_classifier, sequence_tasks),
common.py (parameter counts, precision, weight averaging, atomic saves) and yardstick.py.
What a page does with a finished run lives in engine/inspect/."""
