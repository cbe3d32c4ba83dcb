"""The episode engine shared by :class:`~maze_env.env.MazeEnv` and the vector env.

What a reset draws (:func:`draw_episodes`), given tasks (:func:`episodes_from_tasks`) and each
episode's tables, batched: ``nxt[i, cell, action]`` (the cell an action leads to; itself at a
wall) and ``dist[i, cell]`` (moves to the target). Mazes are padded to the env's grid, top-left
aligned; cells are flat indices ``r * C + c`` over it.

Seeding: an env holds two stream keys drawn from its ``np_random`` (:func:`derive_keys`).
Episode ``e`` draws its maze from generator stream ``(maze_key, e)`` and its shape, pool index,
target and origin from ``(task_key, e)`` (:mod:`maze_env.rng`), so an episode is the same
whether drawn alone or in a batch of envs: env ``i`` of a vector env seeded ``s`` plays what a
``MazeEnv`` seeded ``s + i`` plays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from maze_env.env_config import MAX_STEPS_PER_CELL, EnvConfig
from maze_env.generators import get_spec
from maze_env.maze import Maze, Task, check_cell
from maze_env.placement import dead_end_mask
from maze_env.rng import next_u64, numpy_generator, stream_state
from maze_env.solve import bfs_kernel, move_kernel
from maze_env.types import Coord

__all__ = [
    "Episodes",
    "MazeCache",
    "cell_dtype",
    "derive_keys",
    "draw_episodes",
    "empty_tables",
    "episode_limits",
    "episodes_from_tasks",
    "step_outcome",
    "step_outcome_jit",
    "token_rng",
]

_N_DRAWS = 4  # random draws per episode from its task stream: shape, pool index, target, origin
_TOKEN_SALT = 0x746F6B656E73  # separates the tokens' edge-order stream from the task stream


@dataclass(eq=False)
class Episodes:
    """``n`` tasks padded to one ``(R, C)`` grid (top-left aligned), with their tables.

    Attributes:
        conn: ``bool[n, 2, R, C]`` connections (False outside each maze).
        shapes: ``int64[n, 2]`` each maze's ``(rows, cols)``.
        origins, targets: ``int64[n, 2]`` cells.
        nxt: ``int[n, R*C, 4]``: the flat cell (``r * C + c``) each action leads to, the cell
            itself at a wall; the smallest int dtype that holds ``R*C`` (see :func:`cell_dtype`).
        dist: ``int[n, R*C]``: moves to the target, -1 where it cannot be reached.
    """

    conn: np.ndarray
    shapes: np.ndarray
    origins: np.ndarray
    targets: np.ndarray
    nxt: np.ndarray | None = None
    dist: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.shapes)

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        """``(nxt, dist)``, computed on first use (one numba pass: moves, then BFS from the target)."""
        if self.nxt is None or self.dist is None:
            n, _, rows, cols = self.conn.shape
            self.nxt, self.dist = empty_tables(n, rows * cols)
            _tables_kernel(self.conn, self.targets, self.nxt, self.dist)
        return self.nxt, self.dist

    def task(self, i: int) -> Task:
        r, c = (int(v) for v in self.shapes[i])
        o, t = self.origins[i], self.targets[i]
        return Task(Maze(self.conn[i, :, :r, :c]), (int(o[0]), int(o[1])), (int(t[0]), int(t[1])))

    def with_target(self, cell: Coord) -> Episodes:
        """This one-task batch with the target moved to ``cell`` (tables recomputed)."""
        r, c = (int(v) for v in self.shapes[0])
        target = np.array([check_cell(cell, (r, c), "target")], dtype=np.int64)
        return Episodes(self.conn, self.shapes, self.origins, target)


def cell_dtype(n_cells: int) -> type[np.signedinteger]:
    """The smallest signed int dtype for flat cell indices and distances of ``n_cells`` cells."""
    return np.int8 if n_cells <= 127 else np.int16 if n_cells <= 32767 else np.int32


def empty_tables(n: int, n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Uninitialized ``(nxt, dist)`` for ``n`` mazes (small dtypes: the step loop is memory-bound)."""
    dtype = cell_dtype(n_cells)
    return np.empty((n, n_cells, 4), dtype=dtype), np.empty((n, n_cells), dtype=dtype)


