"""Progress for long runs: a tqdm bar on a terminal, short log lines everywhere else.

tqdm redraws its bar with carriage returns; written to a file (``nohup ... > LOG``, CI logs) that
becomes one ever-growing line (95 KB in a default run). :func:`progress` therefore returns a tqdm
bar only when the stream is a terminal, and otherwise a :class:`LogProgress` that prints one
complete line at most every ``every`` seconds (and a last one when done) with the count, the
rate and the time left.

Time left: a task of a 64x64 suite costs about 1000 times one of a 5x5 suite and the runner does
the large suites first, so ``tasks left / tasks per second`` is wrong by hours early in a run.
:class:`CostEstimator` predicts the seconds of the work left from what the work done cost, per
(agent, suite) and per maze cell; the runner hands its estimate to the bar with ``set_left``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def count_left(n: int, total: int, spent: float) -> float:
    """The count-based time left (``tasks left / tasks per second so far``); NaN before any."""
    rate = n / spent if spent > 0 else 0.0
    return (total - n) / rate if rate > 0 else float("nan")


# -- the cost model -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Unit:
    """A unit of work for :class:`CostEstimator`: ``tasks`` tasks of one ``(agent, suite)`` key,
    each a maze of ``cells`` cells (rows * cols of the suite's shape)."""

    key: tuple[Hashable, Hashable]
    tasks: int
    cells: int


EXPONENT = (1.0, 3.0)
"""The range of the fitted exponent of cost per task in cells (an agent's cost on a suite it has
not run yet, from its cost on the others)."""
ONE_SIZE_EXPONENT = 1.35
"""The exponent while an agent has run one maze size only: the default run's tasks cost ~1000x
more on 64x64 than on 5x5 (164x the cells), 1000 = 164**1.35."""


class CostEstimator:
    """Seconds left of a run of :class:`Unit` s, from the seconds the finished units took.

    A remaining unit is predicted as: the seconds per task-cell of the finished units with its
    key, times its tasks x cells; with none of its key yet, the same agent's cost per task on
    other suites fitted as a power law in cells (log-log least squares, the exponent clamped to
    :data:`EXPONENT`; one size alone: :data:`ONE_SIZE_EXPONENT`); for an agent with nothing finished, the
    median of the other agents' predictions at that size. The sum is divided by ``workers``
    (never less than the largest single unit left). NaN until a unit has finished.

    Args:
        units: all the work (equal units are interchangeable).
        workers: units that run at once; ``seconds`` given to :meth:`done` are one worker's.
    """

    def __init__(self, units: Iterable[Unit], workers: int = 1) -> None:
        self.left: Counter[Unit] = Counter(units)
        self.workers = max(1, int(workers))
        self._seconds: dict[Any, float] = defaultdict(float)  # per key
        self._cost: dict[Any, float] = defaultdict(float)  # task-cells per key
        self._tasks: dict[Any, int] = defaultdict(int)
        self._cells: dict[Any, int] = {}
        self._models: dict[Any, tuple[float, float]] | None = None

    def done(self, unit: Unit, seconds: float) -> None:
        """Record that ``unit`` finished after ``seconds`` (a worker's compute seconds)."""
        if self.left[unit] > 0:
            self.left[unit] -= 1
            if not self.left[unit]:
                del self.left[unit]
        k = unit.key
        self._seconds[k] += max(0.0, float(seconds))
        self._cost[k] += unit.tasks * unit.cells
        self._tasks[k] += unit.tasks
        self._cells[k] = unit.cells
        self._models = None

    def _agent_models(self) -> dict[Any, tuple[float, float]]:
        """Per agent ``(log a, b)``: seconds per task ~ a * cells**b over its finished suites."""
        if self._models is None:
            points: dict[Any, list[tuple[float, float]]] = defaultdict(list)
            for k, tasks in self._tasks.items():
                if tasks and self._seconds[k] > 0:
                    points[k[0]].append(
                        (math.log(self._cells[k]), math.log(self._seconds[k] / tasks))
                    )
            self._models = {}
            for agent, pts in points.items():
                xs, ys = [p[0] for p in pts], [p[1] for p in pts]
                mx, my = statistics.fmean(xs), statistics.fmean(ys)
                sxx = sum((x - mx) ** 2 for x in xs)
                b = (
                    sum((x - mx) * (y - my) for x, y in pts) / sxx
                    if sxx > 1e-12
                    else ONE_SIZE_EXPONENT
                )
                b = min(max(b, EXPONENT[0]), EXPONENT[1])
                self._models[agent] = (statistics.fmean(y - b * x for x, y in pts), b)
        return self._models

    def predict(self, unit: Unit) -> float:
        """Predicted seconds of one ``unit`` (one worker); NaN with nothing finished."""
        k = unit.key
        if self._cost.get(k):
            return self._seconds[k] / self._cost[k] * unit.tasks * unit.cells
        models = self._agent_models()
        x = math.log(max(1, unit.cells))
        if k[0] in models:
            per_task = math.exp(models[k[0]][0] + models[k[0]][1] * x)
        elif models:
            per_task = statistics.median(math.exp(a + b * x) for a, b in models.values())
        elif self._cost:  # only zero-second units so far
            return 0.0
        else:
            return float("nan")
        return per_task * unit.tasks

    def seconds_left(self) -> float:
        """Predicted wall seconds of the units not yet done; NaN with nothing finished."""
        if not self.left:
            return 0.0
        each = {u: self.predict(u) for u in self.left}
        total = sum(p * self.left[u] for u, p in each.items())
        return max(total / self.workers, max(each.values()))


# -- the reporters ------------------------------------------------------------------------------
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
        self.left: float | None = None
        self.start = self.last = clock()

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        self.postfix = text

    def set_left(self, seconds: float) -> None:
        """Show ``seconds`` (a cost estimate) as the time left instead of the count-based one."""
        self.left = float(seconds)

    def update(self, k: int = 1) -> None:
        self.n += int(k)
        if self.clock() - self.last >= self.every:
            self._line()

    def _line(self) -> None:
        now = self.clock()
        self.last = now
        spent = now - self.start
        rate = self.n / spent if spent > 0 else 0.0
        left = count_left(self.n, self.total, spent) if self.left is None else self.left
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


BAR_FORMAT = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]"
"""tqdm's default bar without its count-based ``{remaining}``: the time left is in the postfix."""


