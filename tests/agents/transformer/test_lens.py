"""agents.transformer.lens: the TransformerLens export computes the same logits (optional extra)."""

from __future__ import annotations

import pytest
import torch

from agents.transformer.model import GPT, GPTConfig


@pytest.mark.slow  # importing transformer_lens (and transformers) takes a while
@pytest.mark.parametrize("pos", ["learned", "rotary", "none"])
def test_hooked_transformer_has_identical_logits(pos: str) -> None:
    from agents.transformer.lens import to_hooked_transformer

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=13, n_ctx=20, n_layer=2, n_head=2, d_model=16, pos=pos)).eval()
    for p in model.parameters():  # non-trivial biases and norms
        p.data += 0.05 * torch.randn_like(p)
    idx = torch.randint(0, 13, (3, 20))
    hooked = to_hooked_transformer(model)
    ours = model(idx)[0]
    theirs, cache = hooked.run_with_cache(idx)
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=1e-4)
    _, acts = model.run_with_cache(idx)
    for name in ("blocks.1.attn.hook_pattern", "blocks.0.hook_resid_post", "blocks.1.hook_resid_pre",
                 "blocks.1.hook_resid_post"):  # fmt: skip
        torch.testing.assert_close(cache[name], acts[name], atol=1e-4, rtol=1e-4)  # same names


def test_export_refuses_what_transformer_lens_cannot_express() -> None:
    from agents.transformer.lens import to_hooked_transformer

    grid = {"max_shape": [4, 4], "path": "moves"}
    model = GPT(GPTConfig(vocab_size=80, n_ctx=20, n_layer=1, n_head=2, d_model=16, pos="grid", grid=grid))
    with pytest.raises(ValueError, match="pos learned, rotary or none .*pos='grid'"):
        to_hooked_transformer(model)
    model = GPT(GPTConfig(vocab_size=13, n_ctx=20, n_layer=1, n_head=2, d_model=16, prefix_id=0))
    with pytest.raises(ValueError, match="prefix_id=0"):
        to_hooked_transformer(model)
