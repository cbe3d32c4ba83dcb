"""Play a maze by hand: arrow keys (or WASD) move, R draws a new maze, Q or Escape quits.

``python -m maze_env.play --shape 8x8`` or ``mazebench play``. The game logic is
:class:`PlayState` (no window, no pygame; tests drive it with key names); :func:`run` is the thin
loop that feeds it a :class:`~maze_env.render.HumanWindow`'s key presses and shows its frames.
Without a display the command says so and exits with status 2 (a window nobody sees would wait
for keys forever); with ``SDL_VIDEODRIVER=dummy`` it plays the ``--keys`` given and stops.

A walk is *optimal* when it reaches the target in as many moves as the shortest path
(:func:`maze_env.solve.bfs_distances`); bumping into a wall costs a step but no move, so it is
counted and shown but does not make a walk suboptimal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from maze_env.generators import GENERATORS, check_shape
from maze_env.maze import Maze, Task
from maze_env.placement import parse_placement
from maze_env.render import PATH_COLORS, HumanWindow, NoDisplayError, draw_frame
from maze_env.shapes import parse_shape
from maze_env.solve import bfs_distances, shortest_path
from maze_env.types import Action, Coord, Shape

KEY_ACTIONS: dict[str, Action] = {
    "up": Action.UP,
    "right": Action.RIGHT,
    "down": Action.DOWN,
    "left": Action.LEFT,
    "w": Action.UP,
    "d": Action.RIGHT,
    "s": Action.DOWN,
    "a": Action.LEFT,
}
"""pygame key names (``pygame.key.name``) that move, and where."""
RESET_KEYS = frozenset({"r"})
QUIT_KEYS = frozenset({"q", "escape", "quit"})
"""``"quit"`` is what :meth:`HumanWindow.pump` reports when the window is closed."""
WALKED_COLOR = PATH_COLORS[1]
SHORTEST_COLOR = PATH_COLORS[0]


class _EnvGame:
    """Draws tasks and steps through :class:`maze_env.env.MazeEnv`: the rules every agent plays by."""

    def __init__(
        self,
        shape: Shape,
        generator: str,
        params: dict[str, Any],
        origin: str,
        target: str,
        seed: int | None,
    ) -> None:
        from maze_env.env import MazeEnv

        self.env = MazeEnv(
            shape, generator, params, origin=origin, target=target, max_steps=NO_TIME_LIMIT
        )
        self.seed: int | None = seed

    def reset(self, task: Task | None) -> Task:
        options = None if task is None else {"task": task}
        _, info = self.env.reset(seed=self.seed, options=options)
        self.seed = None  # seed the first reset only: later ones continue the seeded sequence
        return info["task"]

    def step(self, action: int) -> Coord:
        self.env.step(action)
        return self.env.agent


NO_TIME_LIMIT = 10**9
"""``max_steps`` of the env behind a game: a person is never cut off."""


class PlayState:
    """One person's game: the current task, where the agent is, and the walk so far.

    Steps go through :class:`maze_env.env.MazeEnv`, so a person plays by the agents' rules: a wall
    bump leaves the agent in place and counts as a step.

    Args:
        shape: maze size ``(rows, cols)``.
        generator: a name in :data:`maze_env.generators.GENERATORS`.
        seed: seeds the whole session (every maze and endpoint of every reset); ``None``: fresh.
        origin: a placement spec for the start (see :mod:`maze_env.placement`).
        target: a placement spec for the target.
        task: play this task first instead of drawing one (R still draws new ones).
        generator_params: keyword arguments for the generator.
    """

    def __init__(
        self,
        shape: Sequence[int] = (6, 6),
        generator: str = "dfs",
        *,
        seed: int | None = None,
        origin: str = "corner:tl",
        target: str = "corner:br",
        task: Task | None = None,
        generator_params: dict[str, Any] | None = None,
    ) -> None:
        if generator not in GENERATORS:
            raise ValueError(
                f"unknown generator {generator!r}; allowed: {', '.join(sorted(GENERATORS))}"
            )
        self.shape: Shape = check_shape(shape)
        parse_placement(origin), parse_placement(target)  # fail early with the placement's message
        params = dict(generator_params or {})
        self._game = _EnvGame(self.shape, generator, params, origin, target, seed)
        self.episode = 0
        self.reset(task)

    # -- state --------------------------------------------------------------------------------
    def reset(self, task: Task | None = None) -> None:
        """Start over on ``task``, or on a new maze drawn from the session's generator."""
        if task is not None and not isinstance(task, Task):
            raise TypeError(f"task must be a Task, got {type(task).__name__}")
        self.task: Task = self._game.reset(task)
        self.agent: Coord = self.task.origin
        self.walked: list[Coord] = [self.task.origin]
        self.steps = 0
        self.bumps = 0
        self._to_target = bfs_distances(self.task.maze, self.task.target)
        self.shortest = int(self._to_target[self.task.origin])
        self.episode += 1

    @property
    def maze(self) -> Maze:
        return self.task.maze

    @property
    def moves(self) -> int:
        """Moves that changed the cell (steps minus wall bumps)."""
        return len(self.walked) - 1

    @property
    def reached(self) -> bool:
        return self.agent == self.task.target

    @property
    def detour(self) -> int:
        """Extra moves so far: ``moves + distance left - shortest`` (0 while on a shortest path)."""
        return self.moves + int(self._to_target[self.agent]) - self.shortest

    @property
    def optimal(self) -> bool:
        """True while the walk is a prefix of a shortest path (at the target: it is one)."""
        return self.detour == 0

    # -- input --------------------------------------------------------------------------------
    def step(self, action: Action | int) -> bool:
        """Try one move; return whether the agent moved (False into a wall or after the target)."""
        if int(action) not in range(4):
            raise ValueError(f"action must be 0..3 (up, right, down, left), got {action!r}")
        if self.reached:
            return False
        self.steps += 1
        cell = self._game.step(int(action))
        if cell == self.agent:
            self.bumps += 1
            return False
        self.agent = cell
        self.walked.append(cell)
        return True

    def handle_key(self, key: str) -> str:
        """Apply one key by its pygame name; return what happened.

        Returns:
            ``"quit"``, ``"reset"``, ``"moved"``, ``"wall"`` (into a wall), ``"done"`` (a move
            after reaching the target: ignored) or ``"ignored"`` (a key with no binding).
        """
        key = key.lower()
        if key in QUIT_KEYS:
            return "quit"
        if key in RESET_KEYS:
            self.reset()
            return "reset"
        if key in KEY_ACTIONS:
            if self.reached:
                return "done"
            return "moved" if self.step(KEY_ACTIONS[key]) else "wall"
        return "ignored"

    # -- output -------------------------------------------------------------------------------
    def status_text(self) -> str:
        """Two lines: counters, then whether the walk is optimal (and the keys once finished)."""
        bumps = f" ({self.bumps} into walls)" if self.bumps else ""
        head = f"maze {self.episode}  steps {self.steps}{bumps}  shortest {self.shortest}"
        if self.reached:
            verdict = "optimal!" if self.optimal else f"not optimal (+{self.detour})"
            return f"{head}\nreached in {self.moves} moves: {verdict}  R: new maze  Q: quit"
        if self.shortest < 0:  # a maze without a connectivity guarantee, a given task
            return f"{head}\nthe target cannot be reached from here: R for a new maze"
        verdict = "on a shortest path" if self.optimal else f"detour +{self.detour}"
        return f"{head}\nmoves {self.moves}: {verdict}"

    def frame(self, cell_px: int = 32) -> np.ndarray:
        """``uint8[H, W, 3]``: the maze, the walk so far and, once at the target, a shortest path."""
        paths: list[list[Coord]] = [self.walked]
        colors = [WALKED_COLOR]
        if self.reached:
            best = shortest_path(self.maze, self.task.origin, self.task.target) or []
            paths, colors = [best, self.walked], [SHORTEST_COLOR, WALKED_COLOR]
        return draw_frame(
            self.task, agent=self.agent, paths=paths, path_colors=colors, cell_px=cell_px
        )


