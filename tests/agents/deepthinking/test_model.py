"""The deep-thinking net: shapes at any size, state continuation, input encoding, overfitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.deepthinking.model import DTConfig, DTNet, encode_grids, path_pixels
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


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize("shape", [(1, 2), (3, 5), (9, 9), (16, 12)])
def test_logits_cover_every_pixel_at_any_size(
    stride: int, gate: bool, shape: tuple[int, int]
) -> None:
    net = _net(stride=stride, gate=gate)
    x = torch.from_numpy(_grids(shape))
    logits, state = net(x, 3)
    assert logits.shape == (2, 2 * shape[0] + 1, 2 * shape[1] + 1)
    cells = shape if stride == 2 else (2 * shape[0] + 1, 2 * shape[1] + 1)
    assert state.shape == (2, 8, *cells)
    assert torch.isfinite(logits).all()


def test_continuing_a_state_equals_running_longer() -> None:
    net = _net(gate=True)
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


def test_overfits_a_tiny_batch() -> None:
    """A few hundred Adam steps drive a tiny net to the exact path masks of 4 small mazes."""
    from train.deepthinking import exact_rate, masked_bce

    torch.manual_seed(0)
    conn = np.stack([generate("dfs", (3, 3), seed=s).connections for s in range(4)])
    origins, targets = np.zeros((4, 2), np.int64), np.full((4, 2), 2, np.int64)
    x = torch.from_numpy(encode_grids(conn, origins, targets))
    paths, lengths = batch_shortest_path_arrays(conn, origins, targets)
    y = torch.from_numpy(path_pixels(paths, lengths, x.shape[2:]).astype(np.float32))
    mask = 1 - x[:, 0]
    net = DTNet(DTConfig(width=12, head_width=8, gate=True))
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
