"""A GPT-style decoder-only transformer (nanoGPT's reading order, typed), with a KV cache and hooks.

``GPT(config).forward(idx, targets=None) -> (logits, loss)``; ``forward_cached(idx, cache)`` for
incremental decoding (the :class:`KVCache` is passed in and a longer one returned);
``run_with_cache(idx)`` also returns the residual stream after every layer and every attention
pattern, computed beside the forward pass so the logits are exactly those of ``forward``.

Pre-LayerNorm blocks, causal ``F.scaled_dot_product_attention``, GELU MLP, weight tying,
positional encoding ``learned`` (absolute), ``rotary`` (RoPE on queries and keys, Su et al. 2021)
or ``none`` (the causal mask alone; Haviv et al. 2022).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

POSITIONAL = ("learned", "rotary", "none")


@dataclass
class GPTConfig:
    """Shape of the model.

    Attributes:
        vocab_size: number of token ids (the tokenizer's ``len(vocab)``).
        n_ctx: longest sequence (prompt and path) in tokens.
        n_layer: transformer blocks.
        n_head: attention heads per block; must divide ``d_model``.
        d_model: width of the residual stream.
        d_mlp: hidden width of each MLP (``None``: ``4 * d_model``).
        dropout: dropout on attention weights and residual branches during training.
        pos: positional encoding, one of ``learned``, ``rotary``, ``none``.
        bias: biases in linear layers and LayerNorms.
    """

    vocab_size: int
    n_ctx: int = 128
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    d_mlp: int | None = None
    dropout: float = 0.0
    pos: str = "learned"
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_ctx", "n_layer", "n_head", "d_model"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig.{name} must be a positive int, got {value!r}")
        if self.d_model % self.n_head:
            raise ValueError(
                f"n_head={self.n_head} does not divide d_model={self.d_model}; choose n_head among "
                f"{[h for h in range(1, self.d_model + 1) if self.d_model % h == 0][:12]}"
            )
        if self.pos not in POSITIONAL:
            raise ValueError(f"pos must be one of {POSITIONAL}, got {self.pos!r}")
        if self.pos == "rotary" and (self.d_model // self.n_head) % 2:
            raise ValueError(
                f"rotary needs an even head width, got d_model/n_head={self.d_model // self.n_head}"
            )
        if self.d_mlp is None:
            self.d_mlp = 4 * self.d_model
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class KVCache:
    """Keys and values of the tokens seen so far, one ``(B, H, T, D)`` pair per layer."""

    keys: list[torch.Tensor] = field(default_factory=list)
    values: list[torch.Tensor] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Tokens held (``T``)."""
        return self.keys[0].shape[2] if self.keys else 0

    def select(self, rows: torch.Tensor) -> KVCache:
        """The cache of batch rows ``rows`` (``int64[B']``, repeats allowed: beams)."""
        return KVCache([k[rows] for k in self.keys], [v[rows] for v in self.values])


@dataclass
class Activations:
    """What :meth:`GPT.run_with_cache` records.

    Attributes:
        resid: ``n_layer + 1`` tensors ``(B, T, d_model)``: the embedding, then the residual
            stream after each block.
        attn: ``n_layer`` tensors ``(B, n_head, T, T_total)``: attention probabilities.
    """

    resid: list[torch.Tensor] = field(default_factory=list)
    attn: list[torch.Tensor] = field(default_factory=list)


def _rotary(x: torch.Tensor, start: int) -> torch.Tensor:
    """Rotate pairs of channels of ``x`` ``(B, H, T, D)`` by angles of positions ``start..``."""
    d = x.shape[-1]
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))
    t = torch.arange(start, start + x.shape[2], device=x.device, dtype=torch.float32)
    ang = torch.outer(t, inv)  # (T, D/2)
    cos, sin = ang.cos().to(x.dtype), ang.sin().to(x.dtype)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.rotary = config.n_head, config.pos == "rotary"
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)
        self.c_proj = nn.Linear(config.d_model, config.d_model, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
        record: list[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        start = 0 if past is None else past[0].shape[2]
        if self.rotary:
            q, k = _rotary(q, start), _rotary(k, start)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)  # (B, H, S, D)
        S = k.shape[2]
        # query t (absolute position start + t) sees keys 0..start + t
        mask = (
            None if start == 0 else torch.ones(T, S, dtype=torch.bool, device=x.device).tril(start)
        )
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=drop, is_causal=mask is None and T > 1
        )
        if record is not None:  # the same probabilities, computed beside the fused kernel
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, T, S)
            allowed = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(start)
            record.append(scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1))
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y)), (k, v)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.d_mlp is not None
        self.c_fc = nn.Linear(config.d_model, config.d_mlp, bias=config.bias)
        self.c_proj = nn.Linear(config.d_mlp, config.d_model, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model, bias=config.bias)
        self.mlp = MLP(config)

    def forward(
        self,
        x: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
        record: list[torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln_1(x), past, record)
        x = x + a
        return x + self.mlp(self.ln_2(x)), kv


class GPT(nn.Module):
    """Decoder-only transformer over token ids; see the module docstring."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.d_model)
        self.wpe = nn.Embedding(config.n_ctx, config.d_model) if config.pos == "learned" else None
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.d_model, bias=config.bias)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying (Press & Wolf, 2017)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():  # GPT-2: scale residual projections by depth
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def n_params(self) -> int:
        """Parameters, counting the tied embedding once."""
        return sum(p.numel() for p in self.parameters())

    def _check(self, idx: torch.Tensor, start: int) -> None:
        if idx.dim() != 2:
            raise ValueError(f"idx must be int64 (B, T), got shape {tuple(idx.shape)}")
        T = idx.shape[1]
        if start + T > self.config.n_ctx:
            raise ValueError(
                f"sequence of {start + T} tokens ({start} cached + {T} new) is longer than the "
                f"model's context n_ctx={self.config.n_ctx}"
            )
        if torch.compiler.is_compiling():
            return  # the id check reads tensor values: a graph break under torch.compile
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.config.vocab_size):
            bad = int(idx.max()) if int(idx.max()) >= self.config.vocab_size else int(idx.min())
            raise ValueError(
                f"token id {bad} is outside the vocabulary (0..{self.config.vocab_size - 1})"
            )

    def _run(
        self, idx: torch.Tensor, cache: KVCache | None, acts: Activations | None
    ) -> tuple[torch.Tensor, KVCache]:
        start = cache.length if cache is not None else 0
        self._check(idx, start)
        x = self.wte(idx)  # (B, T, C)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(start, start + idx.shape[1], device=idx.device))
        x = self.drop(x)
        if acts is not None:
            acts.resid.append(x)
        new = KVCache()
        for i, block in enumerate(self.blocks):
            past = (cache.keys[i], cache.values[i]) if cache is not None and cache.keys else None
            x, (k, v) = block(x, past, acts.attn if acts is not None else None)
            new.keys.append(k)
            new.values.append(v)
            if acts is not None:
                acts.resid.append(x)
        return self.ln_f(x), new

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits ``(B, T, vocab)`` and, given ``targets`` ``(B, T)`` (``-1`` = no loss there),
        the mean cross-entropy over the supervised positions."""
        x, _ = self._run(idx, None, None)
        logits = self.lm_head(x)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.view(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1
            )
        return logits, loss

    def forward_cached(
        self, idx: torch.Tensor, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, KVCache]:
        """Logits ``(B, T, vocab)`` of ``idx`` following the cached tokens, and the longer cache."""
        x, new = self._run(idx, cache, None)
        return self.lm_head(x), new

    def run_with_cache(self, idx: torch.Tensor) -> tuple[torch.Tensor, Activations]:
        """Logits (identical to :meth:`forward`'s) and the residual stream and attention patterns."""
        acts = Activations()
        x, _ = self._run(idx, None, acts)
        return self.lm_head(x), acts