def auto_cell_px(shape: Sequence[int], max_px: int = 720) -> int:
    """A cell size that fits the frame in about ``max_px`` pixels (between 8 and 48)."""
    return int(np.clip(max_px // (1.25 * max(shape)), 8, 48))


def run(
    state: PlayState,
    *,
    cell_px: int | None = None,
    fps: float = 30,
    keys: Iterable[str] = (),
    screenshot: str | None = None,
    window: HumanWindow | None = None,
) -> PlayState:
    """Show ``state`` in a window and play until Q/Escape/closing (or the scripted keys run out).

    On a headless driver (``SDL_VIDEODRIVER=dummy``) nobody can press a key, so the game also
    ends when the scripted keys run out.

    Args:
        state: the game.
        cell_px: cell size; ``None`` picks one from the maze size.
        fps: redraws per second.
        keys: key names played first, one per frame (a demo, or a test).
        screenshot: after the scripted keys, save the window to this image file and return.
        window: a window to use (it is closed at the end either way).

    Returns:
        ``state`` after the last key.

    Raises:
        NoDisplayError: no window can be shown (see :class:`~maze_env.render.HumanWindow`).
    """
    window = window or HumanWindow(title="mazebench play", fps=fps, key_repeat=(250, 60))
    scripted = list(keys)
    played = False
    try:
        while True:
            px = cell_px or auto_cell_px(state.shape)
            window.show(state.frame(px), state.status_text())
            if scripted:
                pressed = [scripted.pop(0)]
                played = True
            elif screenshot is not None:
                window.screenshot(screenshot)
                return state
            elif window.headless:
                if not played:
                    print("note: a headless SDL_VIDEODRIVER shows no window; nothing to play "
                          "without --keys", file=sys.stderr)  # fmt: skip
                return state
            else:
                pressed = window.pump()
            for key in pressed:
                if state.handle_key(key) == "quit":
                    return state
    finally:
        window.close()


def _shape_arg(text: str) -> Shape:
    try:
        return parse_shape(text)
    except ValueError as err:  # argparse shows an ArgumentTypeError's message as it is
        raise argparse.ArgumentTypeError(str(err)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mazebench play`` and ``python -m maze_env.play``."""
    parser.add_argument(
        "--shape",
        type=_shape_arg,
        default=(8, 8),
        help="maze size ROWSxCOLS, e.g. 8x8 or 6x12 (default 8x8)",
    )
    parser.add_argument(
        "--generator",
        default="dfs",
        choices=sorted(GENERATORS),
        help="maze generator (default dfs)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed for the whole session (default: fresh)"
    )
    parser.add_argument(
        "--origin",
        default="corner:tl",
        help="start placement, e.g. random, corner:tl, cell:0,0 (default corner:tl)",
    )
    parser.add_argument(
        "--target",
        default="corner:br",
        help="target placement, e.g. random, corner:br, region:br:2 (default corner:br)",
    )
    parser.add_argument(
        "--cell-px",
        type=int,
        default=None,
        help="cell size in pixels (default: fit the maze in ~720 px)",
    )
    parser.add_argument("--fps", type=float, default=30, help="redraws per second (default 30)")
    parser.add_argument(
        "--keys",
        default="",
        help="debug: comma-separated key names to play first, e.g. right,down,down",
    )
    parser.add_argument(
        "--screenshot",
        default=None,
        metavar="PATH",
        help="debug: after --keys, save the window as an image and exit",
    )


def main_from_args(args: argparse.Namespace, prog: str = "play") -> int:
    """Run a game from parsed :func:`add_arguments` options; prints the last status.

    Returns 0, or 2 with an error line naming ``prog`` when there is no display.
    """
    state = PlayState(
        args.shape,
        args.generator,
        seed=args.seed,
        origin=args.origin,
        target=args.target,
    )
    keys = [k.strip() for k in args.keys.split(",") if k.strip()]
    try:
        run(state, cell_px=args.cell_px, fps=args.fps, keys=keys, screenshot=args.screenshot)
    except NoDisplayError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    print(state.status_text().replace("\n", " | "))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m maze_env.play", description=__doc__.split("\n\n")[0]
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return main_from_args(args)
    except ValueError as err:
        print(f"play: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
