""":func:`parse`: tokens of any scheme back to a task and path, never raising.

The parser reads what it can and lists every problem it met in ``Parsed.problems``: unknown
tokens, truncated sections, malformed edges, coordinates outside the grid, a path that jumps or
crosses a wall. It accepts both coordinate forms (``(0,1)`` and ``( 0 , 1 )``), passages
(``<-->``) and walls (``<XX>``), whatever the order of edges, so one function reads every scheme
and maze-dataset's AOTP output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from maze_env.maze import Maze, Task
from maze_env.tokens.grid import looks_like_grid, parse_grid
from maze_env.tokens.schemes import (
    ADJLIST_END,
    ADJLIST_START,
    CONNECTOR,
    COORD_INTRA,
    COORD_POST,
    COORD_PRE,
    ENDLINE,
    ORIGIN_END,
    ORIGIN_START,
    PADDING,
    PATH_END,
    PATH_START,
    SCHEMES,
    TARGET_END,
    TARGET_START,
    WALL_CONNECTOR,
)
from maze_env.types import Coord, Shape

MAX_INFERRED_SIDE = 1024
"""Coordinates beyond this are never used to infer the grid (they are reported instead)."""

MAX_PROBLEMS = 50
"""At most this many problems are listed, then one line counts the rest."""

_COORD_RE = re.compile(r"^\((-?\d{1,9}),(-?\d{1,9})\)$")
_INT_RE = re.compile(r"^-?\d{1,9}$")
_STARTS = {
    ADJLIST_START: "adjlist",
    ORIGIN_START: "origin",
    TARGET_START: "target",
    PATH_START: "path",
}
_ENDS = {ADJLIST_END: "adjlist", ORIGIN_END: "origin", TARGET_END: "target", PATH_END: "path"}
_ORDER = ("adjlist", "origin", "target", "path")
_START_OF = {v: k for k, v in _STARTS.items()}
_END_OF = {v: k for k, v in _ENDS.items()}


@dataclass
class Parsed:
    """What :func:`parse` read.

    Attributes:
        maze: the maze, or ``None`` if no grid could be inferred (no coordinates at all).
        origin: the origin, ``None`` if missing or outside the grid.
        target: the target, ``None`` if missing or outside the grid.
        path: the path cells exactly as read (they may jump or leave the grid: see
            ``problems``); ``None`` when there is no path section or it is an empty prompt
            (the sequence ends right after ``<PATH_START>``).
        problems: human-readable problems; empty when the sequence is a well-formed task.
    """

    maze: Maze | None
    origin: Coord | None
    target: Coord | None
    path: list[Coord] | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was wrong."""
        return not self.problems

    @property
    def task(self) -> Task | None:
        """The :class:`Task`, when maze, origin and target were all read."""
        if self.maze is None or self.origin is None or self.target is None:
            return None
        return Task(self.maze, self.origin, self.target)


class _Problems(list):  # type: ignore[type-arg]
    def add(self, msg: str) -> None:
        self.append(msg)

    def final(self) -> list[str]:
        if len(self) <= MAX_PROBLEMS:
            return list(self)
        return [*self[:MAX_PROBLEMS], f"... and {len(self) - MAX_PROBLEMS} more problems"]


def _lex(tokens: Sequence[str], problems: _Problems) -> list[tuple[str, object, int]]:
    """Items ``(kind, value, index)``: kind ``"coord"`` (value a Coord) or ``"tok"`` (a str)."""
    items: list[tuple[str, object, int]] = []
    i, n = 0, len(tokens)
    while i < n:
        tok = tokens[i]
        m = _COORD_RE.match(tok)
        if m:
            items.append(("coord", (int(m.group(1)), int(m.group(2))), i))
            i += 1
            continue
        if tok == COORD_PRE:
            window = list(tokens[i + 1 : i + 5])
            if (
                len(window) == 4
                and _INT_RE.match(window[0])
                and window[1] == COORD_INTRA
                and _INT_RE.match(window[2])
                and window[3] == COORD_POST
            ):
                items.append(("coord", (int(window[0]), int(window[2])), i))
                i += 5
                continue
            problems.add(
                f"token {i}: incomplete coordinate {' '.join([tok, *window])!r}; expected '( r , c )'"
            )
            i += 1
            continue
        items.append(("tok", tok, i))
        i += 1
    return items