def step_outcome(
    p: int,
    q: int,
    target: int,
    steps: int,
    max_steps: int,
    goal: float,
    step_pen: float,
    wall_pen: float,
) -> tuple[float, bool, bool, bool]:
    """The rules of one step, the env's and the vector env's alike (the one home of them).

    Args:
        p: the agent's flat cell before the step; ``q``: after it (``nxt[p, action]``, which is
            ``p`` at a wall); ``target``: the target's flat cell.
        steps: steps taken in the episode, this one included; ``max_steps``: its limit.
        goal, step_pen, wall_pen: the episode's rewards (see :func:`episode_limits`).

    Returns:
        ``(reward, terminated, truncated, hit_wall)``: ``goal`` on reaching the target, else the
        step penalty plus the wall penalty on a bump; truncated at the limit unless terminated.
    """
    hit = q == p
    terminated = q == target
    if terminated:
        reward = goal
    elif hit:
        reward = step_pen + wall_pen
    else:
        reward = step_pen
    truncated = (not terminated) and steps >= max_steps
    return reward, terminated, truncated, hit


step_outcome_jit = njit(cache=True, inline="always")(step_outcome)
""":func:`step_outcome` compiled, for the vector env's step kernel (the same source)."""


def episode_limits(cfg: EnvConfig, shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step limits and rewards of episodes whose mazes have ``shapes: int[n, 2]``.

    Returns:
        ``(max_steps: int64[n], step_penalty: float64[n], wall_penalty: float64[n])``: the
        configured values, or the defaults ``4 * rows * cols``, ``-1 / max_steps`` and the step
        penalty.
    """
    n = len(shapes)
    if cfg.max_steps is not None:
        max_steps = np.full(n, cfg.max_steps, dtype=np.int64)
    else:
        max_steps = MAX_STEPS_PER_CELL * shapes[:, 0].astype(np.int64) * shapes[:, 1]
    step = np.full(n, cfg.step_penalty) if cfg.step_penalty is not None else -1.0 / max_steps
    wall = np.full(n, cfg.wall_penalty) if cfg.wall_penalty is not None else step.copy()
    return max_steps, step.astype(np.float64), wall.astype(np.float64)


def derive_keys(rng: np.random.Generator) -> np.ndarray:
    """``uint64[2]``: an env's maze and task stream keys, drawn from its ``np_random``."""
    return rng.integers(0, 2**64, size=2, dtype=np.uint64)


def token_rng(task_key: int, episode: int) -> np.random.Generator:
    """The edge-order Generator of an episode's tokens observation."""
    return numpy_generator(task_key ^ _TOKEN_SALT, episode)


class MazeCache:
    """Each env's upcoming mazes, ``block`` per generator call.

    Maze ``e`` of an env is maze 0 of ``fn(shape, 1, key=maze_key, start=e)``, which is maze
    ``k`` of ``fn(shape, block, key=maze_key, start=e - k)`` (a batch's maze ``k`` draws only from
    stream ``start + k``). Generating ``block`` at a time keeps the generator's per-call overhead
    off most autoresets; the mazes are the same as one at a time.

    Args:
        cfg: the env configuration.
        n: number of envs.
        budget: bytes the cache may use (blocks shrink for big mazes, down to 1).
    """

    def __init__(self, cfg: EnvConfig, n: int, budget: int = 2**25) -> None:
        self.cfg, self.fn = cfg, get_spec(cfg.generator).fn
        per = [n * 2 * r * c * len(cfg.shapes) for r, c in cfg.shapes]
        self.block = [int(np.clip(budget // b, 1, 64)) for b in per]
        self.first = np.full((len(cfg.shapes), n), -1, dtype=np.int64)  # episode of slot 0
        self.buf = [
            np.zeros((n, b, 2, r, c), bool)
            for b, (r, c) in zip(self.block, cfg.shapes, strict=True)
        ]

    def invalidate(self, envs: np.ndarray) -> None:
        """Forget ``envs``' mazes (their keys changed)."""
        self.first[:, envs] = -1

    def fill(
        self,
        conn: np.ndarray,
        sids: np.ndarray,
        envs: np.ndarray,
        keys: np.ndarray,
        episodes: np.ndarray,
    ) -> None:
        """Write maze ``episodes[j]`` of env ``envs[j]`` (shape ``sids[j]``) into ``conn[j]``."""
        for s in np.unique(sids) if len(self.buf) > 1 else (0,):
            (rows, cols), block, buf = self.cfg.shapes[s], self.block[s], self.buf[s]
            sel = np.flatnonzero(sids == s) if len(self.buf) > 1 else np.arange(len(sids))
            env, ep = envs[sel], episodes[sel]
            first = self.first[s, env]
            stale = (first < 0) | (ep < first) | (ep >= first + block)
            for j in np.flatnonzero(stale):
                buf[env[j]] = self.fn(
                    (rows, cols),
                    block,
                    key=int(keys[sel[j]]),
                    start=int(ep[j]),
                    **self.cfg.generator_params,
                )
                self.first[s, env[j]] = ep[j]
            conn[sel, :, :rows, :cols] = buf[env, ep - self.first[s, env]]


def draw_episodes(
    cfg: EnvConfig,
    maze_keys: np.ndarray,
    task_keys: np.ndarray,
    episodes: np.ndarray,
    cache: MazeCache | None = None,
    envs: np.ndarray | None = None,
) -> Episodes:
    """The tasks of ``episodes[i]`` of the envs keyed ``(maze_keys[i], task_keys[i])``.

    Episode ``e`` of an env draws only from its streams ``(maze_key, e)`` (the generator's,
    :mod:`maze_env.rng`) and ``(task_key, e)`` (shape, pool index, target, origin), so it is
    the same whether drawn alone or in a batch. ``cache`` (with the env indices ``envs``) only
    makes generating faster. The target is drawn from its placement's cells; the origin from its
    placement's cells that can reach the target, never the target itself (falling back to any
    such cell, then to any other cell, when a maze leaves none).
    """
    n = len(episodes)
    draws = _episode_draws(np.asarray(task_keys, np.uint64), np.asarray(episodes, np.int64))
    rows, cols = cfg.grid_shape
    pick = None
    if cfg.pool is not None:
        pick = (draws[:, 1] % np.uint64(len(cfg.pool.shapes))).astype(np.int64)
        conn = np.zeros((n, 2, rows, cols), dtype=bool)
        pr, pc = cfg.pool.conn.shape[2:]
        conn[:, :, :pr, :pc] = cfg.pool.conn[pick]
        shapes = cfg.pool.shapes[pick]
    else:
        sid = (draws[:, 0] % np.uint64(len(cfg.shapes))).astype(np.int64)
        shapes = np.array(cfg.shapes, dtype=np.int64)[sid]
        conn = np.zeros((n, 2, rows, cols), dtype=bool)
        if cache is not None:
            cache.fill(conn, sid, np.asarray(envs), maze_keys, episodes)
        else:
            fn = get_spec(cfg.generator).fn
            for i in range(n):  # one call per maze: each env has its own stream key
                r, c = int(shapes[i, 0]), int(shapes[i, 1])
                conn[i, :, :r, :c] = fn(
                    (r, c), 1, key=int(maze_keys[i]), start=int(episodes[i]), **cfg.generator_params
                )[0]
    ep = Episodes(conn, shapes, np.zeros((n, 2), np.int64), np.zeros((n, 2), np.int64))
    ep.nxt, ep.dist = empty_tables(n, rows * cols)
    masks = cfg.masks
    sids = masks["shape_id"][shapes[:, 0], shapes[:, 1]]
    allowed = []  # per placement: (given?, cell masks, the mask row of each episode)
    for which in ("target", "origin"):
        placement = getattr(cfg, which + "_placement")
        if placement is None:  # the pool's own endpoints
            getattr(ep, which + "s")[:] = getattr(cfg.pool, which + "s")[pick]
            allowed.append((True, masks["valid"], sids))
        elif placement.kind == "dead_end":  # depends on the maze
            allowed.append((False, dead_end_mask(conn, masks["valid"][sids]), np.arange(n)))
        else:
            allowed.append((False, masks[which], sids))
    (t_given, tmask, trows), (o_given, omask, orows) = allowed
    _draw_kernel(
        conn, sids, draws, masks["valid"], tmask, trows, omask, orows, t_given, o_given,
        ep.targets, ep.origins, ep.nxt, ep.dist,
    )  # fmt: skip
    return ep


def episodes_from_tasks(cfg: EnvConfig, tasks: Sequence[Task]) -> Episodes:
    """Given tasks as :class:`Episodes`, checked against this env's shapes."""
    rows, cols = cfg.grid_shape
    conn = np.zeros((len(tasks), 2, rows, cols), dtype=bool)
    for i, task in enumerate(tasks):
        if not isinstance(task, Task):
            raise TypeError(f"a task must be a maze_env.Task, got {type(task).__name__}")
        r, c = task.maze.shape
        if not cfg.padded and (r, c) != cfg.grid_shape:
            raise ValueError(
                f"the task's maze is {r}x{c} but this env's shape is {rows}x{cols} and padding is "
                f"off; make the env with shape=({r}, {c}), or pad_to=({max(r, rows)}, {max(c, cols)})"
            )
        if r > rows or c > cols:
            raise ValueError(
                f"the task's maze is {r}x{c}, larger than this env's pad_to={cfg.grid_shape}"
            )
        conn[i, :, :r, :c] = task.maze.connections
    origins = np.array([t.origin for t in tasks], np.int64).reshape(-1, 2)
    targets = np.array([t.target for t in tasks], np.int64).reshape(-1, 2)
    return Episodes(conn, np.array([t.maze.shape for t in tasks], np.int64), origins, targets)


@njit(cache=True)
def _fill_moves(conn, nxt):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One maze: ``nxt[cell, action]`` from ``conn[2, R, C]`` (:func:`maze_env.solve.move_kernel`)."""
    rows, cols = conn.shape[1], conn.shape[2]
    for r in range(rows):
        for c in range(cols):
            for a in range(4):
                nr, nc = move_kernel(conn, r, c, a)
                nxt[r * cols + c, a] = nr * cols + nc if nr >= 0 else r * cols + c


@njit(cache=True)
def _distances(conn, target, dist, queue):  # type: ignore[no-untyped-def]  # pragma: no cover
    """One maze: ``dist[cell]`` = moves from ``cell`` to flat ``target``, -1 if none
    (:func:`maze_env.solve.bfs_kernel` over ``dist`` seen as ``[R, C]``)."""
    rows, cols = conn.shape[1], conn.shape[2]
    dist[:] = -1
    bfs_kernel(conn, target // cols, target % cols, dist.reshape(rows, cols), queue, -1)


@njit(cache=True)
def _tables_kernel(conn, targets, nxt, dist):  # type: ignore[no-untyped-def]  # pragma: no cover
    cols = conn.shape[3]
    queue = np.empty(conn.shape[2] * cols, dtype=np.int64)
    for i in range(conn.shape[0]):
        _fill_moves(conn[i], nxt[i])
        _distances(conn[i], targets[i, 0] * cols + targets[i, 1], dist[i], queue)


@njit(cache=True)
def _kth(mask, draw):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Index of the ``draw % count``-th True of ``mask`` (which has ``count >= 1`` Trues)."""
    count = 0
    for v in mask:
        count += v
    k = np.int64(draw % np.uint64(max(count, 1)))
    for c in range(mask.shape[0]):
        if mask[c]:
            if k == 0:
                return c
            k -= 1
    return 0


@njit(cache=True)
def _draw_kernel(
    conn,
    sids,
    draws,
    valid,
    tmask,
    trows,
    omask,
    orows,
    t_given,
    o_given,
    targets,
    origins,
    nxt,
    dist,
):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Targets, tables and origins of ``n`` drawn mazes (see :func:`draw_episodes`).

    Episode ``i`` may place its target on ``tmask[trows[i]]`` and its origin on
    ``omask[orows[i]]`` (cell masks ``bool[K, R*C]``), unless that end is given.
    """
    n, cols = conn.shape[0], conn.shape[3]
    m = conn.shape[2] * cols
    queue = np.empty(m, dtype=np.int64)
    cand = np.empty(m, dtype=np.bool_)
    for i in range(n):
        s = sids[i]
        _fill_moves(conn[i], nxt[i])
        if not t_given:
            t = _kth(tmask[trows[i]], draws[i, 2])
            targets[i, 0], targets[i, 1] = t // cols, t % cols
        t = targets[i, 0] * cols + targets[i, 1]
        _distances(conn[i], t, dist[i], queue)
        if o_given:
            continue
        base = omask[orows[i]]
        for level in range(4):  # placement & reaches target, placement, valid & reaches, valid
            count = 0
            for c in range(m):
                ok = (base[c] if level < 2 else valid[s, c]) and c != t
                cand[c] = ok and (dist[i, c] > 0 or level % 2 == 1)
                count += cand[c]
            if count > 0:
                break
        o = _kth(cand, draws[i, 3])
        origins[i, 0], origins[i, 1] = o // cols, o % cols


@njit(cache=True)
def _episode_draws(keys: np.ndarray, episodes: np.ndarray) -> np.ndarray:  # pragma: no cover
    """``uint64[n, 4]``: the first draws of stream ``episodes[i]`` of family ``keys[i]``."""
    out = np.empty((keys.shape[0], _N_DRAWS), dtype=np.uint64)
    for i in range(keys.shape[0]):
        state = stream_state(keys[i], episodes[i])
        for k in range(_N_DRAWS):
            out[i, k] = next_u64(state)
    return out
