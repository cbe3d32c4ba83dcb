"""The recurrent "deep thinking" maze network (Schwarzschild et al. 2021; Bansal et al. 2022).

A fully convolutional net that maps a maze's pixel grid to a per-pixel logit of "on the shortest
path". It has three parts, in reading order:

- ``project``: one 3x3 conv from the input channels (wall, origin, target) to ``width`` features.
  With ``stride=2`` (the default) it has no padding and reads the 3x3 pixel window centred on each
  cell, so the recurrence runs on the ``[R, C]`` cell lattice (4x fewer positions than the
  ``[2R+1, 2C+1]`` pixels, and one cell of propagation per conv instead of half a cell); with
  ``stride=1`` it is Bansal et al.'s pixel-level design.
- ``recur``: the weight-tied block applied ``n_iter`` times with **recall**: each iteration sees the
  concatenation of its state and the projected input, ``h <- block(cat(h, e))``; the block is a
  3x3 conv ``2w -> w`` then ``n_blocks`` residual blocks of two 3x3 convs.
- ``head``: back to pixels (a stride-2 transposed conv when ``stride=2``) and one logit a pixel.

Nothing depends on the maze size, so a net trained on 9x9 mazes runs on 64x64 ones; only the number
of iterations has to grow (test-time compute). Coordinates and the grid layout are those of
:meth:`maze_env.Maze.as_grid` (cell ``(r, c)`` is pixel ``(2r+1, 2c+1)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

CHANNELS = ("wall", "origin", "target")
"""Input channels, in order: the env's grid observation layout (wall, agent, target)."""


MIXERS = ("conv", "graph")
"""How an iteration mixes neighbouring cells (:attr:`DTConfig.mixer`)."""


