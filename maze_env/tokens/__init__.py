"""Tokenizers between a task (maze, origin, target, optional path) and tokens.

* :func:`tokenize` / :func:`parse`: task <-> token strings, for every scheme in :data:`SCHEMES`;
  the default ``"aotp"`` is maze-dataset's AOTP text exactly.
* :class:`Vocabulary`: token strings <-> int ids for a maximum grid size, with vectorized
  batch encoding (:meth:`Vocabulary.encode_tasks`); :class:`GridVocabulary` for the grid
  schemes; :func:`make_vocabulary` builds the one of any scheme.
"""

from __future__ import annotations

from maze_env.tokens.factory import make_vocabulary
from maze_env.tokens.grid import GridVocabulary
from maze_env.tokens.parse import Parsed, parse
from maze_env.tokens.schemes import PADDING, SCHEMES, SPECIAL_TOKENS, GridScheme, Scheme, get_scheme
from maze_env.tokens.tokenizer import tokenize
from maze_env.tokens.vocab import Vocabulary

__all__ = [
    "PADDING",
    "SCHEMES",
    "SPECIAL_TOKENS",
    "GridScheme",
    "GridVocabulary",
    "Parsed",
    "Scheme",
    "Vocabulary",
    "get_scheme",
    "make_vocabulary",
    "parse",
    "tokenize",
]
