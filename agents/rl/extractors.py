"""SB3 feature extractors for the maze env's observations.

All grid extractors read ``MultiBinary([C, 2R+1, 2C+1])`` observations (channels ``wall``,
``agent``, ``target``, then optionally ``visited`` and ``mask``; see :class:`maze_env.MazeEnv`).
The size-independent ones first turn the pixel grid into a cell graph (:func:`cell_features`):
per cell its own channels plus four ``open`` bits (a passage up / right / down / left), and then
only ever apply per-cell weights and wall-gated messages between neighbouring cells, so the same
weights run on any maze size.

* :class:`MazeCNN` (``"cnn"``): a small CNN for one grid size (3x3 mazes and up); not
  size-independent (it flattens).
* :class:`MazeFCN` (``"fcn"``): a fully convolutional stack over the cell graph (a fixed number
  of wall-gated message-passing layers), read out at the agent's cell, its four neighbours and the
  target's cell. Size-independent; its receptive field is ``layers`` cells.
* :class:`MazeDeepThink` (``"deepthink"``): recurrent in depth (after Schwarzschild et al. 2021 /
  Bansal et al. 2022): one weight-tied, gated message-passing block iterated ``iterations`` times
  with the input re-injected at every iteration ("recall"); raise ``iterations`` at test time for
  larger mazes. Same read-out as the FCN.
* :class:`MazeVIN` (``"vin"``): a value-iteration network on the cell graph (after Tamar et al.
  2016), in max-plus form: a learned reward map ``r`` and a learned per-cell move cost ``k``
  (both 1x1 convolutions of the cell features), then ``v <- max(r, max_a open_a * (v[nb_a] - k))``
  iterated; it reads ``v`` at the agent's neighbours relative to the agent. Size-independent,
  iterations default to the number of cells (enough for any path).
* :class:`MazeTokenTransformer` (``"transformer"``): a small transformer encoder over the
  ``"tokens"`` observation (``Box`` of token ids), mean- and last-token pooled.

Every extractor's ``features_dim`` is fixed by its arguments (never by the maze size, except the
CNN), and ``size_independent`` says whether a trained policy may run on other sizes.
Cell-graph extractors also set ``directional = (D, G)``: their features are four blocks of ``D``
(one per move: what lies that way) then ``G`` shared ones, so
:class:`agents.rl.policies.MazePolicy` can score the four moves with one shared head (the same
weights for every direction, an equivariance that plain linear heads must learn).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
import torch.nn.functional as F
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

__all__ = [
    "EXTRACTORS",
    "MazeCNN",
    "MazeDeepThink",
    "MazeFCN",
    "MazeTokenTransformer",
    "MazeVIN",
    "cell_features",
    "get_extractor",
    "neighbours",
]


# ------------------------------------------------------------------------------------------------
# the cell graph
# ------------------------------------------------------------------------------------------------
def _check_grid_space(space: gym.Space, who: str) -> tuple[int, int, int]:
    shape = getattr(space, "shape", None)
    if (
        not isinstance(space, (gym.spaces.MultiBinary, gym.spaces.Box))
        or shape is None
        or len(shape) != 3
    ):
        raise ValueError(
            f"{who} needs the grid observation (MultiBinary([C, 2R+1, 2C+1]), obs_mode='grid'), "
            f"got {space}"
        )
    c, h, w = shape
    if h < 3 or w < 3 or h % 2 == 0 or w % 2 == 0 or c < 3:
        raise ValueError(
            f"{who}: grid observation shape {tuple(shape)} is not [C>=3, 2R+1, 2C+1] with R, C >= 1"
        )
    return int(c), int(h), int(w)


def cell_features(obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The cell graph of grid observations.

    Args:
        obs: ``float[B, C, 2R+1, 2C'+1]`` grid observations (channel 0 = walls).

    Returns:
        ``(x, open)``: ``x`` is ``float[B, C + 4, R, C']`` = each cell's channels (channel 0 is
        now "the cell is outside the maze") followed by its four open bits; ``open`` is
        ``float[B, 4, R, C']``: 1 where a move up / right / down / left leaves the cell.
    """
    wall = obs[:, 0]
    cells = obs[:, :, 1::2, 1::2]
    hw = wall[:, 0::2, 1::2]  # [B, R+1, C']: the wall pixel above each cell (and below the last)
    vw = wall[:, 1::2, 0::2]  # [B, R, C'+1]: the wall pixel left of each cell
    inside = 1.0 - cells[:, 0]
    opened = (
        torch.stack(
            [1.0 - hw[:, :-1], 1.0 - vw[:, :, 1:], 1.0 - hw[:, 1:], 1.0 - vw[:, :, :-1]], dim=1
        )
        * inside[:, None]
    )
    return torch.cat([cells, opened], dim=1), opened


