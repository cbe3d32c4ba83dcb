"""Placement specs: parsing, canonical form, masks on hand-drawn grids, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from maze_env.maze import Maze
from maze_env.placement import CORNERS, Placement, parse_placement

SPECS = [
    "random",
    "dead_end",
    "corner",
    *(f"corner:{c}" for c in CORNERS),
    "cell:0,0",
    "cell:2,3",
    "cell:-1,-1",
    *(f"region:{c}:2" for c in CORNERS),
    *(f"outside:{c}:1" for c in CORNERS),
]


def grid(text: str) -> np.ndarray:
    """A mask drawn as rows of ``.`` (False) and ``x`` (True)."""
    return np.array([[ch == "x" for ch in row] for row in text.split()], dtype=bool)


def open_field(rows: int, cols: int) -> Maze:
    conn = np.ones((2, rows, cols), dtype=bool)
    conn[0, -1, :] = False
    conn[1, :, -1] = False
    return Maze(conn)


# A 3x3 comb: the top row joined, three teeth hanging down; dead ends: the bottom row.
COMB = Maze.from_ascii(
    """
#######
#     #
# # # #
# # # #
# # # #
# # # #
#######
"""
)


@pytest.mark.parametrize("spec", SPECS)
def test_every_spec_round_trips(spec: str) -> None:
    placement = parse_placement(spec)
    assert placement.spec == spec
    assert parse_placement(placement.spec) == placement
    assert parse_placement(placement) is placement


def test_spec_normalization() -> None:
    assert parse_placement("  random ").spec == "random"
    assert parse_placement((1, 2)) == Placement("cell", cell=(1, 2))
    assert parse_placement([3, 4]).spec == "cell:3,4"


@pytest.mark.parametrize(
    "bad",
    ["", "randomly", "cell", "cell:1", "cell:a,b", "corner:xx", "region:br", "region:br:0",
     "region:mid:2", "outside:tl:-1", "dead_end:1", "random:1"],
)  # fmt: skip
def test_bad_specs_name_the_allowed_ones(bad: str) -> None:
    with pytest.raises(ValueError, match="allowed: random, cell:R,C, corner") as err:
        parse_placement(bad)
    assert repr(bad) in str(err.value)


def test_bad_types() -> None:
    with pytest.raises(ValueError, match="string or a \\(row, col\\) pair"):
        parse_placement(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "drawn"),
    [
        ("random", "xxxxx xxxxx xxxxx xxxxx"),
        ("cell:1,2", "..... ..x.. ..... ....."),
        ("cell:-1,-2", "..... ..... ..... ...x."),
        ("corner", "x...x ..... ..... x...x"),
        ("corner:tr", "....x ..... ..... ....."),
        ("region:br:2", "..... ..... ...xx ...xx"),
        ("region:tl:3", "xxx.. xxx.. xxx.. ....."),
        ("region:bl:9", "xxxxx xxxxx xxxxx xxxxx"),  # clipped to the grid
        ("outside:br:2", "xxxxx xxxxx xxx.. xxx.."),
        ("outside:tr:1", "xxxx. xxxxx xxxxx xxxxx"),
    ],
)
def test_masks_on_a_4x5_grid(spec: str, drawn: str) -> None:
    placement = parse_placement(spec)
    expected = grid(drawn)
    np.testing.assert_array_equal(placement.mask((4, 5)), expected)
    for r in range(4):
        for c in range(5):
            assert placement.contains((r, c), (4, 5)) == expected[r, c]


def test_region_is_size_independent() -> None:
    small, big = (
        parse_placement("region:br:2").mask((6, 6)),
        parse_placement("region:br:2").mask((16, 16)),
    )
    assert small.sum() == big.sum() == 4 and small[4:, 4:].all() and big[14:, 14:].all()


def test_cell_outside_the_grid() -> None:
    with pytest.raises(ValueError, match="outside the 3x3 grid"):
        parse_placement("cell:3,0").mask((3, 3))


def test_dead_end_mask() -> None:
    np.testing.assert_array_equal(COMB.degrees() == 1, grid("... ... xxx"))
    placement = parse_placement("dead_end")
    np.testing.assert_array_equal(placement.mask((3, 3), COMB), grid("... ... xxx"))
    assert placement.mask((3, 3)).all()  # without a maze: every cell
    assert placement.mask((3, 3), open_field(3, 3)).all()  # no dead ends: falls back to random


@pytest.mark.parametrize("spec", ["random", "corner", "region:br:2", "outside:tl:2", "dead_end"])
def test_sample_stays_in_the_mask_and_covers_it(spec: str) -> None:
    placement = parse_placement(spec)
    rng = np.random.default_rng(0)
    mask = placement.mask(COMB.shape, COMB)
    seen = {placement.sample(rng, COMB) for _ in range(400)}
    assert seen == {(int(r), int(c)) for r, c in np.argwhere(mask)}


def test_sample_respects_exclude() -> None:
    rng = np.random.default_rng(1)
    region = parse_placement("region:br:2")
    draws = {region.sample(rng, open_field(4, 4), exclude=(3, 3)) for _ in range(200)}
    assert draws == {(2, 2), (2, 3), (3, 2)}
    # a single allowed cell is still returned when excluded (nothing else is allowed)
    assert parse_placement("cell:0,0").sample(rng, open_field(2, 2), exclude=(0, 0)) == (0, 0)


def test_sample_is_reproducible() -> None:
    place, maze = parse_placement("random"), open_field(5, 5)
    a = [place.sample(np.random.default_rng(7), maze) for _ in range(3)]
    b = [place.sample(np.random.default_rng(7), maze) for _ in range(3)]
    assert a == b


def test_empty_mask_raises() -> None:
    with pytest.raises(ValueError, match="allows no cell"):
        parse_placement("outside:br:3").sample(np.random.default_rng(0), open_field(3, 3))
