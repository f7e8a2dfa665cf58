"""What the command-line tools share (the CLI and the benchmarks): one-line argument errors,
`--set key=value` parsing, and training progress on stderr."""
from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

from engine.core import ConfigError, shown


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints the whole usage; we print one line
        self.exit(2, f"error: {message}\n")


def parse_sets(pairs: list[str]) -> dict[str, str]:
    """['epochs=3', 'lr=0.1'] -> {'epochs': '3', 'lr': '0.1'}; a key given twice is an error."""
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("error.set_pair", pair=shown(pair))
        if key in values:
            raise ConfigError("error.set_twice", key_name=shown(key))
        values[key] = value.strip()
    return values


class Progress:
    """An echo(fraction, note) for JobManager.run_here: a tqdm bar with rate and ETA when
    stderr is a terminal; otherwise one line per tenth done (logs stay short)."""

    def __init__(self, label: str, stream: TextIO | None = None):
        from tqdm import tqdm

        self.label, self.stream = label, stream or sys.stderr
        self.bar = None
        if self.stream.isatty():
            self.bar = tqdm(total=100, desc=label, file=self.stream, unit="%", leave=True,
                            bar_format="{desc} {percentage:5.1f}%|{bar:20}| "
                                       "[{elapsed}<{remaining}, {rate_fmt}] {postfix}")
        self.next_tenth = 0

    def __call__(self, fraction: float, note: str) -> None:
        if self.bar is not None:
            self.bar.update(100 * fraction - self.bar.n)
            self.bar.set_postfix_str(note[:40])
        elif fraction * 10 >= self.next_tenth:
            print(f"[{self.label}] {100 * fraction:3.0f}% {note}", file=self.stream, flush=True)
            self.next_tenth = int(fraction * 10) + 1

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def load_line() -> str:
    """The machine's load averages: a benchmark on a shared machine says how busy it was."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"