@dataclass
class _Reader:
    """The section state machine over lexed items."""

    problems: _Problems
    groups: list[tuple[int, list[tuple[str, object, int]]]] = field(default_factory=list)
    coords: dict[str, list[Coord]] = field(
        default_factory=lambda: {"origin": [], "target": [], "path": []}
    )
    seen: list[str] = field(default_factory=list)
    section: str | None = None
    group: list[tuple[str, object, int]] = field(default_factory=list)

    def open(self, name: str, i: int) -> None:
        if self.section == "ignored":
            self.section = None
        if self.section is not None:
            self.problems.add(
                f"token {i}: {_START_OF[name]} inside the {self.section} section (no {_END_OF[self.section]})"
            )
            self.close(i)
        if name in self.seen:
            self.problems.add(f"token {i}: a second {_START_OF[name]}; its contents are ignored")
            self.section = "ignored"
            return
        expected = [s for s in _ORDER[: _ORDER.index(name)] if s not in self.seen]
        if expected:
            self.problems.add(
                f"token {i}: {_START_OF[name]} before the {', '.join(expected)} section(s)"
            )
        self.seen.append(name)
        self.section = name

    def close(self, i: int) -> None:
        if self.section == "adjlist" and self.group:
            self.problems.add(f"token {self.group[0][2]}: last edge not terminated by {ENDLINE!r}")
            self.groups.append((self.group[0][2], self.group))
            self.group = []
        self.section = None

    def feed(self, kind: str, value: object, i: int) -> None:
        if kind == "tok" and value in _STARTS:
            self.open(_STARTS[value], i)  # type: ignore[index]
        elif kind == "tok" and value in _ENDS:
            if self.section == _ENDS[value]:  # type: ignore[index]
                self.close(i)
            elif self.section != "ignored":
                self.problems.add(f"token {i}: unexpected {value} (open section: {self.section})")
            else:
                self.section = None
        elif self.section == "ignored":
            return
        elif self.section == "adjlist":
            if kind == "tok" and value == ENDLINE:
                if self.group:
                    self.groups.append((self.group[0][2], self.group))
                else:
                    self.problems.add(f"token {i}: empty edge before {ENDLINE!r}")
                self.group = []
            else:
                self.group.append((kind, value, i))
        elif self.section in ("origin", "target", "path"):
            if kind == "coord":
                self.coords[self.section].append(value)  # type: ignore[arg-type]
            else:
                self.problems.add(
                    f"token {i}: {value!r} is not a coordinate (in the {self.section} section)"
                )
        elif kind == "tok" and value == PADDING:
            self.problems.add(
                f"token {i}: {PADDING} inside the sequence (only trailing padding is allowed)"
            )
        else:
            if kind == "coord":
                what = f"coordinate {value}"
            elif value in (CONNECTOR, WALL_CONNECTOR, ENDLINE):
                what = repr(value)
            else:
                what = f"unknown token {value!r}"
            self.problems.add(f"token {i}: {what} outside any section")


Edge = tuple[Coord, Coord]


def _edges(
    groups: list[tuple[int, list[tuple[str, object, int]]]], problems: _Problems
) -> tuple[list[Edge], list[Edge]]:
    """Split well-formed edge groups into (passages, walls)."""
    passages: list[Edge] = []
    walls: list[Edge] = []
    for start, group in groups:
        kinds = [k for k, _, _ in group]
        conn = group[1][1] if len(group) == 3 else None
        if kinds != ["coord", "tok", "coord"] or conn not in (CONNECTOR, WALL_CONNECTOR):
            shown = " ".join(str(v) for _, v, _ in group)
            problems.add(
                f"token {start}: malformed edge {shown!r}; expected '(r,c) <--> (r,c)' or '(r,c) <XX> (r,c)'"
            )
            continue
        a, b = group[0][1], group[2][1]
        assert isinstance(a, tuple) and isinstance(b, tuple)
        if abs(a[0] - b[0]) + abs(a[1] - b[1]) != 1:
            problems.add(f"token {start}: edge {a} {conn} {b} joins cells that are not adjacent")
            continue
        (passages if conn == CONNECTOR else walls).append((a, b))
    return passages, walls


