"""agents.transformer.model: shapes, errors, KV cache == full forward, hooks, overfitting a batch."""

from __future__ import annotations

import pytest
import torch

from agents.transformer.model import GPT, GPTConfig


def tiny(pos: str = "learned", **kw: object) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=11, n_ctx=16, n_layer=2, n_head=2, d_model=16, pos=pos, **kw))  # type: ignore[arg-type]


def test_config_errors_name_the_value() -> None:
    with pytest.raises(ValueError, match="n_head=3 does not divide d_model=16"):
        GPTConfig(vocab_size=5, n_head=3, d_model=16)
    with pytest.raises(ValueError, match="pos must be one of"):
        GPTConfig(vocab_size=5, pos="sinusoid")
    with pytest.raises(ValueError, match="n_layer must be a positive int"):
        GPTConfig(vocab_size=5, n_layer=0)
    assert GPTConfig(vocab_size=5, d_model=8, n_head=2).d_mlp == 32


def test_forward_shapes_loss_and_input_errors() -> None:
    model = tiny()
    idx = torch.randint(0, 11, (3, 10))
    logits, loss = model(idx)
    assert logits.shape == (3, 10, 11) and loss is None
    targets = torch.full((3, 10), -1)
    targets[:, 5] = 2
    _, loss = model(idx, targets)
    assert loss is not None and loss.ndim == 0 and torch.isfinite(loss)
    with pytest.raises(ValueError, match="17 tokens .* longer than the model's context n_ctx=16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="token id 11 is outside the vocabulary"):
        model(torch.full((1, 3), 11))
    assert model.lm_head.weight is model.wte.weight  # tied


@pytest.mark.parametrize("pos", ["learned", "rotary", "none"])
def test_kv_cache_matches_full_forward(pos: str) -> None:
    model = tiny(pos).eval()
    idx = torch.randint(0, 11, (2, 12))
    full, _ = model(idx)
    logits, cache = model.forward_cached(idx[:, :5])
    steps = [logits]
    for t in range(5, 12, 2):  # chunks of 2 and 1 tokens
        logits, cache = model.forward_cached(idx[:, t : t + 2], cache)
        steps.append(logits)
    assert cache.length == 12
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match=r"12 cached \+ 5 new"):
        model.forward_cached(idx[:, :5], cache)
    beams = cache.select(torch.tensor([1, 1, 0]))
    assert beams.keys[0].shape[0] == 3 and torch.equal(beams.keys[1][2], cache.keys[1][0])


def test_hooks_do_not_change_the_logits() -> None:
    model = tiny("rotary").eval()
    idx = torch.randint(0, 11, (2, 9))
    logits, acts = model.run_with_cache(idx)
    assert torch.equal(logits, model(idx)[0])
    assert len(acts.resid) == 3 and acts.resid[0].shape == (2, 9, 16)
    assert len(acts.attn) == 2 and acts.attn[0].shape == (2, 2, 9, 9)
    pattern = acts.attn[1]
    torch.testing.assert_close(pattern.sum(-1), torch.ones(2, 2, 9))
    assert (pattern.triu(1) == 0).all()  # causal
    # the pattern reproduces the attention output of the fused kernel
    block = model.blocks[0]
    x = block.ln_1(acts.resid[0])
    q, k, v = block.attn.c_attn(x).split(16, dim=2)
    v = v.view(2, 9, 2, 8).transpose(1, 2)
    y = (acts.attn[0] @ v).transpose(1, 2).reshape(2, 9, 16)
    torch.testing.assert_close(
        acts.resid[1] - acts.resid[0],
        block.attn.c_proj(y) + block.mlp(block.ln_2(acts.resid[0] + block.attn.c_proj(y))),
        atol=1e-5,
        rtol=1e-4,
    )


def test_overfits_one_batch() -> None:
    model = tiny()
    torch.manual_seed(1)
    idx = torch.randint(0, 11, (8, 12))
    targets = torch.cat([idx[:, 1:], torch.full((8, 1), -1)], dim=1)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    first = None
    for _ in range(150):
        _, loss = model(idx, targets)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert first > 2.0 and float(loss) < 0.1
