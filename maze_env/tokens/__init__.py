"""Tokenizers between a task (maze, origin, target, optional path) and tokens.

* :func:`tokenize` / :func:`parse`: task <-> token strings, for every scheme in :data:`SCHEMES`;
  the default ``"aotp"`` is maze-dataset's AOTP text exactly.
* :class:`Vocabulary`: token strings <-> int ids for a maximum grid size, with vectorized
  batch encoding (:meth:`Vocabulary.encode_tasks`).
"""

from __future__ import annotations

from maze_env.tokens.parse import Parsed, parse
from maze_env.tokens.schemes import PADDING, SCHEMES, SPECIAL_TOKENS, Scheme, get_scheme, tokenize
from maze_env.tokens.vocab import Vocabulary

__all__ = [
    "PADDING",
    "SCHEMES",
    "SPECIAL_TOKENS",
    "Parsed",
    "Scheme",
    "Vocabulary",
    "get_scheme",
    "parse",
    "tokenize",
]
