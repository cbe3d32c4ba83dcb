"""The deep-thinking net: shapes at any size, state continuation, input encoding, overfitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.deepthinking.model import (
    DTConfig,
    DTNet,
    encode_grids,
    neighbour_messages,
    open_sides,
    path_pixels,
)
from maze_env import generate
from maze_env.solve import batch_shortest_path_arrays, shortest_path


def _net(**kw: object) -> DTNet:
    torch.manual_seed(0)
    return DTNet(DTConfig(width=8, head_width=4, **kw)).eval()


def _grids(shape: tuple[int, int], n: int = 2, seed: int = 0) -> np.ndarray:
    conn = np.stack([generate("dfs", shape, seed=seed + i).connections for i in range(n)])
    origins = np.zeros((n, 2), dtype=np.int64)
    targets = np.tile(np.array(shape) - 1, (n, 1))
    return encode_grids(conn, origins, targets)


@pytest.mark.parametrize(
    ("stride", "gate", "mixer"),
    [(1, False, "conv"), (1, True, "conv"), (2, False, "conv"), (2, True, "conv"), (2, False, "graph")],
)
@pytest.mark.parametrize("shape", [(1, 2), (3, 5), (9, 9), (16, 12)])
def test_logits_cover_every_pixel_at_any_size(
    stride: int, gate: bool, mixer: str, shape: tuple[int, int]
) -> None:
    net = _net(stride=stride, gate=gate, mixer=mixer)
    x = torch.from_numpy(_grids(shape))
    logits, state = net(x, 3)
    assert logits.shape == (2, 2 * shape[0] + 1, 2 * shape[1] + 1)
    cells = shape if stride == 2 else (2 * shape[0] + 1, 2 * shape[1] + 1)
    assert state.shape == (2, 8, *cells)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("mixer", ["conv", "graph"])
def test_continuing_a_state_equals_running_longer(mixer: str) -> None:
    net = _net(gate=True, mixer=mixer)
    x = torch.from_numpy(_grids((5, 6)))
    with torch.no_grad():
        full, _ = net(x, 7)
        _, mid = net(x, 3)
        cont, _ = net(x, 4, state=mid)
        curve = dict(net.iterate(x, [7, 0, 3]))
    torch.testing.assert_close(cont, full)
    torch.testing.assert_close(curve[7], full)
    assert sorted(curve) == [0, 3, 7]


def test_encode_grids_is_the_env_grid_with_endpoints_and_wall_padding() -> None:
    maze = generate("dfs", (3, 4), seed=5)
    x = encode_grids(maze.connections[None], np.array([[0, 1]]), np.array([[2, 3]]), pad_to=(4, 6))
    assert x.shape == (1, 3, 9, 13)
    np.testing.assert_array_equal(x[0, 0, :7, :9].astype(bool), maze.as_grid())
    assert x[0, 0, 7:, :].all() and x[0, 0, :, 9:].all()  # padding is wall
    assert x[0, 1].sum() == 1 and x[0, 1, 1, 3] == 1
    assert x[0, 2].sum() == 1 and x[0, 2, 5, 7] == 1
    with pytest.raises(ValueError, match="pad_to"):
        encode_grids(maze.connections[None], np.array([[0, 0]]), np.array([[0, 1]]), pad_to=(2, 4))


def test_path_pixels_mark_cells_and_the_passages_between_them() -> None:
    maze = generate("dfs", (5, 5), seed=3)
    paths, lengths = batch_shortest_path_arrays(
        maze.connections[None], np.array([[0, 0]]), np.array([[4, 4]])
    )
    y = path_pixels(paths, lengths, (11, 11))[0]
    path = shortest_path(maze, (0, 0), (4, 4))
    assert y.sum() == 2 * len(path) - 1
    assert not (y & maze.as_grid()).any()  # never a wall pixel
    for r, c in path:
        assert y[2 * r + 1, 2 * c + 1]


def test_bad_inputs_raise() -> None:
    net = _net()
    with pytest.raises(ValueError, match="channels"):
        net(torch.zeros(1, 2, 5, 5), 1)
    with pytest.raises(ValueError, match="2R\\+1"):
        net(torch.zeros(1, 3, 6, 5), 1)
    with pytest.raises(ValueError, match="n_iter"):
        net(torch.zeros(1, 3, 5, 5), -1)
    with pytest.raises(ValueError, match="stride"):
        DTConfig(stride=3)
    with pytest.raises(ValueError, match="width"):
        DTConfig(width=0)
    with pytest.raises(ValueError, match="unknown DTConfig"):
        DTConfig.from_dict({"depth": 3})
    with pytest.raises(ValueError, match="mixer must be one of conv, graph"):
        DTConfig(mixer="attention")
    with pytest.raises(ValueError, match="needs stride=2"):
        DTConfig(mixer="graph", stride=1)


def test_open_sides_read_the_walls_between_cells() -> None:
    maze = generate("dfs", (4, 5), seed=2)
    x = torch.from_numpy(encode_grids(maze.connections[None], np.zeros((1, 2)), np.zeros((1, 2))))
    sides = open_sides(x)[0].numpy().astype(bool)  # up, right, down, left
    for r in range(4):
        for c in range(5):
            want = [(r > 0 and maze.connections[0, r - 1, c]), (c < 4 and maze.connections[1, r, c]),
                    (r < 3 and maze.connections[0, r, c]), (c > 0 and maze.connections[1, r, c - 1])]
            assert list(sides[:, r, c]) == [bool(w) for w in want], (r, c)


def test_graph_messages_cross_open_passages_only() -> None:
    """A state set in one cell reaches, after one message pass, exactly its open neighbours."""
    maze = generate("dfs", (5, 5), seed=4)
    x = torch.from_numpy(encode_grids(maze.connections[None], np.zeros((1, 2)), np.zeros((1, 2))))
    h = torch.zeros(1, 1, 5, 5)
    h[0, 0, 2, 2] = 1.0
    got = neighbour_messages(h, open_sides(x)).sum(1)[0, 0].numpy() > 0
    want = np.zeros((5, 5), dtype=bool)
    for r, c in maze.neighbors((2, 2)):
        want[r, c] = True
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mixer", ["conv", "graph"])
def test_overfits_a_tiny_batch(mixer: str) -> None:
    """A few hundred Adam steps drive a tiny net to the exact path masks of 4 small mazes."""
    from train.deepthinking import exact_rate, masked_bce

    torch.manual_seed(0)
    conn = np.stack([generate("dfs", (3, 3), seed=s).connections for s in range(4)])
    origins, targets = np.zeros((4, 2), np.int64), np.full((4, 2), 2, np.int64)
    x = torch.from_numpy(encode_grids(conn, origins, targets))
    paths, lengths = batch_shortest_path_arrays(conn, origins, targets)
    y = torch.from_numpy(path_pixels(paths, lengths, x.shape[2:]).astype(np.float32))
    mask = 1 - x[:, 0]
    net = DTNet(DTConfig(width=12, head_width=8, gate=True, mixer=mixer))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        logits, _ = net(x, 3)
        loss = masked_bce(logits, y, mask)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05 * first
    assert exact_rate(net(x, 3)[0].detach(), y, mask) == 1.0