def _in_grid(cell: Coord, shape: Shape) -> bool:
    return 0 <= cell[0] < shape[0] and 0 <= cell[1] < shape[1]


def _infer_shape(cells: list[Coord], problems: _Problems) -> Shape | None:
    good = [c for c in cells if 0 <= c[0] < MAX_INFERRED_SIDE and 0 <= c[1] < MAX_INFERRED_SIDE]
    if len(good) < len(cells):
        bad = next(c for c in cells if c not in good)
        problems.add(
            f"coordinate {bad} is negative or beyond {MAX_INFERRED_SIDE - 1}; not used to infer the grid"
        )
    if not good:
        return None
    return (max(c[0] for c in good) + 1, max(c[1] for c in good) + 1)


def _build_maze(
    shape: Shape, passages: list, walls: list, all_walls: bool, problems: _Problems
) -> Maze:
    """The maze from the listed passages, or (``all_walls``) every lattice edge but the walls."""
    conn = np.zeros((2, *shape), dtype=bool)
    if walls and passages:
        problems.add(
            f"both passages ({CONNECTOR}) and walls ({WALL_CONNECTOR}) listed; the walls are ignored"
        )
    if all_walls:
        conn[0, :-1, :] = True
        conn[1, :, :-1] = True
    listed = walls if all_walls else passages
    seen: set[tuple[Coord, Coord]] = set()
    for a, b in listed:
        if not (_in_grid(a, shape) and _in_grid(b, shape)):
            problems.add(f"edge {a} - {b} leaves the {shape[0]}x{shape[1]} grid; dropped")
            continue
        (r0, c0), (r1, c1) = sorted((a, b))
        if ((r0, c0), (r1, c1)) in seen:
            problems.add(f"edge {a} - {b} listed twice")
        seen.add(((r0, c0), (r1, c1)))
        conn[0 if c0 == c1 else 1, r0, c0] = not all_walls
    return Maze(conn)


def _endpoint(
    name: str, cells: list[Coord], shape: Shape | None, problems: _Problems
) -> Coord | None:
    if not cells:
        return None
    if len(cells) > 1:
        problems.add(f"{len(cells)} coordinates in the {name} section; the first is used")
    cell = cells[0]
    if shape is not None and not _in_grid(cell, shape):
        problems.add(f"{name} {cell} is outside the {shape[0]}x{shape[1]} grid")
        return None
    return cell


def _check_path(parsed: Parsed, problems: _Problems) -> None:
    path, maze = parsed.path, parsed.maze
    if not path:
        return
    if parsed.origin is not None and path[0] != parsed.origin:
        problems.add(f"path starts at {path[0]}, not at the origin {parsed.origin}")
    if parsed.target is not None and path[-1] != parsed.target:
        problems.add(f"path ends at {path[-1]}, not at the target {parsed.target}")
    if maze is None:
        return
    for i, cell in enumerate(path):
        if not _in_grid(cell, maze.shape):
            problems.add(f"path[{i}] = {cell} is outside the {maze.shape[0]}x{maze.shape[1]} grid")
        elif i > 0 and _in_grid(path[i - 1], maze.shape):
            a = path[i - 1]
            if abs(a[0] - cell[0]) + abs(a[1] - cell[1]) != 1:
                problems.add(f"path jumps from {a} to {cell} (path[{i - 1}] -> path[{i}])")
            elif not maze.has_passage(a, cell):
                problems.add(f"path crosses a wall from {a} to {cell} (path[{i - 1}] -> path[{i}])")


