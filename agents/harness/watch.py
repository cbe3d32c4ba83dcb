"""Watch agents solve the same tasks side by side: the logic behind ``mazebench watch``.

Every agent solves the same task of a suite (built exactly as ``mazebench compare`` builds it, so
task ``i`` here is task ``i`` there) and is judged by the harness's metrics
(:func:`agents.harness.metrics.compute_metrics`). Each agent gets one panel: the maze, its path so
far (one colour per agent), the cells it expanded when its trajectory records them (shaded in the
order they were expanded, light to dark), and a caption with its label and, once its episode is
over, the verdict (exact / reached / failed). A panel whose episode is over holds its last frame.

- :func:`load_tasks` builds the tasks, :func:`build_watch_agents` the agents, :func:`episodes`
  runs and judges them on one task;
- :func:`frame_at` / :func:`frames` draw the tiled panels as ``uint8[H, W, 3]`` arrays (pure
  numpy and Pillow, no pygame): step ``t`` shows every agent after ``min(t, its moves)`` moves,
  so one task gives ``longest episode + 1`` frames (the last one shows every verdict);
- :func:`record` writes frames as a GIF (imageio) or MP4 (imageio-ffmpeg), atomically;
- :class:`Playback` is the window's state (keys in, step out; no pygame) and :func:`run_window`
  the thin loop that shows it in a :class:`~maze_env.render.HumanWindow`.

An episode as shown is the agent's trajectory cut where the episode ends: at its first arrival
at the target (as the judge cuts it) or before its first cell off the grid.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import Trajectory
from agents.harness.metrics import TaskMetrics, compute_metrics
from maze_env import Task
from maze_env.render import AGENT, FREE, PATH_COLORS, TARGET, WALL, Color, draw_frame, tile_frames
from maze_env.types import Coord

EXPLORED_KEYS = ("expanded_cells", "explored_cells", "visited_cells")
"""``Trajectory.extra`` keys read, in this order, for the cells a search expanded (a list of
``[row, col]`` in expansion order). ``bfs`` and ``astar`` record them with
``record_expanded=true``, which :func:`build_watch_agents` turns on (:data:`RECORD_PARAM`); the
other built-in agents record only counts (``nodes_expanded``), so their panels show the path."""
RECORD_PARAM = "record_expanded"
"""The agent parameter that makes a search record its expanded cells (off by default)."""
RECORD_SUFFIXES = (".gif", ".mp4")
"""What ``--record`` may write."""
HOLD_S = 1.5
"""Seconds the last frame of a task is held (in a recording, and in the window before the next
task starts)."""
REDRAW_HZ = 30
"""About how often the window redraws (keys are read once per redraw)."""
FONT_PX = 13
LINE_PX = 17
PAD_PX = 6
MIN_PANEL_W = 180
DONE_COLORS: dict[str, Color] = {"exact": TARGET, "reached": PATH_COLORS[1], "failed": AGENT}
"""Caption colour of an episode's verdict."""
KEYS_HELP = "space: pause/resume   left/right: step back/forward   n: next task   q/Esc: quit"


# -- tasks and agents ---------------------------------------------------------------------------
def load_tasks(
    suite: str, task: int = 0, n: int = 1, seed: int = 0, cache_dir: str | Path | None = None
) -> tuple[Any, list[Task]]:
    """Tasks ``task .. task + n - 1`` of the built-in suite ``suite`` at run seed ``seed``.

    Built as ``mazebench compare`` builds them (:func:`agents.harness.run_suites.suite_data`),
    so they are that command's tasks with the same index and seed.

    Returns:
        ``(suite, tasks)``: the :class:`~agents.harness.suites.Suite` and its tasks; fewer than
        ``n`` where the suite ends first (a suite has the tasks ``mazebench compare`` runs by
        default: :func:`~agents.harness.runner.suite_n`).

    Raises:
        ValueError: an unknown suite (listing the known ones), a group name, or a task index
            outside the suite (saying its range).
    """
    from agents.harness.run_suites import suite_data
    from agents.harness.runner import suite_n
    from agents.harness.suites import resolve_suites

    resolved = resolve_suites([suite])
    if len(resolved) != 1:
        names = ", ".join(s.name for s in resolved)
        raise ValueError(
            f"--suite takes one suite; {suite!r} is a group of {len(resolved)}: {names}"
        )
    (s,) = resolved
    total = suite_n(s, None, quick=False)
    if isinstance(task, bool) or int(task) != task or not 0 <= task < total:
        raise ValueError(
            f"--task {task!r} is out of range: suite {s.name!r} has {total} tasks, 0..{total - 1}"
        )
    if int(n) != n or n < 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    stop = min(int(task) + int(n), total)
    data = suite_data([s], {s.name: stop}, seed, cache_dir)[s.name]
    return s, [data.dataset[i] for i in range(int(task), stop)]