class TqdmProgress:
    """A tqdm bar whose postfix starts with the time left given to :meth:`set_left`."""

    def __init__(self, bar: Any) -> None:
        self.bar, self.text, self.left = bar, "", float("nan")

    def _show(self, refresh: bool) -> None:
        eta = f"~{_clock(self.left)} left" if self.left == self.left else ""
        self.bar.set_postfix_str(", ".join(s for s in (eta, self.text) if s), refresh=refresh)

    def set_postfix_str(self, text: str, refresh: bool = False) -> None:
        self.text = text
        self._show(refresh)

    def set_left(self, seconds: float) -> None:
        self.left = float(seconds)
        self._show(False)

    def update(self, k: int = 1) -> None:
        self.bar.update(k)

    def close(self) -> None:
        self.bar.close()


def progress(total: int, desc: str, unit: str = "it", stream: TextIO | None = None) -> Any:
    """A tqdm bar (:class:`TqdmProgress`) if ``stream`` (default stderr) is a terminal, else a
    :class:`LogProgress`.

    Both offer ``update(k)``, ``set_postfix_str(text, refresh=False)``, ``set_left(seconds)``
    and ``close()``.
    """
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        from tqdm.auto import tqdm

        return TqdmProgress(
            tqdm(
                total=total,
                desc=desc,
                unit=unit,
                file=stream,
                mininterval=0.5,
                dynamic_ncols=True,
                bar_format=BAR_FORMAT,
            )
        )
    return LogProgress(total, desc, unit, stream)
