""":func:`make_vocabulary`: the vocabulary of any scheme, AOTP or grid.

An AOTP scheme's ids are laid out by :class:`~maze_env.tokens.vocab.Vocabulary`, a grid scheme's
by :class:`~maze_env.tokens.grid.GridVocabulary`; code that reads the scheme from a config or a
checkpoint builds its vocabulary here instead of choosing the class itself.
"""

from __future__ import annotations

from maze_env.tokens.grid import GridVocabulary
from maze_env.tokens.schemes import GridScheme, Scheme, get_scheme
from maze_env.tokens.vocab import Vocabulary
from maze_env.types import Shape


def make_vocabulary(
    max_shape: int | Shape, scheme: str | Scheme | GridScheme = "aotp"
) -> Vocabulary:
    """The vocabulary of ``scheme`` for grids up to ``max_shape``.

    Args:
        max_shape: the largest ``(rows, cols)`` (an int means square); for ``grid`` not a limit.
        scheme: a name from :data:`~maze_env.tokens.SCHEMES` (or the scheme itself).

    Returns:
        A :class:`~maze_env.tokens.vocab.Vocabulary` for an AOTP scheme, a
        :class:`~maze_env.tokens.grid.GridVocabulary` for ``grid`` and ``grid_cells``.

    Raises:
        ValueError: an unknown scheme (listing the known ones) or a non-positive ``max_shape``.
    """
    sch = get_scheme(scheme)
    if isinstance(sch, GridScheme):
        return GridVocabulary(max_shape, sch)
    return Vocabulary(max_shape, sch)
