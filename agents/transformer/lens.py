"""Export a :class:`~agents.transformer.model.GPT` to TransformerLens's ``HookedTransformer``.

The interpretability tooling of the seed's authors and their field (Nanda & Bloom,
TransformerLens) works on ``HookedTransformer``; this copies our weights into one with the same
architecture (pre-LN, GELU, learned or rotary positions, tied unembedding), so its logits equal
ours (tested to 1e-4) and every ``hook_*`` point is available. Needs the optional ``lens`` extra:
``transformer-lens`` 2.x/3.x (4.0 removed ``HookedTransformer``; install with ``--no-deps`` next
to this project's CPU torch).
"""

from __future__ import annotations

from typing import Any

import torch

from agents.transformer.model import GPT


def to_hooked_transformer(model: GPT) -> Any:
    """A ``transformer_lens.HookedTransformer`` computing the same function as ``model``."""
    c = model.config
    if c.pos == "grid" or c.prefix_id is not None:
        raise ValueError(
            "TransformerLens has no 2-D grid positions (their rotation is the cell a token names, "
            "read from the tokens, not its index) or prefix-LM mask: export works for causal "
            f"models with pos learned, rotary or none (this one: pos={c.pos!r}, prefix_id={c.prefix_id!r}); "
            "GPT.run_with_cache's activations answer to the same hook names "
            "(acts['blocks.0.hook_resid_post'])"
        )
    try:
        from transformer_lens import HookedTransformer, HookedTransformerConfig
    except ImportError as err:
        raise ImportError(
            "TransformerLens export needs transformer-lens<4 (pip install 'mazebench[lens]', or "
            f"pip install --no-deps 'transformer-lens<4' and its small dependencies): {err}"
        ) from err
    H, D = c.n_head, c.d_model
    dh = D // H
    cfg = HookedTransformerConfig(
        n_layers=c.n_layer, d_model=D, n_ctx=c.n_ctx, d_head=dh, n_heads=H, d_mlp=c.d_mlp,
        d_vocab=c.vocab_size, d_vocab_out=c.vocab_size, act_fn="gelu", normalization_type="LN",
        positional_embedding_type="rotary" if c.pos == "rotary" else "standard",
        rotary_dim=dh if c.pos == "rotary" else None, default_prepend_bos=False, device="cpu",
    )  # fmt: skip
    sd: dict[str, torch.Tensor] = {"embed.W_E": model.wte.weight.detach().clone()}
    if c.pos != "rotary":  # "none": a zero positional embedding
        sd["pos_embed.W_pos"] = (
            model.wpe.weight.detach().clone() if model.wpe is not None else torch.zeros(c.n_ctx, D)
        )
    for i, b in enumerate(model.blocks):
        p = f"blocks.{i}."
        w, bias = b.attn.c_attn.weight.detach(), b.attn.c_attn.bias
        for j, name in enumerate("QKV"):
            sd[p + f"attn.W_{name}"] = w[j * D : (j + 1) * D].view(H, dh, D).transpose(1, 2).clone()
            sd[p + f"attn.b_{name}"] = (
                bias.detach()[j * D : (j + 1) * D].view(H, dh).clone()
                if bias is not None
                else torch.zeros(H, dh)
            )
        sd[p + "attn.W_O"] = b.attn.c_proj.weight.detach().T.reshape(H, dh, D).clone()
        sd[p + "attn.b_O"] = _bias(b.attn.c_proj.bias, D)
        sd[p + "ln1.w"], sd[p + "ln1.b"] = b.ln_1.weight.detach().clone(), _bias(b.ln_1.bias, D)
        sd[p + "ln2.w"], sd[p + "ln2.b"] = b.ln_2.weight.detach().clone(), _bias(b.ln_2.bias, D)
        sd[p + "mlp.W_in"] = b.mlp.c_fc.weight.detach().T.clone()
        sd[p + "mlp.b_in"] = _bias(b.mlp.c_fc.bias, b.mlp.c_fc.out_features)
        sd[p + "mlp.W_out"] = b.mlp.c_proj.weight.detach().T.clone()
        sd[p + "mlp.b_out"] = _bias(b.mlp.c_proj.bias, D)
    sd["ln_final.w"], sd["ln_final.b"] = (
        model.ln_f.weight.detach().clone(),
        _bias(model.ln_f.bias, D),
    )
    sd["unembed.W_U"] = model.wte.weight.detach().T.clone()
    sd["unembed.b_U"] = torch.zeros(c.vocab_size)
    hooked = HookedTransformer(cfg)
    missing, unexpected = hooked.load_state_dict(sd, strict=False)
    if unexpected or [
        m for m in missing if not m.endswith(("mask", "IGNORE", "rotary_sin", "rotary_cos"))
    ]:
        raise ValueError(
            f"TransformerLens layout changed: missing {missing}, unexpected {unexpected}"
        )
    return hooked.eval()


def _bias(b: torch.Tensor | None, n: int) -> torch.Tensor:
    return b.detach().clone() if b is not None else torch.zeros(n)
