"""A GPT-style decoder-only transformer (nanoGPT's reading order, typed), with a KV cache and hooks.

``GPT(config).forward(idx, targets=None) -> (logits, loss)``; ``forward_cached(idx, cache)`` for
incremental decoding (the :class:`KVCache` is passed in and a longer one returned);
``run_with_cache(idx)`` also returns the residual stream after every layer and every attention
pattern, computed beside the forward pass so the logits are exactly those of ``forward``.

Pre-LayerNorm blocks, causal ``F.scaled_dot_product_attention``, GELU MLP, weight tying,
positional encoding ``learned`` (absolute), ``rotary`` (RoPE on queries and keys, Su et al. 2021),
``none`` (the causal mask alone; Haviv et al. 2022) or ``grid`` (2-D RoPE over maze coordinates,
for the raster token schemes: half of each head rotates by the row of the cell a token is about,
half by its column, so attention scores depend on the offset between two cells, not on where
they sit in the sequence or how wide the maze is). ``prefix_id`` turns on a prefix LM: the prompt
(up to and including that token, e.g. ``<PATH_START>``) attends both ways, the path causally.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F

POSITIONAL = ("learned", "rotary", "none", "grid")
GRID_ROPE_BASE = 100.0
"""RoPE base of ``pos="grid"`` (maze coordinates are small: a base of 100 spreads the
frequencies over 1 .. 0.02 radians per cell)."""


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
        pos: positional encoding, one of ``learned``, ``rotary``, ``none``, ``grid``.
        bias: biases in linear layers and LayerNorms.
        grid: for ``pos="grid"``: the raster vocabulary's ``{"max_shape": [R, C], "path":
            "cells" | "moves"}`` (its id layout is fixed by :mod:`maze_env.tokens.grid`).
        prefix_id: the id closing the prompt (``<PATH_START>``): the prompt attends both ways
            (prefix LM). ``None``: causal everywhere. A cached decode must feed the whole prompt
            in its first call.
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
    grid: dict | None = None
    prefix_id: int | None = None

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
        if self.pos == "grid":
            if (self.d_model // self.n_head) % 4:
                raise ValueError(
                    "pos='grid' needs a head width divisible by 4 (row and column halves), got "
                    f"d_model/n_head={self.d_model // self.n_head}"
                )
            g = self.grid or {}
            if g.get("path") not in ("cells", "moves") or len(g.get("max_shape", ())) != 2:
                raise ValueError(
                    "pos='grid' needs grid={'max_shape': [rows, cols], 'path': 'cells'|'moves'} "
                    f"(the raster vocabulary's), got {self.grid!r}"
                )
        if self.prefix_id is not None and not 0 <= self.prefix_id < self.vocab_size:
            raise ValueError(f"prefix_id must be a token id below {self.vocab_size}, got {self.prefix_id!r}")
        if self.d_mlp is None:
            self.d_mlp = 4 * self.d_model
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class KVCache:
    """Keys and values of the tokens seen so far, one ``(B, H, C, D)`` buffer per layer, of which
    the first ``length`` tokens are written (``C`` >= ``length``: room reserved for tokens still
    to come, so a decoding step writes its token in place instead of copying the whole cache);
    ``ids`` ``(B, C)`` the tokens themselves for ``pos="grid"`` (a new token's cell depends on the
    ones before; ``None`` otherwise); ``valid`` ``(B, C)`` bool, False at padding no query may
    attend (rows of different lengths stacked by :meth:`stack`; ``None``: every token is real).

    Extending a cache returns a cache on the same buffers when they have room and no other cache
    has written past this one's end (``tail``, shared by the caches of one set of buffers);
    otherwise fresh buffers: an extended cache never changes what an older one holds.
    """

    keys: list[torch.Tensor] = field(default_factory=list)
    values: list[torch.Tensor] = field(default_factory=list)
    ids: torch.Tensor | None = None
    size: int | None = None
    """Tokens held; ``None``: the buffers are full."""
    tail: list[int] = field(default_factory=lambda: [-1])
    """``[t]``: the furthest token written into these buffers by any cache sharing them."""
    valid: torch.Tensor | None = None

    @property
    def length(self) -> int:
        """Tokens held (``T``)."""
        if self.size is not None:
            return self.size
        return self.keys[0].shape[2] if self.keys else 0

    @property
    def capacity(self) -> int:
        """Tokens the buffers can hold (``C``)."""
        return self.keys[0].shape[2] if self.keys else 0

    def select(self, rows: torch.Tensor) -> KVCache:
        """The cache of batch rows ``rows`` (``int64[B']``, repeats allowed: beams), with the
        same room for tokens to come; fresh buffers."""
        ids = self.ids[rows] if self.ids is not None else None
        valid = self.valid[rows] if self.valid is not None else None
        return KVCache(
            [k[rows] for k in self.keys], [v[rows] for v in self.values], ids, self.size,
            [self.length], valid,
        )  # fmt: skip

    def truncated(self, length: int) -> KVCache:
        """The same buffers holding only the first ``length`` tokens; the caller gives up this
        cache (the next extension of the result may overwrite the tokens after ``length``)."""
        if not 0 <= length <= self.length:
            raise ValueError(f"cannot truncate a cache of {self.length} tokens to {length}")
        self.tail[0] = length
        return KVCache(self.keys, self.values, self.ids, length, self.tail, self.valid)

    @staticmethod
    def stack(caches: list[KVCache], reserve: int, pad_id: int) -> KVCache:
        """One row per cache (each of one row) of different lengths, padded at the end to the
        longest (``valid`` False there, ids ``pad_id``), with room for ``reserve`` more tokens.
        Only for ``pos="grid"``/``"none"`` models: a padded row's later tokens sit at other
        sequence indices than they would alone, which a grid position ignores. The caller keeps
        each row's real tokens within ``n_ctx`` (the padding is not counted)."""
        lengths = [c.length for c in caches]
        n, top = len(caches), max(lengths)
        first = caches[0]
        H, D = first.keys[0].shape[1], first.keys[0].shape[3]
        cap = top + max(0, int(reserve))
        keys = [first.keys[0].new_zeros(n, H, cap, D) for _ in first.keys]
        values = [first.keys[0].new_zeros(n, H, cap, D) for _ in first.keys]
        valid = torch.zeros(n, cap, dtype=torch.bool)
        ids = torch.full((n, cap), pad_id, dtype=torch.long) if first.ids is not None else None
        for i, (c, L) in enumerate(zip(caches, lengths, strict=True)):
            for buf, src in zip(keys + values, c.keys + c.values, strict=True):
                buf[i, :, :L] = src[0, :, :L]
            valid[i, :L] = True if c.valid is None else c.valid[0, :L]
            if ids is not None and c.ids is not None:
                ids[i, :L] = c.ids[0, :L]
        return KVCache(keys, values, ids, top, [top], valid)

    @staticmethod
    def concat(caches: list[KVCache]) -> KVCache:
        """The batch rows of several unpadded caches of one length, in order (no room reserved)."""
        if len(caches) == 1:
            return caches[0]
        n = caches[0].length
        ids = [c.ids for c in caches]
        return KVCache(
            [torch.cat([k[:, :, :n] for k in layer]) for layer in zip(*(c.keys for c in caches), strict=True)],
            [torch.cat([v[:, :, :n] for v in layer]) for layer in zip(*(c.values for c in caches), strict=True)],
            None if ids[0] is None else torch.cat([i[:, :n] for i in ids]),  # type: ignore[index]
        )

    def _room(self, need: int) -> bool:
        """Whether ``need`` tokens fit these buffers and they may be written past ``length``."""
        return self.capacity >= need and self.tail[0] <= self.length


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

    def __getitem__(self, name: str) -> torch.Tensor:
        """The activation of a TransformerLens hook name, so code written against an
        ``ActivationCache`` reads these too (a ``pos="grid"`` model cannot be exported to
        TransformerLens: its rotary positions are the cells the tokens name, not their indices):
        ``hook_embed`` (for ``pos="learned"`` the embedding includes the positions),
        ``blocks.{l}.hook_resid_pre`` (the residual entering block ``l``),
        ``blocks.{l}.hook_resid_post`` and ``blocks.{l}.attn.hook_pattern``
        (``(B, n_head, T, T_total)``)."""
        parts = name.split(".")
        try:
            if name == "hook_embed":
                return self.resid[0]
            if len(parts) >= 3 and parts[0] == "blocks":
                layer, hook = int(parts[1]), ".".join(parts[2:])
                if not 0 <= layer < len(self.attn):
                    raise IndexError(layer)
                if hook == "hook_resid_pre":
                    return self.resid[layer]
                if hook == "hook_resid_post":
                    return self.resid[layer + 1]
                if hook == "attn.hook_pattern":
                    return self.attn[layer]
        except (ValueError, IndexError):
            pass
        raise KeyError(
            f"{name!r}: recorded hooks are hook_embed and blocks.L.hook_resid_pre, "
            f"blocks.L.hook_resid_post, blocks.L.attn.hook_pattern for L in 0..{len(self.attn) - 1}"
        )


@dataclass(frozen=True)
class _Write:
    """Where one forward call puts its keys and values: tokens ``start .. start + T`` of buffers
    of ``cap`` tokens, the cached ones' buffers themselves (``inplace``) or fresh ones."""

    start: int
    cap: int
    inplace: bool


def _extend(past: torch.Tensor | None, new: torch.Tensor, w: _Write, dim: int = 2) -> torch.Tensor:
    """The buffer (``new``'s shape, ``w.cap`` long along ``dim``) holding ``past``'s first
    ``w.start`` tokens, then ``new``'s (``new`` itself when nothing comes before it and no room is
    kept). Keys and values are ``(B, H, T, D)`` (``dim=2``), token ids ``(B, T)`` (``dim=1``)."""
    T = new.shape[dim]
    if w.inplace:
        assert past is not None
        buf = past
    elif w.start == 0 and w.cap == T:
        return new
    else:
        shape = list(new.shape)
        shape[dim] = w.cap
        buf = new.new_empty(shape)
        if w.start:
            assert past is not None
            buf.narrow(dim, 0, w.start).copy_(past.narrow(dim, 0, w.start))
    buf.narrow(dim, w.start, T).copy_(new)
    return buf


def rope_angles(pos: torch.Tensor, dim: int, base: float = 10000.0) -> torch.Tensor:
    """Angles ``(..., dim/2)`` of RoPE for integer positions ``pos`` ``(...)``."""
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, device=pos.device, dtype=torch.float32) / dim))
    return pos.to(torch.float32)[..., None] * inv


