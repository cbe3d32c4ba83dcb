"""Gymnasium registration: ``import maze_env`` makes ``maze_env/Maze-v0`` available.

``gymnasium.make("maze_env/Maze-v0", **kwargs)`` builds a :class:`~maze_env.env.MazeEnv` and
``gymnasium.make_vec("maze_env/Maze-v0", num_envs=N, vectorization_mode="vector_entry_point",
**kwargs)`` a :class:`~maze_env.vector_env.MazeVectorEnv` (the default ``make_vec`` mode for this
id); both take the same keyword arguments. The time limit is the env's own (``max_steps``, per
maze size), so the spec has no ``max_episode_steps`` and ``make`` adds no ``TimeLimit``.
"""

from __future__ import annotations

import gymnasium

ENV_ID = "maze_env/Maze-v0"

__all__ = ["ENV_ID", "register"]


def register() -> None:
    """Register :data:`ENV_ID` (once; importing :mod:`maze_env` does it)."""
    if ENV_ID in gymnasium.registry:
        return
    gymnasium.register(
        id=ENV_ID,
        entry_point="maze_env.env:MazeEnv",
        vector_entry_point="maze_env.vector_env:MazeVectorEnv",
        max_episode_steps=None,
        nondeterministic=False,
    )


register()
