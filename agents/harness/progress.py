"""Progress for long runs: a tqdm bar on a terminal, short log lines everywhere else.

tqdm redraws its bar with carriage returns; written to a file (``nohup ... > LOG``, CI logs) that
becomes one ever-growing line (95 KB in a default run). :func:`progress` therefore returns a tqdm
bar only when the stream is a terminal, and otherwise a :class:`LogProgress` that prints one
complete line at most every ``every`` seconds (and a last one when done) with the count, the
rate and the time left.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class LogProgress:
    """A progress reporter that writes whole lines: ``compare: 1200/20000 task (6.0%), ...``.

    Args:
        total: units of work in all.
        desc: the label at the start of each line.
        unit: the unit's name.
        stream: where lines go (default ``sys.stderr``).
        every: fewest seconds between two lines.
        clock: the time source (seconds; tests pass a fake one).
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        unit: str = "it",
        stream: TextIO | None = None,
        every: float = 10.0,
        clock: Any = time.monotonic,
    ) -> None:
        self.total, self.desc, self.unit, self.every = int(total), desc, unit, float(every)
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.n, self.postfix = 0, ""
        self.start = self.last = clock()

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        self.postfix = text

    def update(self, k: int = 1) -> None:
        self.n += int(k)
        if self.clock() - self.last >= self.every:
            self._line()

    def _line(self) -> None:
        now = self.clock()
        self.last = now
        spent = now - self.start
        rate = self.n / spent if spent > 0 else 0.0
        left = (self.total - self.n) / rate if rate > 0 else float("nan")
        pct = 100.0 * self.n / self.total if self.total else 100.0
        eta = f", ~{_clock(left)} left" if left == left and self.n < self.total else ""
        tail = f" ({self.postfix})" if self.postfix else ""
        self.stream.write(
            f"{self.desc}: {self.n}/{self.total} {self.unit} ({pct:.1f}%), "
            f"{_clock(spent)} elapsed, {rate:.1f} {self.unit}/s{eta}{tail}\n"
        )
        self.stream.flush()

    def close(self) -> None:
        """Print the last line (the final count and time)."""
        self._line()


def progress(total: int, desc: str, unit: str = "it", stream: TextIO | None = None) -> Any:
    """A tqdm bar if ``stream`` (default stderr) is a terminal, else a :class:`LogProgress`.

    Both offer ``update(k)``, ``set_postfix_str(text, refresh=False)`` and ``close()``.
    """
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from tqdm.auto import tqdm

        return tqdm(
            total=total, desc=desc, unit=unit, file=stream, mininterval=0.5, dynamic_ncols=True
        )
    return LogProgress(total, desc, unit, stream)