@dataclass(frozen=True)
class DTConfig:
    """Shape of the network.

    Attributes:
        width: feature channels of the recurrent state.
        n_blocks: residual blocks (two 3x3 convs each) per iteration, after the recall conv.
        stride: 2 runs the recurrence on cells (default), 1 on pixels (Bansal et al.).
        head_width: channels of the head's hidden layer.
        state_bound: if > 0, the state is clamped to ``[0, state_bound]`` after every iteration
            (keeps thousands of iterations from drifting); 0 leaves it unbounded (ReLU only).
        gate: blend the block's output into the state with a learned per-feature gate,
            ``h <- (1 - z) * h + z * block(cat(h, e))``, ``z = sigmoid(conv(cat(h, e)))`` (a
            ConvGRU-like update: keeping the state is the default, not something to learn).
        init: ``"kaiming"``: He-normal conv weights and the last conv of every residual block at
            zero (blocks start as identities; measured to start learning several times sooner than
            PyTorch's default on this task); ``"torch"``: PyTorch's default.
        mixer: how an iteration mixes neighbouring cells. ``"conv"`` (Bansal et al.): 3x3 convs
            over the state, which must learn from the input where the walls are. ``"graph"``
            (cells only, ``stride=2``): message passing along the maze's open passages: each cell
            receives its four neighbours' states, zeroed where a wall stands between them, and
            updates its own from their sum and maximum, its state and the recall features with
            1x1 convs and a GRU-like gate (the ``n_blocks`` and ``gate`` fields are unused). The
            walls are wired in instead of learned, so what one iteration can do is the same at
            every maze size and one iteration moves information exactly one cell along a
            corridor (the shape of dead-end filling and of breadth-first search).
    """

    width: int = 32
    n_blocks: int = 1
    stride: int = 2
    head_width: int = 16
    state_bound: float = 0.0
    gate: bool = False
    init: str = "kaiming"
    mixer: str = "conv"

    def __post_init__(self) -> None:
        if self.mixer not in MIXERS:
            raise ValueError(f"DTConfig.mixer must be one of {', '.join(MIXERS)}, got {self.mixer!r}")
        if self.mixer == "graph" and self.stride != 2:
            raise ValueError("DTConfig.mixer='graph' runs on cells: it needs stride=2")
        if self.init not in ("kaiming", "torch"):
            raise ValueError(f"DTConfig.init must be 'kaiming' or 'torch', got {self.init!r}")
        for name in ("width", "n_blocks", "head_width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"DTConfig.{name} must be an int >= 1, got {value!r}")
        if self.stride not in (1, 2):
            raise ValueError(
                f"DTConfig.stride must be 1 (pixels) or 2 (cells), got {self.stride!r}"
            )
        if not self.state_bound >= 0:
            raise ValueError(f"DTConfig.state_bound must be >= 0, got {self.state_bound!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DTConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown DTConfig fields {sorted(unknown)}; known: {sorted(known)}")
        return cls(**data)


class BasicBlock(nn.Module):
    """``relu(x + conv(relu(conv(x))))``, 3x3 convs without bias (as in the DeepThinking nets)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


def open_sides(x: torch.Tensor) -> torch.Tensor:
    """Input grids ``(B, 3, 2R+1, 2C+1)`` -> ``(B, 4, R, C)``: 1 where the cell's side is open,
    in the order up, right, down, left (the wall channel's passage pixels)."""
    wall = x[:, 0]
    return 1.0 - torch.stack(
        [wall[:, 0:-1:2, 1::2], wall[:, 1::2, 2::2], wall[:, 2::2, 1::2], wall[:, 1::2, 0:-1:2]],
        dim=1,
    )


def neighbour_messages(h: torch.Tensor, sides: torch.Tensor) -> torch.Tensor:
    """``(B, w, R, C)`` states, ``(B, 4, R, C)`` open sides -> ``(B, 4, w, R, C)``: the state of
    the neighbour above, right, below and left of each cell, zero where that side is a wall."""
    up = F.pad(h, (0, 0, 1, 0))[:, :, :-1, :]  # cell (r, c) gets (r - 1, c)
    right = F.pad(h, (0, 1, 0, 0))[:, :, :, 1:]
    down = F.pad(h, (0, 0, 0, 1))[:, :, 1:, :]
    left = F.pad(h, (1, 0, 0, 0))[:, :, :, :-1]
    return torch.stack([up, right, down, left], dim=1) * sides[:, :, None]


class GraphStep(nn.Module):
    """One message-passing iteration on the cell lattice (``DTConfig.mixer == "graph"``).

    ``u = cat(h, e, sum_k m_k, max_k m_k)`` with ``m_k`` the open neighbours' states;
    ``cand = tanh(W2 relu(W1 u))``, ``z = sigmoid(Wz u)``, ``h <- h + z * (cand - h)``; all
    1x1 convs, so the cost of an iteration is a few matrix products per cell.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.mlp1 = nn.Conv2d(4 * width, 2 * width, 1)
        self.mlp2 = nn.Conv2d(2 * width, width, 1)
        self.gate = nn.Conv2d(4 * width, width, 1)

    def forward(self, h: torch.Tensor, e: torch.Tensor, sides: torch.Tensor) -> torch.Tensor:
        m = neighbour_messages(h, sides)
        u = torch.cat([h, e, m.sum(1), m.amax(1)], dim=1)
        cand = torch.tanh(self.mlp2(F.relu(self.mlp1(u))))
        z = torch.sigmoid(self.gate(u))
        return h + z * (cand - h)


class DTNet(nn.Module):
    """Projection, weight-tied recurrent block with recall, head (see the module docstring)."""

    def __init__(self, config: DTConfig) -> None:
        super().__init__()
        self.config = config
        w, s = config.width, config.stride
        self.project = nn.Conv2d(
            len(CHANNELS), w, 3, stride=s, padding=0 if s == 2 else 1, bias=False
        )
        self.graph = GraphStep(w) if config.mixer == "graph" else None
        conv = config.mixer == "conv"
        self.recall = nn.Conv2d(2 * w, w, 3, padding=1, bias=False) if conv else None
        self.blocks = nn.Sequential(*[BasicBlock(w) for _ in range(config.n_blocks if conv else 0)])
        self.gate = nn.Conv2d(2 * w, w, 3, padding=1) if (config.gate and conv) else None
        if s == 2:
            up = nn.ConvTranspose2d(w, config.head_width, 3, stride=2)
        else:
            up = nn.Conv2d(w, config.head_width, 3, padding=1)
        self.head = nn.Sequential(up, nn.ReLU(), nn.Conv2d(config.head_width, 1, 1))
        if config.init == "kaiming":
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            for b in self.blocks:
                nn.init.zeros_(b.conv2.weight)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Input grid ``(B, 3, H, W)`` float -> recall features ``(B, w, R, C)`` (or ``(B, w, H, W)``)."""
        if x.ndim != 4 or x.shape[1] != len(CHANNELS) or x.shape[2] % 2 == 0 or x.shape[3] % 2 == 0:
            raise ValueError(
                f"input must be (B, {len(CHANNELS)}, 2R+1, 2C+1) with channels {CHANNELS}, "
                f"got {tuple(x.shape)}"
            )
        return F.relu(self.project(x))

    def init_state(self, e: torch.Tensor) -> torch.Tensor:
        """The state before the first iteration: the recall features (conv), zeros (graph)."""
        return torch.zeros_like(e) if self.graph is not None else e

    def step(
        self, h: torch.Tensor, e: torch.Tensor, sides: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One iteration of the weight-tied block: ``(B, w, ., .)`` state -> next state.

        ``sides``: :func:`open_sides` of the input, needed by the graph mixer only.
        """
        if self.graph is not None:
            if sides is None:
                raise ValueError("the graph mixer's step needs the open sides (open_sides(x))")
            h = self.graph(h, e, sides)
            if self.config.state_bound > 0:
                h = h.clamp(-self.config.state_bound, self.config.state_bound)
            return h
        he = torch.cat([h, e], dim=1)
        new = self.blocks(F.relu(self.recall(he)))
        if self.gate is not None:
            z = torch.sigmoid(self.gate(he))
            new = h + z * (new - h)
        h = new
        if self.config.state_bound > 0:
            h = h.clamp(max=self.config.state_bound)
        return h

    def readout(self, h: torch.Tensor) -> torch.Tensor:
        """State -> per-pixel logits ``(B, H, W)`` of "on the shortest path"."""
        return self.head(h)[:, 0]

    def forward(
        self, x: torch.Tensor, n_iter: int, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run ``n_iter`` iterations from ``state`` (the projected input when ``None``).

        Args:
            x: ``(B, 3, 2R+1, 2C+1)`` float grids (channels :data:`CHANNELS`, 0/1).
            n_iter: iterations to run (>= 0).
            state: the state returned by an earlier call on the same ``x`` (to continue it).

        Returns:
            ``(logits, state)``: logits ``(B, 2R+1, 2C+1)``, state ``(B, w, R, C)``
            (``(B, w, 2R+1, 2C+1)`` with stride 1).
        """
        e = self.embed(x)
        sides = open_sides(x) if self.graph is not None else None
        h = self.init_state(e) if state is None else state
        for _ in range(check_n_iter(n_iter)):
            h = self.step(h, e, sides)
        return self.readout(h), h

    def iterate(self, x: torch.Tensor, at: Sequence[int]) -> Iterator[tuple[int, torch.Tensor]]:
        """Yield ``(i, logits after i iterations)`` for each ``i`` of ``at`` (sorted), in one run.

        This is how the curve "exact vs iterations" is measured without rerunning the net.
        """
        e = self.embed(x)
        sides = open_sides(x) if self.graph is not None else None
        h, done = self.init_state(e), 0
        for i in sorted(set(check_n_iter(a) for a in at)):
            for _ in range(i - done):
                h = self.step(h, e, sides)
            done = i
            yield i, self.readout(h)


def check_n_iter(n_iter: Any) -> int:
    """``n_iter`` as an int >= 0, or a ValueError naming it."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be an int >= 0, got {n_iter!r}")
    return int(n_iter)


def encode_grids(
    connections: np.ndarray,
    origins: np.ndarray,
    targets: np.ndarray,
    pad_to: tuple[int, int] | None = None,
) -> np.ndarray:
    """Mazes as network input, padded with walls to ``pad_to`` cells (bottom and right).

    Args:
        connections: ``bool[N, 2, R, C]`` (``MazeBatch.connections``).
        origins, targets: ``int[N, 2]`` cells.
        pad_to: ``(rows, cols)`` >= ``(R, C)``; ``None`` keeps ``(R, C)``.

    Returns:
        ``float32[N, 3, 2R'+1, 2C'+1]``: wall, origin, target channels (0/1), as the env's grid
        observation; padding pixels are walls, so a padded maze has the same open region.
    """
    conn = np.asarray(connections, dtype=bool)
    n, _, rows, cols = conn.shape
    pr, pc = pad_to or (rows, cols)
    if pr < rows or pc < cols:
        raise ValueError(f"pad_to {pad_to} is smaller than the mazes' shape {(rows, cols)}")
    out = np.zeros((n, 3, 2 * pr + 1, 2 * pc + 1), dtype=np.float32)
    wall = np.ones((n, 2 * pr + 1, 2 * pc + 1), dtype=bool)
    wall[:, 1 : 2 * rows : 2, 1 : 2 * cols : 2] = False
    wall[:, 2 : 2 * rows - 1 : 2, 1 : 2 * cols : 2] = ~conn[:, 0, :-1, :]
    wall[:, 1 : 2 * rows : 2, 2 : 2 * cols - 1 : 2] = ~conn[:, 1, :, :-1]
    out[:, 0] = wall
    idx = np.arange(n)
    o, t = np.asarray(origins, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    out[idx, 1, 2 * o[:, 0] + 1, 2 * o[:, 1] + 1] = 1
    out[idx, 2, 2 * t[:, 0] + 1, 2 * t[:, 1] + 1] = 1
    return out


def path_pixels(paths: np.ndarray, lengths: np.ndarray, grid_shape: tuple[int, int]) -> np.ndarray:
    """Target masks: the cells of each path and the passages between consecutive cells.

    Args:
        paths: ``int[N, L, 2]`` cells (``maze_env.solve.batch_shortest_path_arrays``).
        lengths: ``int[N]`` cells on each path (>= 1).
        grid_shape: ``(H, W)`` pixels of the output.

    Returns:
        ``bool[N, H, W]``.
    """
    n = len(lengths)
    out = np.zeros((n, *grid_shape), dtype=bool)
    for i in range(n):
        p = 2 * paths[i, : lengths[i]].astype(np.int64) + 1  # cell pixels
        out[i, p[:, 0], p[:, 1]] = True
        mid = (p[1:] + p[:-1]) // 2  # passage pixels
        out[i, mid[:, 0], mid[:, 1]] = True
    return out