def short_label(spec: str, agent: Any, width: int = 32) -> str:
    """The agent's name (``agent.name``, else its spec), cut to ``width`` characters."""
    label = str(getattr(agent, "name", "") or spec)
    return label if len(label) <= width else label[: width - 3] + "..."


def with_recording(spec: str) -> str:
    """``spec`` with ``record_expanded=true`` added when its agent takes that parameter
    (:data:`RECORD_PARAM`) and the spec does not set it; else ``spec`` as it is.

    Raises:
        ValueError: an unknown agent or a malformed spec (listing what is allowed).
    """
    from agents.registry import AGENTS, factory_parameters, parse_agent_spec

    name, kwargs = parse_agent_spec(spec)
    params = {p.name for p in factory_parameters(AGENTS.load(name))}
    if RECORD_PARAM not in params or RECORD_PARAM in kwargs:
        return spec
    return f"{spec.strip()}{',' if ':' in spec else ':'}{RECORD_PARAM}=true"


def build_watch_agents(specs: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """``{label: agent}`` for agent specs, built as the harness builds them
    (:func:`agents.harness.runner.build_agents`: the run seed goes to agents that take one), with
    expanded cells recorded where an agent can (:func:`with_recording`: the same path and
    counters). Labels are :func:`short_label`, numbered ``#2, #3...`` where two would be equal."""
    from agents.harness.runner import build_agents

    out: dict[str, Any] = {}
    for spec, agent in build_agents([with_recording(s) for s in specs], seed).items():
        label, k = short_label(spec, agent), 1
        while label in out:
            k += 1
            label = f"{short_label(spec, agent)} #{k}"
        out[label] = agent
    return out


# -- episodes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Episode:
    """One agent's episode on one task.

    Attributes:
        label: the panel's caption.
        trajectory: what the agent returned.
        metrics: the harness's judgement of it.
        cells: the cells shown, in order: the trajectory cut at its first arrival at the target
            and before its first cell off the grid (at least the origin).
        explored: cells the agent's search expanded, in order, if its trajectory records them
            (:data:`EXPLORED_KEYS`); else empty.
    """

    label: str
    trajectory: Trajectory
    metrics: TaskMetrics
    cells: tuple[Coord, ...]
    explored: tuple[Coord, ...] = field(default=())

    @property
    def moves(self) -> int:
        """Moves shown: the episode ends after this many."""
        return len(self.cells) - 1

    @property
    def outcome(self) -> str:
        """``"exact"``, ``"reached"`` (not on a shortest path) or ``"failed"``."""
        return "exact" if self.metrics.exact else "reached" if self.metrics.reached else "failed"

    def verdict(self) -> str:
        """One line: the outcome, moves, and why a failure failed."""
        m, k = self.metrics, self.moves
        if m.exact:
            return f"exact: {k} moves (shortest)"
        if m.reached:
            extra = "" if m.optimal_length is None else f", +{m.path_length - m.optimal_length}"
            return f"reached: {k} moves{extra}, not exact"
        why = m.failure_kind or m.invalid_kind or "not reached"
        return f"failed ({why}) after {k} moves"


def shown_cells(task: Task, trajectory: Trajectory) -> tuple[Coord, ...]:
    """The trajectory's cells as an episode shows them (see :class:`Episode`)."""
    rows, cols = task.maze.shape
    out: list[Coord] = []
    for r, c in trajectory.cells:
        cell = (int(r), int(c))
        if not (0 <= cell[0] < rows and 0 <= cell[1] < cols):
            break
        out.append(cell)
        if cell == task.target:
            break
    return tuple(out) or (task.origin,)


def explored_cells(task: Task, trajectory: Trajectory) -> tuple[Coord, ...]:
    """Cells recorded as expanded (:data:`EXPLORED_KEYS`), first expansions only, on the grid."""
    rows, cols = task.maze.shape
    for key in EXPLORED_KEYS:
        value = trajectory.extra.get(key)
        if isinstance(value, (list, tuple)) and value:
            seen: dict[Coord, None] = {}
            for item in value:
                try:
                    cell = (int(item[0]), int(item[1]))
                except (TypeError, ValueError, IndexError):
                    return ()  # not a list of cells: some other counter of that name
                if 0 <= cell[0] < rows and 0 <= cell[1] < cols:
                    seen.setdefault(cell)
            return tuple(seen)
    return ()


def episodes(agents: Mapping[str, Any], task: Task, region: Any = None) -> list[Episode]:
    """Every agent's episode on ``task``, judged: one :class:`Episode` per agent, in order.

    Args:
        agents: ``{label: agent}`` (see :func:`build_watch_agents`).
        task: the task.
        region: the suite's ``training_target_region`` (for the region metrics), if any.
    """
    out = []
    for label, agent in agents.items():
        traj = agent.solve(task)
        metrics = compute_metrics(task, traj, region=region)
        out.append(
            Episode(label, traj, metrics, shown_cells(task, traj), explored_cells(task, traj))
        )
    return out


# -- frames -------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _font() -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=FONT_PX)  # Pillow >= 10.1 with FreeType
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


def _text_w(text: str) -> int:
    return int(math.ceil(_font().getlength(text)))


def _fit(text: str, width: int) -> str:
    """``text`` cut (with "...") to fit ``width`` pixels."""
    if _text_w(text) <= width:
        return text
    while text and _text_w(text + "...") > width:
        text = text[:-1]
    return text + "..."


def _text_strip(
    width: int, lines: Sequence[tuple[str, Color]], swatch: Color | None = None
) -> np.ndarray:
    """``uint8[LINE_PX * len(lines) + 4, width, 3]``: lines of text on :data:`FREE`; with
    ``swatch``, a square of that colour before the first line."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, LINE_PX * len(lines) + 4), FREE)
    draw = ImageDraw.Draw(image)
    for i, (text, color) in enumerate(lines):
        x = PAD_PX
        if i == 0 and swatch is not None:
            draw.rectangle((x, 5, x + 10, 15), fill=tuple(swatch), outline=WALL)
            x += 16
        draw.text((x, 2 + i * LINE_PX), _fit(text, width - x - PAD_PX), fill=color, font=_font())
    return np.asarray(image, dtype=np.uint8)


def grid_columns(n_panels: int, max_cols: int = 4) -> int:
    """Panels per row: at most ``max_cols``, rows as even as possible (6 panels: 3 x 2)."""
    rows = -(-n_panels // max_cols)
    return -(-n_panels // rows)


def auto_cell_px(shape: Sequence[int], n_panels: int, max_w: int = 1200, max_h: int = 680) -> int:
    """A cell size that fits ``n_panels`` panels of a ``shape`` maze in about ``max_w x max_h``."""
    cols = grid_columns(n_panels)
    rows = -(-n_panels // cols)
    room = min(max_w / cols, (max_h - rows * 2 * LINE_PX) / rows)
    return int(np.clip(room // (1.25 * max(shape)), 4, 40))


def panel_width(task: Task, eps: Sequence[Episode], cell_px: int) -> int:
    """One width in pixels for every panel of a task, wide enough for the labels and verdicts
    where that is at most about twice the maze (the captions never change a frame's size)."""
    maze_w = draw_frame(task.maze, cell_px=cell_px).shape[1]
    text_w = max(max(_text_w(ep.label) + 16, _text_w(ep.verdict())) for ep in eps) + 2 * PAD_PX
    return max(maze_w, min(text_w, 2 * maze_w + 120), MIN_PANEL_W)


def panel(
    task: Task, ep: Episode, t: int, color: Color, cell_px: int, width: int | None = None
) -> np.ndarray:
    """One agent's panel at step ``t``: its first ``min(t, moves)`` moves and the caption."""
    k = int(np.clip(t, 0, ep.moves))
    visits = None
    if ep.explored:
        visits = np.zeros(task.maze.shape, np.float64)
        for rank, cell in enumerate(ep.explored, start=1):
            visits[cell] = rank
    maze = draw_frame(
        task,
        agent=ep.cells[k],
        paths=[ep.cells[: k + 1]],
        path_colors=[color],
        visits=visits,
        cell_px=cell_px,
    )
    width = max(width or 0, maze.shape[1])
    if k >= ep.moves:
        status = (ep.verdict(), DONE_COLORS[ep.outcome])
    else:
        status = (f"move {k}/{ep.moves}", WALL)
    caption = _text_strip(width, [(ep.label, WALL), status], swatch=color)
    out = np.empty((maze.shape[0] + caption.shape[0], width, 3), np.uint8)
    out[...] = FREE
    out[: maze.shape[0], : maze.shape[1]] = maze
    out[maze.shape[0] :] = caption
    return out


def timeline(eps: Sequence[Episode]) -> int:
    """The last step of a task: the longest episode's moves."""
    return max((ep.moves for ep in eps), default=0)


def frame_at(
    task: Task,
    eps: Sequence[Episode],
    t: int,
    *,
    cell_px: int | None = None,
    title: str = "",
) -> np.ndarray:
    """The tiled panels of every episode at step ``t`` (``uint8[H, W, 3]``), under a header line
    ``TITLE  step t/T``. The size depends on the maze's shape, the agents and ``cell_px`` only."""
    if not eps:
        raise ValueError("no episodes to draw: give at least one agent")
    px = cell_px or auto_cell_px(task.maze.shape, len(eps))
    width = panel_width(task, eps, px)
    panels = [
        panel(task, ep, t, PATH_COLORS[i % len(PATH_COLORS)], px, width) for i, ep in enumerate(eps)
    ]
    body = tile_frames(panels, n_cols=grid_columns(len(panels)), pad_px=PAD_PX)
    last = timeline(eps)
    head = f"{title}   step {min(max(t, 0), last)}/{last}".strip()
    header = _text_strip(body.shape[1], [(head, WALL)])
    return np.concatenate([header, body], axis=0)


def frames(
    task: Task, eps: Sequence[Episode], *, cell_px: int | None = None, title: str = ""
) -> list[np.ndarray]:
    """One frame per step ``0 .. longest episode`` (:func:`frame_at`): ``timeline(eps) + 1``
    frames; the last shows every episode's end and verdict."""
    return [frame_at(task, eps, t, cell_px=cell_px, title=title) for t in range(timeline(eps) + 1)]


def task_title(suite: str, index: int) -> str:
    return f"{suite}  task {index}"


# -- recording ----------------------------------------------------------------------------------
def check_record_path(path: str | Path) -> str:
    """The suffix of a ``--record`` path (``".gif"`` or ``".mp4"``), checked before any work.

    Raises:
        ValueError: another suffix, or ``.mp4`` without imageio-ffmpeg (saying how to get it).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in RECORD_SUFFIXES:
        raise ValueError(
            f"--record writes .gif or .mp4 files, got {str(path)!r}; name the file FILE.gif or FILE.mp4"
        )
    if suffix == ".mp4":
        import importlib.util

        if importlib.util.find_spec("imageio_ffmpeg") is None:
            raise ValueError(
                "--record FILE.mp4 needs imageio-ffmpeg: pip install imageio-ffmpeg "
                "(or record a .gif, which needs nothing more)"
            )
    return suffix


def _pad_to(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    if frame.shape[:2] == (height, width):
        return frame
    out = np.empty((height, width, 3), np.uint8)
    out[...] = FREE
    out[: frame.shape[0], : frame.shape[1]] = frame
    return out


def record(
    path: str | Path,
    frames: Sequence[np.ndarray],
    fps: float = 4,
    *,
    hold_last: Iterable[int] = (),
    hold_s: float = HOLD_S,
) -> Path:
    """Write ``frames`` as an animated GIF or an MP4 (by ``path``'s suffix), atomically.

    Args:
        path: ``FILE.gif`` (imageio, Pillow) or ``FILE.mp4`` (imageio-ffmpeg, H.264).
        frames: ``uint8[H, W, 3]`` arrays; smaller ones are padded to the largest.
        fps: frames per second.
        hold_last: indices of frames shown ``hold_s`` seconds instead of one frame's time (the
            last frame of each task; the very last frame always is). A GIF stores such a frame
            once with a longer delay; an MP4 repeats it.
        hold_s: how long a held frame is shown.

    Returns:
        ``Path(path)``.
    """
    import imageio.v3 as iio

    from maze_env.files import atomic_path

    suffix = check_record_path(path)
    if fps <= 0:
        raise ValueError(f"--fps must be > 0, got {fps!r}")
    if not frames:
        raise ValueError("nothing to record: no frames")
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    if suffix == ".mp4":  # H.264 in yuv420p wants even sides
        height, width = height + height % 2, width + width % 2
    stack = [_pad_to(np.asarray(f, np.uint8), height, width) for f in frames]
    held = {int(i) % len(stack) for i in hold_last} | {len(stack) - 1}
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            step_ms = max(10, round(1000 / fps))
            hold_ms = max(step_ms, round(1000 * hold_s))
            durations = [hold_ms if i in held else step_ms for i in range(len(stack))]
            iio.imwrite(tmp, np.stack(stack), extension=".gif", duration=durations, loop=0)
        else:
            extra = max(0, round(hold_s * fps) - 1)
            video = [f for i, f in enumerate(stack) for _ in range(1 + (extra if i in held else 0))]
            import imageio.v2 as iio2

            iio2.mimwrite(
                tmp, video, format="FFMPEG", fps=fps, macro_block_size=2, codec="libx264",
                pixelformat="yuv420p",
            )  # fmt: skip
    return Path(path)


# -- the window ---------------------------------------------------------------------------------
QUIT_KEYS = frozenset({"q", "escape", "quit"})
"""Keys that quit (``"quit"``: the window was closed, :meth:`HumanWindow.pump`)."""


class Playback:
    """Where the window is: the task, the step, paused or playing (no pygame: tests drive it).

    A task plays from step 0 to its last step (:func:`timeline`) and stops there, showing every
    verdict, until a key: space replays it, n goes to the next task.

    Args:
        n_tasks: tasks to show.
        length: ``length(task_index)`` -> that task's last step (:func:`timeline`).
        ticks_per_move: redraws per step while playing.
    """

    def __init__(self, n_tasks: int, length: Callable[[int], int], ticks_per_move: int = 1) -> None:
        if n_tasks < 1:
            raise ValueError(f"n_tasks must be >= 1, got {n_tasks!r}")
        self.n_tasks = int(n_tasks)
        self.length = length
        self.ticks_per_move = max(1, int(ticks_per_move))
        self.task = 0
        self.t = 0
        self.paused = False
        self.quit = False
        self._ticks = 0

    @property
    def last(self) -> int:
        """The current task's last step."""
        return self.length(self.task)

    @property
    def at_end(self) -> bool:
        return self.t >= self.last

    def goto_task(self, index: int) -> None:
        """Show task ``index`` (modulo the number of tasks) from step 0, playing."""
        self.task = index % self.n_tasks
        self.t = self._ticks = 0
        self.paused = False

    def handle_key(self, key: str) -> str:
        """Apply one key by its pygame name (``pygame.key.name``).

        Space pauses and resumes (at a task's end: replays it); right and left step one move
        (and pause); n goes to the next task (after the last, the first); q, Escape and
        ``"quit"`` quit.

        Returns:
            ``"quit"``, ``"pause"``, ``"resume"``, ``"replay"``, ``"forward"``, ``"back"``,
            ``"next"`` or ``"ignored"``.
        """
        key = key.lower()
        if key in QUIT_KEYS:
            self.quit = True
            return "quit"
        if key == "space":
            return self._space()
        if key in ("right", "left"):
            self.paused = True
            self.t = int(np.clip(self.t + (1 if key == "right" else -1), 0, self.last))
            return "forward" if key == "right" else "back"
        if key == "n":
            self.goto_task(self.task + 1)
            return "next"
        return "ignored"

    def _space(self) -> str:
        self._ticks = 0
        if self.at_end:
            self.t, self.paused = 0, False
            return "replay"
        self.paused = not self.paused
        return "pause" if self.paused else "resume"

    def tick(self) -> None:
        """One redraw's worth of time: while playing, one step every ``ticks_per_move`` ticks."""
        if self.paused or self.quit or self.at_end:
            return
        self._ticks += 1
        if self._ticks >= self.ticks_per_move:
            self.t += 1
            self._ticks = 0

    def status(self) -> str:
        """Two lines for the window's status strip: where playback is, then the keys."""
        state = "end" if self.at_end else "paused" if self.paused else "playing"
        where = f"task {self.task + 1}/{self.n_tasks}  step {min(self.t, self.last)}/{self.last}"
        return f"{where}  {state}\n{KEYS_HELP}"


def run_window(
    tasks: Sequence[Task],
    agents: Mapping[str, Any],
    *,
    suite: str = "",
    first_index: int = 0,
    region: Any = None,
    fps: float = 4,
    cell_px: int | None = None,
    window: Any = None,
    screenshot: str | Path | None = None,
    on_episodes: Callable[[int, Sequence[Episode]], None] | None = None,
) -> Playback:
    """Show every agent's episodes on ``tasks`` side by side until Q/Escape (see
    :meth:`Playback.handle_key` for the keys). Episodes are solved when their task is first shown.

    On a headless driver (``SDL_VIDEODRIVER=dummy``) nobody presses keys: the loop reads the
    keys already queued (tests post them) and returns once the task shown has played to its end.

    Args:
        tasks: the tasks.
        agents: ``{label: agent}``.
        suite: the suite's name, for the header.
        first_index: the suite index of ``tasks[0]`` (for the header).
        region: the suite's ``training_target_region``.
        fps: moves per second.
        cell_px: cell size (default: fit the window in about 1200 x 700 pixels).
        window: a :class:`~maze_env.render.HumanWindow` to use (closed at the end either way).
        screenshot: save the window to this image once the task shown has played to its end,
            then return (a scripted check of what the window shows).
        on_episodes: called with ``(task index, episodes)`` when a task's episodes are first solved.

    Returns:
        The :class:`Playback` at the end (``quit`` is True after Q/Escape).

    Raises:
        NoDisplayError: no window can be shown (:class:`~maze_env.render.HumanWindow`).
    """
    from maze_env.render import HumanWindow

    if fps <= 0:
        raise ValueError(f"--fps must be > 0, got {fps!r}")
    if not tasks:
        raise ValueError("no tasks to watch")
    ticks = max(1, math.ceil(REDRAW_HZ / fps))
    solved: dict[int, list[Episode]] = {}

    def eps_of(i: int) -> list[Episode]:
        if i not in solved:
            solved[i] = episodes(agents, tasks[i], region)
            if on_episodes is not None:
                on_episodes(i, solved[i])
        return solved[i]

    def draw(i: int, t: int) -> np.ndarray:
        title = task_title(suite, first_index + i)
        return frame_at(tasks[i], eps_of(i), t, cell_px=cell_px, title=title)

    state = Playback(len(tasks), lambda i: timeline(eps_of(i)), ticks)
    if window is None:
        window = HumanWindow(title="mazebench watch", fps=fps * ticks, key_repeat=(300, 60))
    try:
        _loop(state, window, draw, screenshot)
    finally:
        window.close()
    return state


def _loop(
    state: Playback,
    window: Any,
    draw: Callable[[int, int], np.ndarray],
    screenshot: str | Path | None,
) -> None:
    """Show, read keys, tick, until a quit key, the screenshot, or (headless) the task's end."""
    cache: dict[tuple[int, int], np.ndarray] = {}
    while True:
        key = (state.task, min(state.t, state.last))
        if key not in cache:
            cache.clear()  # one frame kept: a step back or forward redraws it
            cache[key] = draw(*key)
        window.show(cache[key], state.status())
        if screenshot is not None and state.at_end:
            window.screenshot(str(screenshot))
            return
        for pressed in window.pump():
            if state.handle_key(pressed) == "quit":
                return
        if window.headless and state.at_end:
            return
        state.tick()


def summary_line(index: int, eps: Sequence[Episode]) -> str:
    """``task I: label verdict; label verdict; ...`` (one line per task, for the terminal)."""
    return f"task {index}: " + "; ".join(f"{ep.label} {ep.verdict()}" for ep in eps)


def print_summary(index: int, eps: Sequence[Episode]) -> None:
    print(summary_line(index, eps), file=sys.stdout, flush=True)
