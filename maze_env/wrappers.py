"""Observation wrappers: :class:`TokensObservation` and :class:`RGBObservation` over a ``MazeEnv``.

``obs_mode=`` makes the env itself return a format (so the env checkers see a plain env); these
wrappers add one over any :class:`~maze_env.env.MazeEnv`, e.g. one made with ``obs_mode="grid"``,
and give the same observations. They read the env only through its public state: ``task``,
``path``, ``agent``, ``config`` and ``token_rng`` (the episode's edge-order rng), and drive an
encoder of :mod:`maze_env.observations` as the env does.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from maze_env.env import MazeEnv
from maze_env.episodes import episodes_from_tasks
from maze_env.maze import Task
from maze_env.observations import (
    MIN_RGB_PX,
    Encoder,
    RGBEncoder,
    TokenEncoder,
    grid_obs,
)

__all__ = [
    "MIN_RGB_PX",
    "RGBEncoder",
    "RGBObservation",
    "TokenEncoder",
    "TokensObservation",
    "grid_obs",
]


def _maze_env(env: gym.Env) -> MazeEnv:
    if not isinstance(env.unwrapped, MazeEnv):
        raise TypeError(
            f"this wrapper needs a maze_env MazeEnv underneath, got {type(env.unwrapped).__name__}"
        )
    return env.unwrapped


class _EncodedObservation(gym.ObservationWrapper):
    """Keeps an encoder's row 0 in step with the env underneath, from its public state.

    A new ``task`` object (a reset, or ``set_target``) re-encodes the row from the task and the
    path walked so far; otherwise each new cell of ``path`` is one move.
    """

    def __init__(self, env: gym.Env, encoder: Encoder) -> None:
        super().__init__(env)
        self._encoder = encoder
        self.observation_space = encoder.space
        self._task: Task | None = None
        self._seen = 0

    def observation(self, observation: Any) -> np.ndarray:
        base = _maze_env(self.env)
        task, path = base.task, base.path
        cols = base.config.grid_shape[1]
        one = np.zeros(1, np.int64)
        if task is not self._task:
            flat = [r * cols + c for r, c in path]
            ep = episodes_from_tasks(base.config, [task])
            rngs = [base.token_rng] if self._encoder.needs_rng else None
            self._encoder.reset_rows(one, ep, np.array(flat[-1:]), rngs, [flat])
            self._task, self._seen = task, len(path)
        elif len(path) > self._seen:
            target = task.target[0] * cols + task.target[1]
            for (pr, pc), (qr, qc) in zip(
                path[self._seen - 1 : -1], path[self._seen :], strict=True
            ):
                self._encoder.move_one(0, pr * cols + pc, qr * cols + qc, target)
            self._seen = len(path)
        return self._encoder.buf[0].copy()


class TokensObservation(_EncodedObservation):
    """Observe a :class:`~maze_env.env.MazeEnv` as tokens (see :class:`TokenEncoder`).

    Args:
        env: a ``MazeEnv``, possibly wrapped.
        scheme: token scheme, if ``vocab`` is None.
        vocab: the :class:`~maze_env.tokens.Vocabulary` (e.g. the transformer's).
    """

    def __init__(self, env: gym.Env, *, scheme: str = "aotp", vocab: Any = None) -> None:
        super().__init__(env, TokenEncoder(_maze_env(env).config, 1, scheme=scheme, vocab=vocab))


class RGBObservation(_EncodedObservation):
    """Observe a :class:`~maze_env.env.MazeEnv` as an RGB frame (see :class:`RGBEncoder`)."""

    def __init__(self, env: gym.Env, *, cell_px: int | None = None) -> None:
        super().__init__(env, RGBEncoder(_maze_env(env).config, 1, cell_px=cell_px))