def parse(
    tokens: Sequence[str] | str, shape: Shape | None = None, *, scheme: str | None = None
) -> Parsed:
    """Read a task (and path) from tokens of any scheme; never raises.

    Args:
        tokens: a token list, or the text (split on whitespace).
        shape: ``(rows, cols)`` of the grid. ``None`` infers it from the largest coordinate seen
            anywhere in the sequence (pass it for wall schemes and mazes whose last row or column
            may touch no listed edge).
        scheme: the scheme the tokens were written in, if known. The coordinate form and the
            connector are always detected; the scheme only settles what an *empty* edge list
            means (no passages, or for a ``_walls`` scheme no walls) and flags a connector that
            does not match it. An unknown name is reported as a problem.

    Returns:
        A :class:`Parsed` with what was read and the problems met.
    """
    problems = _Problems()
    try:
        return _parse(tokens, shape, scheme, problems)
    except Exception as e:  # a bug here must not crash a caller scoring model output
        problems.add(f"internal parser error {type(e).__name__}: {e}")
        return Parsed(None, None, None, None, problems.final())


def _parse(
    tokens: Sequence[str] | str, shape: Shape | None, scheme: str | None, problems: _Problems
) -> Parsed:
    walls_scheme = None
    if scheme is not None:
        if scheme in SCHEMES:
            walls_scheme = getattr(SCHEMES[scheme], "walls", None)
        else:
            problems.add(f"unknown scheme {scheme!r} ignored; known: {', '.join(SCHEMES)}")
    if isinstance(tokens, str):
        tokens = tokens.split()
    tokens = [t if isinstance(t, str) else str(t) for t in tokens]
    if scheme in ("grid", "grid_cells") or (scheme is None and looks_like_grid(tokens)):
        maze, origin, target, path = parse_grid(tokens, shape, problems)
        parsed = Parsed(maze, origin, target, path)
        if path is not None and not path:
            problems.add("empty path")
        _check_path(parsed, problems)
        parsed.problems = problems.final()
        return parsed
    end = len(tokens)
    while end and tokens[end - 1] == PADDING:
        end -= 1
    items = _lex(tokens[:end], problems)
    reader = _Reader(problems)
    for kind, value, i in items:
        reader.feed(kind, value, i)
    prompt = reader.section == "path" and not reader.coords["path"]
    if reader.section in ("adjlist", "origin", "target", "path") and not prompt:
        problems.add(
            f"sequence ends inside the {reader.section} section (no {_END_OF[reader.section]}): truncated?"
        )
    reader.close(end)
    for name in ("adjlist", "origin", "target"):
        if name not in reader.seen:
            problems.add(f"no {name} section ({_START_OF[name]} ... {_END_OF[name]})")
    passages, walls = _edges(reader.groups, problems)
    if walls_scheme is not None and (walls if not walls_scheme else passages):
        want = WALL_CONNECTOR if walls_scheme else CONNECTOR
        problems.add(f"scheme {scheme!r} lists edges with {want}, but the sequence has others")
    if shape is None:
        every = [c for e in passages + walls for c in e]
        every += reader.coords["origin"] + reader.coords["target"] + reader.coords["path"]
        shape = _infer_shape(every, problems)
    else:
        shape = (int(shape[0]), int(shape[1]))
    all_walls = bool(walls) and not passages or (walls_scheme is True and not passages)
    maze = (
        _build_maze(shape, passages, walls, all_walls, problems)
        if shape and min(shape) >= 1
        else None
    )
    origin = _endpoint("origin", reader.coords["origin"], shape, problems)
    target = _endpoint("target", reader.coords["target"], shape, problems)
    path = None if "path" not in reader.seen or prompt else list(reader.coords["path"])
    if path is not None and not path:
        problems.add("empty path")
    parsed = Parsed(maze, origin, target, path)
    _check_path(parsed, problems)
    parsed.problems = problems.final()
    return parsed