def _rotate(x: torch.Tensor, cs: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Rotate channel pairs ``(i, i + d/2)`` of ``x`` ``(B, H, T, d)`` by the angles whose cosines
    and sines are ``cs`` (each ``(T, d/2)`` or ``(B, 1, T, d/2)``)."""
    d = x.shape[-1]
    cos, sin = cs[0].to(x.dtype), cs[1].to(x.dtype)  # no copy when already x's dtype
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def _cos_sin(ang: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return ang.cos(), ang.sin()


class Rope:
    """The rotation of one forward call, its cosines and sines computed once for every layer:
    1-D angles ``(T, D/2)`` (``rotary``), or row and column angles ``(B, 1, T, D/4)`` each
    (``grid``: the first half of a head turns by rows, the second by columns)."""

    def __init__(
        self,
        angles: torch.Tensor | None = None,
        rows: torch.Tensor | None = None,
        cols: torch.Tensor | None = None,
    ) -> None:
        self.flat = _cos_sin(angles) if angles is not None else None
        self.rows = _cos_sin(rows) if rows is not None else None
        self.cols = _cos_sin(cols) if cols is not None else None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.flat is not None:
            return _rotate(x, self.flat)
        assert self.rows is not None and self.cols is not None
        h = x.shape[-1] // 2
        return torch.cat([_rotate(x[..., :h], self.rows), _rotate(x[..., h:], self.cols)], dim=-1)


def grid_coords(ids: torch.Tensor, grid: dict) -> torch.Tensor:
    """``int64 (B, T, 2)``: the maze cell each token of a raster sequence is about.

    Cell and ``<EOL>`` tokens: their raster place (``<EOL>`` one column past the row's end);
    ``<PATH_START>``: the origin; a path token: where the path is after it (a ``rowR`` token sets
    the row, a ``colC`` token the column; a move token steps from the previous cell); padding and
    ``<PATH_END>`` keep the last cell. Ids follow :mod:`maze_env.tokens.grid`'s fixed layout.
    """
    from maze_env.tokens.grid import CELL_BASE, EOL, GRID_SPECIAL, INDEX_BASE, MOVES
    from maze_env.tokens.schemes import PATH_START
    from maze_env.types import ACTION_DELTAS

    B, T = ids.shape
    t = torch.arange(T, device=ids.device).expand(B, T)
    neg = torch.full_like(t, -1)
    eol = ids == GRID_SPECIAL.index(EOL)
    start = ids == GRID_SPECIAL.index(PATH_START)
    has_start = start.any(1, keepdim=True)
    ps = torch.where(has_start, start.long().argmax(1, keepdim=True), torch.full_like(t[:, :1], T))
    in_raster = t < ps
    eol_r = eol & in_raster
    row = eol_r.long().cumsum(1) - eol_r.long()
    last_eol = torch.where(eol_r, t, neg).cummax(1).values
    prev_eol = torch.cat([neg[:, :1], last_eol[:, :-1]], 1)
    col = t - prev_eol - 1
    marker = (ids - CELL_BASE) // 16
    is_cell = (ids >= CELL_BASE) & (ids < CELL_BASE + 64)
    origin = is_cell & in_raster & ((marker == 1) | (marker == 3))
    first = torch.where(origin.any(1), origin.long().argmax(1), torch.zeros_like(ps[:, 0]))
    o_r, o_c = row.gather(1, first[:, None]), col.gather(1, first[:, None])  # (B, 1)
    in_path = t > ps
    if grid["path"] == "cells":
        col_base = INDEX_BASE + int(grid["max_shape"][0])
        pad = col_base + int(grid["max_shape"][1])
        out = []
        for base, top, o in ((INDEX_BASE, col_base, o_r), (col_base, pad, o_c)):
            hit = in_path & (ids >= base) & (ids < top)
            last = torch.where(hit, t, neg).cummax(1).values
            val = (ids - base).gather(1, last.clamp(min=0))
            out.append(torch.where(last >= 0, val, o.expand(B, T)))
        p_r, p_c = out
    else:
        d = torch.zeros(B, T, 2, dtype=torch.long, device=ids.device)
        for move, (dr, dc) in zip(MOVES, ACTION_DELTAS, strict=True):
            hit = (in_path & (ids == GRID_SPECIAL.index(move)))[..., None]
            d = d + hit * torch.tensor([int(dr), int(dc)], device=ids.device)
        steps = d.cumsum(1)
        p_r, p_c = o_r + steps[..., 0], o_c + steps[..., 1]
    return torch.stack([torch.where(in_raster, row, p_r), torch.where(in_raster, col, p_c)], -1)


def prefix_mask(ids: torch.Tensor, prefix_id: int) -> torch.Tensor:
    """``bool (B, 1, T, T)``, True where query ``q`` may attend key ``k``: causal, and both ways
    among the prompt's tokens (up to and including the first ``prefix_id``; none: causal)."""
    B, T = ids.shape
    hit = ids == prefix_id
    n = torch.where(hit.any(1), hit.long().argmax(1) + 1, torch.zeros_like(hit[:, 0], dtype=torch.long))
    pos = torch.arange(T, device=ids.device)
    causal = pos[None, :] <= pos[:, None]  # (T, T): key <= query
    inside = pos[None, :] < n[:, None]  # (B, T)
    both = inside[:, :, None] & inside[:, None, :]
    return (causal[None] | both)[:, None]


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.d_model, 3 * config.d_model, bias=config.bias)
        self.c_proj = nn.Linear(config.d_model, config.d_model, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        x: torch.Tensor,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
        record: list[torch.Tensor] | None = None,
        rope: Rope | None = None,
        mask: torch.Tensor | None = None,
        write: _Write | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``mask``: bool, True = may attend, ``(T, S)`` or ``(B, 1, T, S)``; ``None``: causal.
        ``past``: the cached keys and values (buffers ``(B, H, C, D)``), ``write`` where this
        call's go (``None``: no cache, nothing kept beyond the call's own tokens). Returns the
        output and the key and value buffers."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if rope is not None:
            q, k = rope(q), rope(k)
        kv = (k, v)
        if write is not None:
            kv = (
                _extend(past[0] if past else None, k, write),
                _extend(past[1] if past else None, v, write),
            )
            k, v = kv[0][:, :, : write.start + T], kv[1][:, :, : write.start + T]  # (B, H, S, D)
        S = k.shape[2]
        drop = self.dropout if self.training else 0.0
        if T == 1 and mask is None and drop == 0.0:  # one query (a decoding step): two small
            # batched matmuls beat the fused kernel here (measured: docs/BENCHMARKS.md)
            y = ((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))).softmax(-1) @ v
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=drop, is_causal=mask is None and T > 1
            )
        if record is not None:  # the same probabilities, computed beside the fused kernel
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, T, S)
            allowed = (
                mask if mask is not None else torch.ones(T, S, dtype=torch.bool).tril(S - T)
            )
            record.append(scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1))
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y)), kv


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
        rope: Rope | None = None,
        mask: torch.Tensor | None = None,
        write: _Write | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        a, kv = self.attn(self.ln_1(x), past, record, rope, mask, write)
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
        self,
        idx: torch.Tensor,
        cache: KVCache | None,
        acts: Activations | None,
        reserve: int = 0,
    ) -> tuple[torch.Tensor, KVCache]:
        start = cache.length if cache is not None else 0
        # a padded cache (KVCache.stack): the caller keeps each row's real tokens within n_ctx
        self._check(idx, 0 if cache is not None and cache.valid is not None else start)
        c, (B, T) = self.config, idx.shape
        end = start + T
        write = None  # no cache in or out beyond this call's tokens (training, hooks)
        if cache is not None or reserve > 0:
            inplace = cache is not None and cache._room(end)
            cap = cache.capacity if inplace else end + max(0, int(reserve))  # type: ignore[union-attr]
            write = _Write(start, cap, inplace)
        ids = idx
        ids_buf = None
        if c.pos == "grid":  # a new token's cell depends on the ones before it: keep the ids
            old = cache.ids if cache is not None else None
            ids_buf = _extend(old, idx, write, dim=1) if write is not None else idx
            ids = ids_buf[:, :end]  # (B, S)
        valid_buf = None
        if cache is not None and cache.valid is not None:  # padded rows: keys to leave out
            assert write is not None
            new_ok = torch.ones(B, T, dtype=torch.bool, device=idx.device)
            valid_buf = _extend(cache.valid, new_ok, write, dim=1)
        x = self.wte(idx)  # (B, T, C)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(start, end, device=idx.device))
        x = self.drop(x)
        dh = c.d_model // c.n_head
        rope = None
        if c.pos == "rotary":
            rope = Rope(angles=rope_angles(torch.arange(start, end, device=idx.device), dh))
        elif c.pos == "grid":
            assert c.grid is not None
            rc = grid_coords(ids, c.grid)[:, -T:, None]  # (B, 1, T, 2) after the transpose
            rc = rc.transpose(1, 2)
            rope = Rope(
                rows=rope_angles(rc[..., 0], dh // 2, GRID_ROPE_BASE),
                cols=rope_angles(rc[..., 1], dh // 2, GRID_ROPE_BASE),
            )
        if start == 0:  # query t sees keys 0..t (and the whole prompt in a prefix LM)
            mask = prefix_mask(idx, c.prefix_id) if c.prefix_id is not None else None
        elif valid_buf is not None:  # causal, and no padding: (B, 1, T, S)
            causal = torch.ones(T, end, dtype=torch.bool, device=idx.device).tril(start)
            mask = (causal[None] & valid_buf[:, None, :end])[:, None]
        elif T == 1:  # one new token sees every key: no mask
            mask = None
        else:  # new tokens after the cached ones: query t (position start + t) sees 0..start + t
            mask = torch.ones(T, end, dtype=torch.bool, device=idx.device).tril(start)
        if acts is not None:
            acts.resid.append(x)
        new = KVCache(ids=ids_buf, valid=valid_buf)
        if write is not None:
            new.size = end
            new.tail = cache.tail if write.inplace else [end]  # type: ignore[union-attr]
            new.tail[0] = end
        for i, block in enumerate(self.blocks):
            past = (cache.keys[i], cache.values[i]) if cache is not None and cache.keys else None
            x, (k, v) = block(x, past, acts.attn if acts is not None else None, rope, mask, write)
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
        self, idx: torch.Tensor, cache: KVCache | None = None, reserve: int = 0
    ) -> tuple[torch.Tensor, KVCache]:
        """Logits ``(B, T, vocab)`` of ``idx`` following the cached tokens, and the longer cache.

        ``reserve``: room for that many more tokens when new buffers are made, so the calls that
        follow (one token each, say) write in place instead of copying the cache every time.
        """
        x, new = self._run(idx, cache, None, reserve)
        return self.lm_head(x), new

    def run_with_cache(self, idx: torch.Tensor) -> tuple[torch.Tensor, Activations]:
        """Logits (identical to :meth:`forward`'s) and the residual stream and attention patterns."""
        acts = Activations()
        x, _ = self._run(idx, None, acts)
        return self.lm_head(x), acts
