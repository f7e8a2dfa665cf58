"""Benchmark commands: `python -m engine bench KEY` runs engine/bench/KEY.py's main(argv)."""