def neighbours(h: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """``h[b, f, r, c]`` of the four neighbours of every cell: ``float[B, 4, F, R, C]``.

    Index 0..3 = up, right, down, left (action order); ``fill`` outside the grid.
    """
    p = F.pad(h, (1, 1, 1, 1), value=fill)
    return torch.stack(
        [p[:, :, :-2, 1:-1], p[:, :, 1:-1, 2:], p[:, :, 2:, 1:-1], p[:, :, 1:-1, :-2]], dim=1
    )


def _at(h: torch.Tensor, flat: torch.Tensor) -> torch.Tensor:
    """``h[b, :, cell_b]`` for flat cell indices ``flat: long[B]``: ``float[B, F]``."""
    b, f = h.shape[:2]
    return h.reshape(b, f, -1).gather(2, flat.view(b, 1, 1).expand(b, f, 1)).squeeze(2)


def _cell_of(channel: torch.Tensor) -> torch.Tensor:
    """Flat index of the (first) set cell of ``channel: float[B, R, C]``: ``long[B]``."""
    return channel.flatten(1).argmax(dim=1)


class _CellGraphReadout(nn.Module):
    """Features of a cell-graph state ``h: float[B, F, R, C]`` at the agent and the target.

    Output ``float[B, 4 (F + 1) + 2F]`` in the *directional layout* (see :data:`DIRECTIONAL`):
    for each direction up / right / down / left, ``h`` at the agent's neighbour (zero behind a
    wall) and the open bit; then ``h`` at the agent and at the target.
    """

    def forward(self, h: torch.Tensor, x: torch.Tensor, opened: torch.Tensor) -> torch.Tensor:  # noqa: D102
        agent = _cell_of(x[:, 1])
        target = _cell_of(x[:, 2])
        nb = neighbours(h) * opened[:, :, None]  # [B, 4, F, R, C]
        b, _, f, r, c = nb.shape
        nb_at = _at(nb.reshape(b, 4 * f, r, c), agent).view(b, 4, f)
        dirs = torch.cat([nb_at, _at(opened, agent).view(b, 4, 1)], dim=2)  # [B, 4, F+1]
        return torch.cat([dirs.flatten(1), _at(h, agent), _at(h, target)], dim=1)


# ------------------------------------------------------------------------------------------------
# extractors
# ------------------------------------------------------------------------------------------------
class MazeCNN(BaseFeaturesExtractor):
    """A small CNN for grid observations of one size (3x3 mazes and up).

    Two 3x3 convolutions (padding 1, so any grid of at least 7x7 pixels works), flattened, then a
    linear layer to ``features_dim``. Input ``[B, C, H, W]``, output ``float[B, features_dim]``.

    Args:
        observation_space: the grid observation space.
        channels: widths of the two convolutions.
        features_dim: output width.
    """

    size_independent = False

    def __init__(
        self,
        observation_space: gym.Space,
        channels: tuple[int, int] | list[int] = (16, 32),
        features_dim: int = 128,
    ) -> None:
        c, h, w = _check_grid_space(observation_space, "MazeCNN")
        super().__init__(observation_space, features_dim)
        c1, c2 = (int(v) for v in channels)
        self.convs = nn.Sequential(
            nn.Conv2d(c, c1, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1, stride=2), nn.ReLU(),
            nn.Flatten(),
        )  # fmt: skip
        with torch.no_grad():
            n = self.convs(torch.zeros(1, c, h, w)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.linear(self.convs(observations.float()))


class MazeFCN(BaseFeaturesExtractor):
    """Size-independent: ``layers`` wall-gated message-passing layers over the cell graph.

    Each layer: ``h <- relu(W [h, open_a * h[nb_a] for a in 4 directions, x])`` (1x1
    convolutions; a message crosses only where there is a passage). Read-out: see
    :class:`_CellGraphReadout` (``features_dim = 6 * width + 4``).

    Args:
        observation_space: the grid observation space (any size).
        width: channels per cell.
        layers: message-passing layers (the receptive field in cells).
    """

    size_independent = True

    def __init__(self, observation_space: gym.Space, width: int = 32, layers: int = 6) -> None:
        c, _, _ = _check_grid_space(observation_space, "MazeFCN")
        super().__init__(observation_space, 6 * width + 4)
        self.directional = (width + 1, 2 * width)
        cin = c + 4
        self.inp = nn.Conv2d(cin, width, 1)
        self.layers = nn.ModuleList(nn.Conv2d(5 * width + cin, width, 1) for _ in range(layers))
        self.readout = _CellGraphReadout()

    def forward(self, observations: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x, opened = cell_features(observations.float())
        h = F.relu(self.inp(x))
        for layer in self.layers:
            b, f, r, c = h.shape
            m = (neighbours(h) * opened[:, :, None]).reshape(b, 4 * f, r, c)
            h = F.relu(layer(torch.cat([h, m, x], dim=1)))
        return self.readout(h, x, opened)


class MazeDeepThink(BaseFeaturesExtractor):
    """Recurrent in depth: one weight-tied gated message-passing block iterated.

    ``h <- (1 - z) * h + z * tanh(W [h, msgs, x])`` with ``z = sigmoid(U [h, msgs, x])`` and
    ``msgs = (open_a * h[nb_a])_a`` (a GRU-style update, so extra iterations at test time settle
    rather than blow up), with the input ``x`` re-injected every iteration (recall).

    Args:
        observation_space: the grid observation space (any size).
        width: channels per cell.
        iterations: block iterations during training; ``None``: ``R + C`` of the observation.
            Set :attr:`test_iterations` (or the agent's ``iterations=``) to run more.
    """

    size_independent = True

    def __init__(
        self, observation_space: gym.Space, width: int = 24, iterations: int | None = 12
    ) -> None:
        c, _, _ = _check_grid_space(observation_space, "MazeDeepThink")
        super().__init__(observation_space, 6 * width + 4)
        if iterations is not None and (int(iterations) != iterations or iterations < 1):
            raise ValueError(f"iterations must be a positive int or None, got {iterations!r}")
        self.directional = (width + 1, 2 * width)
        cin = c + 4
        self.iterations = iterations
        self.test_iterations: int | None = None
        """Iterations to run instead of ``iterations`` (set by the agent for larger mazes)."""
        self.inp = nn.Conv2d(cin, width, 1)
        self.block = nn.Conv2d(5 * width + cin, 2 * width, 1)
        self.readout = _CellGraphReadout()

    def n_iterations(self, rows: int, cols: int) -> int:
        """Iterations used on an ``rows x cols`` maze."""
        if self.test_iterations is not None:
            return int(self.test_iterations)
        return int(self.iterations) if self.iterations is not None else rows + cols

    def forward(self, observations: torch.Tensor) -> torch.Tensor:  # noqa: D102
        x, opened = cell_features(observations.float())
        h = torch.tanh(self.inp(x))
        b, f, r, c = h.shape
        gate = opened[:, :, None]
        for _ in range(self.n_iterations(r, c)):
            m = (neighbours(h) * gate).reshape(b, 4 * f, r, c)
            cand, z = self.block(torch.cat([h, m, x], dim=1)).chunk(2, dim=1)
            z = torch.sigmoid(z)
            h = (1 - z) * h + z * torch.tanh(cand)
        return self.readout(h, x, opened)


class MazeVIN(BaseFeaturesExtractor):
    """A value-iteration network on the cell graph, max-plus form; size-independent.

    ``r = conv1x1(x)`` (reward map), ``k = softplus(conv1x1(x))`` (cost of leaving a cell), then
    ``v_0 = r`` and ``v <- max(r, max_a [open_a] (v[nb_a] - k))`` for ``iterations`` rounds. A cell
    ``d`` moves from the cell of largest ``r`` ends with ``v = r* - k d`` once trained, so the
    differences ``v[nb_a] - v`` at the agent point along the shortest path at any distance.

    Output ``float[B, 11]`` (directional layout): for each direction ``(v[nb_a] - v, open_a)`` at
    the agent (0 behind a wall), then ``v`` and ``r`` at the agent and the maze's largest ``r``
    minus the agent's ``v`` (a distance estimate for the value head).

    Args:
        observation_space: the grid observation space (any size).
        iterations: value-iteration rounds; ``None``: the number of cells (enough for every path).
        reward_mode: ``"learned"`` or ``"peak"`` (see :attr:`reward_mode`).
    """

    size_independent = True
    _NEG = -1.0e4

    def __init__(
        self,
        observation_space: gym.Space,
        iterations: int | None = None,
        reward_mode: str = "learned",
    ) -> None:
        c, _, _ = _check_grid_space(observation_space, "MazeVIN")
        if reward_mode not in ("learned", "peak"):
            raise ValueError(f"reward_mode must be 'learned' or 'peak', got {reward_mode!r}")
        super().__init__(observation_space, 11)
        self.directional = (2, 3)
        if iterations is not None and (int(iterations) != iterations or iterations < 1):
            raise ValueError(f"iterations must be a positive int or None, got {iterations!r}")
        self.iterations = iterations
        self.test_iterations: int | None = None
        self.reward_mode = reward_mode
        """``"learned"``: ``v <- max(r, ...)`` with the learned reward map as the floor;
        ``"peak"`` (a test-time choice on a policy trained with ``"learned"``, or built in from
        training with ``extractor_kwargs: {reward_mode: peak}``): only the maze's highest-reward cell (the target,
        once trained) keeps its reward, every other cell's floor is -inf, so values keep falling
        by ``k`` a move at any distance instead of flattening onto the floor where
        ``r* - k d < r`` (what limits a policy trained on small mazes on large ones)."""
        cin = c + 4
        self.reward = nn.Conv2d(cin, 1, 1)
        self.cost = nn.Conv2d(cin, 1, 1)
        with torch.no_grad():  # start with a low reward floor, so values propagate from the start
            self.reward.bias.fill_(-10.0)
            self.cost.bias.fill_(0.5413)  # softplus(0.5413) = 1

    def n_iterations(self, rows: int, cols: int) -> int:
        """Iterations used on an ``rows x cols`` maze."""
        if self.test_iterations is not None:
            return int(self.test_iterations)
        return int(self.iterations) if self.iterations is not None else rows * cols

    def maps(
        self, observations: torch.Tensor, reward_hook: Any = None
    ) -> tuple[torch.Tensor, ...]:
        """``(floor, k, closed, r, x, opened)``: what value iteration runs on. ``r`` is the reward
        map ``float[B, 1, R, C]`` (``reward_hook(r)`` when given: an edit of it), ``floor`` the
        values' floor under :attr:`reward_mode`, ``k`` the cost of leaving each cell, ``closed`` the walls
        (``opened < 0.5``); ``x, opened`` from :func:`cell_features`."""
        x, opened = cell_features(observations.float())
        r = self.reward(x)
        if reward_hook is not None:
            r = reward_hook(r)
        k = F.softplus(self.cost(x))
        floor = r
        if self.reward_mode == "peak":
            peak = r.flatten(1).amax(dim=1)[:, None, None, None]
            floor = torch.where(r >= peak, r, torch.full_like(r, self._NEG))
        return floor, k, opened < 0.5, r, x, opened

    def step(
        self, v: torch.Tensor, floor: torch.Tensor, k: torch.Tensor, closed: torch.Tensor
    ) -> torch.Tensor:
        """One max-plus round: ``max(floor, max_a [open_a] (v[nb_a] - k))``, ``float[B, 1, R, C]``."""
        nb = neighbours(v, fill=self._NEG)[:, :, 0].masked_fill(closed, self._NEG)  # [B, 4, R, C]
        return torch.maximum(floor, nb.amax(dim=1, keepdim=True) - k)

    def values(self, observations: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``(v, r, x, opened)``: the value map ``float[B, 1, R, C]`` and its inputs."""
        floor, k, closed, r, x, opened = self.maps(observations)
        _, _, rows, cols = r.shape
        if not torch.is_grad_enabled() and self.n_iterations(rows, cols) >= rows * cols:
            # inference with enough iterations for any path: the fixed point directly
            from agents.rl._vin_kernel import maxplus_fixed_point

            v = maxplus_fixed_point(floor[:, 0].numpy(), k[:, 0].numpy(), (opened > 0.5).numpy())
            return torch.from_numpy(v)[:, None], r, x, opened
        v = floor
        for i in range(self.n_iterations(rows, cols)):
            new = self.step(v, floor, k, closed)
            # a max-plus fixed point stays put: stopping there changes nothing (no gradient
            # needed through the check: it compares values only)
            if i % 8 == 7 and not torch.is_grad_enabled() and torch.equal(new, v):
                break
            v = new
        return v, r, x, opened

    def forward(self, observations: torch.Tensor) -> torch.Tensor:  # noqa: D102
        v, r, x, opened = self.values(observations)
        agent = _cell_of(x[:, 1])
        v_agent = _at(v, agent)  # [B, 1]
        nb = neighbours(v)[:, :, 0]  # [B, 4, R, C]
        diff = (_at(nb, agent) - v_agent) * _at(opened, agent)
        top = r.flatten(1).amax(dim=1, keepdim=True)
        dirs = torch.stack([diff, _at(opened, agent)], dim=2)  # [B, 4, 2]
        return torch.cat([dirs.flatten(1), v_agent, _at(r, agent), top - v_agent], dim=1)


class MazeTokenTransformer(BaseFeaturesExtractor):
    """A small transformer encoder over the ``"tokens"`` observation (``int[T]`` token ids).

    Embedding + learned positions, ``layers`` pre-norm encoder layers (padding masked), then the
    mean over real tokens and the last real token (the agent's current cell) concatenated:
    ``features_dim = 2 * d_model``.

    Args:
        observation_space: ``Box(0, V-1, [T])`` (``obs_mode="tokens"``).
        d_model, heads, layers: transformer sizes.
        pad_id: the padding token id (default: the space's largest id, the vocabulary's padding).
    """

    size_independent = False

    def __init__(
        self,
        observation_space: gym.Space,
        d_model: int = 64,
        heads: int = 4,
        layers: int = 2,
        pad_id: int | None = None,
    ) -> None:
        shape = getattr(observation_space, "shape", None)
        if not isinstance(observation_space, gym.spaces.Box) or shape is None or len(shape) != 1:
            raise ValueError(
                f"MazeTokenTransformer needs the tokens observation (obs_mode='tokens'), got {observation_space}"
            )
        super().__init__(observation_space, 2 * d_model)
        vocab = int(observation_space.high.max()) + 1
        self.pad_id = vocab - 1 if pad_id is None else int(pad_id)
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(1, int(shape[0]), d_model))
        layer = nn.TransformerEncoderLayer(
            d_model, heads, 2 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, observations: torch.Tensor) -> torch.Tensor:  # noqa: D102
        ids = observations.long()
        pad = ids == self.pad_id
        h = self.encoder(self.embed(ids) + self.pos, src_key_padding_mask=pad)
        keep = (~pad).float().unsqueeze(-1)
        mean = (h * keep).sum(1) / keep.sum(1).clamp(min=1)
        last = (~pad).long().sum(1).clamp(min=1) - 1
        return torch.cat([mean, h[torch.arange(len(h)), last]], dim=1)


EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {
    "cnn": MazeCNN,
    "fcn": MazeFCN,
    "deepthink": MazeDeepThink,
    "vin": MazeVIN,
    "transformer": MazeTokenTransformer,
}
"""Extractors by name (``"mlp"`` means SB3's own flatten, see :func:`agents.rl.policies.maze_policy_kwargs`)."""


def get_extractor(name: str) -> type[BaseFeaturesExtractor]:
    """The extractor class called ``name``; ``ValueError`` listing the known names."""
    if name not in EXTRACTORS:
        raise ValueError(f"unknown extractor {name!r}; known: {', '.join(['mlp', *EXTRACTORS])}")
    return EXTRACTORS[name]


def extractor_kwargs_ok(name: str, kwargs: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming unknown keyword arguments of extractor ``name``."""
    import inspect

    params = set(inspect.signature(get_extractor(name).__init__).parameters) - {
        "self",
        "observation_space",
    }
    bad = sorted(set(kwargs) - params)
    if bad:
        raise ValueError(f"extractor {name!r} has no argument(s) {bad}; known: {sorted(params)}")
