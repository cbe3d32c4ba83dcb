"""maze_env: mazes, generators, solving, tokens, datasets, the Gymnasium env and rendering.

Imports numpy, numba and gymnasium only (pygame lazily, never torch or stable-baselines3).
"""

from __future__ import annotations

from maze_env import registration as _registration  # noqa: F401  (registers maze_env/Maze-v0)
from maze_env.env import MazeEnv
from maze_env.generators import GENERATORS, generate, generate_batch
from maze_env.maze import Maze, MazeBatch, Task
from maze_env.types import Action, Coord, Shape
from maze_env.vector_env import MazeVectorEnv

__version__ = "0.1.0"

__all__ = [
    "Action",
    "Coord",
    "GENERATORS",
    "Maze",
    "MazeBatch",
    "MazeEnv",
    "MazeVectorEnv",
    "Shape",
    "Task",
    "generate",
    "generate_batch",
]
