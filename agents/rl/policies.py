"""Ready SB3 policies for the maze env's grid observation.

SB3's ``CnnPolicy`` refuses the grid observation (``MultiBinary([C, 2R+1, 2C+1])``; its NatureCNN
wants a uint8 image of at least 36x36). Use one of these instead::

    from stable_baselines3 import PPO
    from agents.rl.policies import MazeCnnPolicy, maze_policy_kwargs

    PPO(MazeCnnPolicy, env)                                           # a CNN for one maze size
    PPO("MlpPolicy", env, policy_kwargs=maze_policy_kwargs("vin"))    # size-independent planner
    PPO("MlpPolicy", env, policy_kwargs=maze_policy_kwargs("deepthink", iterations=16))

``maze_policy_kwargs`` works for every SB3/sb3-contrib policy that takes a features extractor
(PPO/A2C ``MlpPolicy``, DQN ``MlpPolicy``, RecurrentPPO ``MlpLstmPolicy``).
"""

from __future__ import annotations

from typing import Any

import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from agents.rl.extractors import MazeCNN, extractor_kwargs_ok, get_extractor

__all__ = [
    "DEFAULT_NET_ARCH",
    "DirectionalHead",
    "MazeCnnPolicy",
    "MazePolicy",
    "maze_policy_kwargs",
]

DEFAULT_NET_ARCH: dict[str, Any] = {
    "cnn": {"pi": [64], "vf": [64]},
    "fcn": {"pi": [], "vf": [64]},
    "deepthink": {"pi": [], "vf": [64]},
    "vin": {"pi": [], "vf": [32]},
    "transformer": {"pi": [64], "vf": [64]},
    "mlp": {"pi": [64, 64], "vf": [64, 64]},
}
"""Heads on top of each extractor (SB3 ``net_arch``) when none is given."""


def maze_policy_kwargs(
    extractor: str = "cnn", net_arch: Any = None, algo: str = "ppo", **extractor_kwargs: Any
) -> dict[str, Any]:
    """``policy_kwargs`` for a maze extractor (``"cnn"``, ``"fcn"``, ``"deepthink"``, ``"vin"``,
    ``"transformer"``; ``"mlp"``: SB3's own flatten).

    Args:
        extractor: extractor name (:data:`agents.rl.extractors.EXTRACTORS`).
        net_arch: SB3 ``net_arch``; default :data:`DEFAULT_NET_ARCH` (a list for DQN).
        algo: ``"ppo"``, ``"rppo"`` or ``"dqn"`` (DQN takes a list ``net_arch``).
        **extractor_kwargs: the extractor's arguments (checked).
    """
    arch = DEFAULT_NET_ARCH.get(extractor) if net_arch is None else net_arch
    if algo == "dqn" and isinstance(arch, dict):
        arch = list(arch.get("pi", []))
    if extractor == "mlp":
        if extractor_kwargs:
            raise ValueError(f"extractor 'mlp' takes no arguments, got {sorted(extractor_kwargs)}")
        return {"net_arch": arch}
    cls = get_extractor(extractor)
    extractor_kwargs_ok(extractor, extractor_kwargs)
    out: dict[str, Any] = {
        "features_extractor_class": cls,
        "features_extractor_kwargs": dict(extractor_kwargs),
        "net_arch": arch,
    }
    return out


def maze_policy(extractor: str, algo: str = "ppo") -> Any:
    """The policy to pass to the algorithm: :class:`MazePolicy` for PPO with a cell-graph
    extractor (a shared directional head), else ``"MlpPolicy"`` / ``"MlpLstmPolicy"``."""
    if algo == "rppo":
        return "MlpLstmPolicy"
    if algo == "ppo" and extractor in ("fcn", "deepthink", "vin"):
        return MazePolicy
    return "MlpPolicy"


class MazeCnnPolicy(ActorCriticPolicy):
    """SB3's actor-critic policy with :class:`~agents.rl.extractors.MazeCNN` as its default
    extractor: ``PPO(MazeCnnPolicy, env)`` where ``CnnPolicy`` would fail on the grid."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("features_extractor_class", MazeCNN)
        kwargs.setdefault("net_arch", DEFAULT_NET_ARCH["cnn"])
        super().__init__(*args, **kwargs)


class DirectionalHead(nn.Module):
    """Scores the four moves with one shared MLP: ``logit_a = mlp([block_a, shared])``.

    Input ``float[B, 4 D + G]`` (an extractor's directional layout), output ``float[B, 4]``.
    """

    def __init__(self, d: int, g: int, hidden: int = 32) -> None:
        super().__init__()
        self.d, self.g = int(d), int(g)
        self.mlp = nn.Sequential(
            nn.Linear(self.d + self.g, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:  # noqa: D102
        b = latent.shape[0]
        dirs = latent[:, : 4 * self.d].view(b, 4, self.d)
        shared = latent[:, 4 * self.d :].unsqueeze(1).expand(b, 4, self.g)
        return self.mlp(torch.cat([dirs, shared], dim=2)).squeeze(2)


class MazePolicy(ActorCriticPolicy):
    """SB3's actor-critic policy whose action head is a :class:`DirectionalHead` when the
    extractor has a directional layout (``fcn``, ``deepthink``, ``vin``): the same weights score
    every direction, so "which neighbour is closer to the target" is learned once, not four times.
    ``net_arch["pi"]`` must be empty (the head reads the features directly)."""

    def __init__(self, *args: Any, head_hidden: int = 32, **kwargs: Any) -> None:
        self.head_hidden = int(head_hidden)
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        layout = getattr(self.features_extractor, "directional", None)
        if layout is None:
            return
        if self.mlp_extractor.latent_dim_pi != self.features_dim:
            raise ValueError(
                "MazePolicy's directional head reads the features directly: give net_arch "
                "with pi=[] (e.g. {'pi': [], 'vf': [64]})"
            )
        self.action_net = DirectionalHead(*layout, hidden=self.head_hidden)
        self.optimizer = self.optimizer_class(
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["head_hidden"] = self.head_hidden
        return data
