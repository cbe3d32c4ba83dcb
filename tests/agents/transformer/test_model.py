"""agents.transformer.model: shapes, errors, KV cache == full forward, hooks, overfitting a batch."""

from __future__ import annotations

import pytest
import torch

from agents.transformer.model import GPT, GPTConfig, KVCache


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


@pytest.mark.parametrize("pos", ["learned", "rotary", "grid"])
def test_reserved_cache_writes_in_place_and_never_changes_an_older_cache(pos: str) -> None:
    if pos == "grid":
        vocab, grid, _, idx = _grid_batch("grid")
        model = _grid_model("grid", vocab, grid, False)
        T0 = int((idx[0] == 0).nonzero()[0]) + 1  # the whole prompt first
    else:
        model, idx, T0 = tiny(pos).eval(), torch.randint(0, 11, (2, 12)), 5
    full, _ = model(idx)
    T = idx.shape[1]
    logits, cache = model.forward_cached(idx[:, :T0], reserve=T - T0)
    assert cache.length == T0 and cache.capacity == T
    steps, first = [logits], cache
    for t in range(T0, T):
        logits, cache = model.forward_cached(idx[:, t : t + 1], cache)
        steps.append(logits)
        assert cache.keys[1] is first.keys[1]  # the same buffers: written in place
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    assert cache.length == T and first.length == T0
    # extending the older cache again (another continuation) gets fresh buffers and leaves the
    # newer cache's tokens as they were
    other = idx[:, T0 : T0 + 1].flip(0)
    branch, bcache = model.forward_cached(other, first)
    assert bcache.keys[0] is not first.keys[0]
    alone, _ = model(torch.cat([idx[:, :T0], other], 1))
    torch.testing.assert_close(branch[:, -1], alone[:, -1], atol=1e-5, rtol=1e-5)
    again, _ = model.forward_cached(idx[:, -1:], KVCache(cache.keys, cache.values, cache.ids, T - 1, [T]))
    torch.testing.assert_close(again[:, -1], full[:, -1], atol=1e-5, rtol=1e-5)
    # select keeps the room: the beams' next steps write in place too
    beams = first.select(torch.tensor([1, 0]))
    assert beams.capacity == T and beams.length == T0
    _, nxt = model.forward_cached(idx[:, T0 : T0 + 1].flip(0), beams)
    assert nxt.keys[0] is beams.keys[0]


def test_activations_answer_to_transformer_lens_hook_names() -> None:
    model = tiny("rotary").eval()
    _, acts = model.run_with_cache(torch.randint(0, 11, (2, 9)))
    assert acts["hook_embed"] is acts.resid[0]
    assert acts["blocks.0.hook_resid_pre"] is acts.resid[0]
    assert acts["blocks.1.hook_resid_pre"] is acts["blocks.0.hook_resid_post"] is acts.resid[1]
    assert acts["blocks.1.hook_resid_post"] is acts.resid[2]
    assert acts["blocks.1.attn.hook_pattern"] is acts.attn[1]
    for bad in ("blocks.2.hook_resid_post", "blocks.x.hook_resid_post", "blocks.0.mlp.hook_post", "resid"):
        with pytest.raises(KeyError, match="L in 0..1"):
            acts[bad]


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


# -- 2-D grid positions and the prefix LM ---------------------------------------------------------


def _grid_batch(scheme: str, shapes: tuple[tuple[int, int], ...] = ((4, 4), (4, 4))) -> tuple:
    from maze_env.dataset import DatasetConfig, MazeDataset
    from maze_env.solve import shortest_path
    from maze_env.tokens import make_vocabulary

    vocab = make_vocabulary((8, 8), scheme)
    rows = []
    for i, shape in enumerate(shapes):
        cfg = DatasetConfig.from_dict({"generator": "dfs", "shape": list(shape), "n": 1, "seed": 40 + i})
        task = MazeDataset.from_config(cfg).tasks()[0]
        path = shortest_path(task.maze, task.origin, task.target)
        rows.append((task, path, vocab.encode_tasks([task], paths=[path])[0]))
    width = max(len(r[2]) for r in rows)
    ids = torch.full((len(rows), width), vocab.pad_id, dtype=torch.long)
    for b, (_, _, r) in enumerate(rows):
        ids[b, : len(r)] = torch.as_tensor(r.astype("int64"))
    grid = {"max_shape": [8, 8], "path": "cells" if scheme == "grid_cells" else "moves"}
    return vocab, grid, rows, ids


@pytest.mark.parametrize("scheme", ["grid_cells", "grid"])
def test_grid_coords_name_each_tokens_cell(scheme: str) -> None:
    from agents.transformer.model import grid_coords

    vocab, grid, rows, ids = _grid_batch(scheme, ((3, 5), (4, 4)))
    coords = grid_coords(ids, grid)
    for b, (task, path, _) in enumerate(rows):
        toks = vocab.decode(ids[b].numpy())
        R, C = task.maze.shape
        # raster: row-major, <EOL> one past the row's end
        assert coords[b, : R * (C + 1)].tolist() == [[r, c] for r in range(R) for c in range(C + 1)]
        ps = toks.index("<PATH_START>")
        assert tuple(coords[b, ps].tolist()) == tuple(task.origin)
        # the cell after each full path step is the path's next cell; <PATH_END> keeps the last
        step = 2 if scheme == "grid_cells" else 1
        first = ps + 1 + (step if scheme == "grid_cells" else 0)  # grid_cells writes the origin
        for i, cell in enumerate(path[1:]):
            assert tuple(coords[b, first + step * (i + 1) - 1].tolist()) == tuple(cell)
        end = toks.index("<PATH_END>")
        assert tuple(coords[b, end].tolist()) == tuple(path[-1])


def _grid_model(scheme: str, vocab: object, grid: dict, prefix: bool) -> GPT:
    torch.manual_seed(0)
    cfg = GPTConfig(vocab_size=len(vocab), n_ctx=64, n_layer=2, n_head=2, d_model=16, pos="grid",  # type: ignore[arg-type]
                    grid=grid, prefix_id=0 if prefix else None)  # fmt: skip
    return GPT(cfg).eval()


@pytest.mark.parametrize("scheme", ["grid_cells", "grid"])
@pytest.mark.parametrize("prefix", [False, True])
def test_grid_and_prefix_kv_cache_matches_full_forward(scheme: str, prefix: bool) -> None:
    vocab, grid, _, ids = _grid_batch(scheme)
    model = _grid_model(scheme, vocab, grid, prefix)
    full, _ = model(ids)
    ps = int((ids[0] == 0).nonzero()[0])
    assert int((ids[1] == 0).nonzero()[0]) == ps  # same shape: same prompt length
    logits, cache = model.forward_cached(ids[:, : ps + 1])  # the whole prompt first
    steps = [logits]
    for t in range(ps + 1, ids.shape[1]):
        logits, cache = model.forward_cached(ids[:, t : t + 1], cache)
        steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=1e-5, rtol=1e-5)
    beams = cache.select(torch.tensor([1, 0]))
    assert beams.ids is not None and torch.equal(beams.ids[0], cache.ids[1])  # type: ignore[index]
    _, acts = model.run_with_cache(ids)  # the recorded patterns honour the same mask
    if prefix:  # a raster token sees a later raster token; a path token never sees a later one
        assert float(acts.attn[0][0, :, 0, ps].sum()) > 0
    assert float(acts.attn[0][0, :, ps + 1, ps + 2 :].sum()) == 0


def test_prefix_mask_and_grid_config_errors() -> None:
    from agents.transformer.model import prefix_mask

    m = prefix_mask(torch.tensor([[5, 5, 0, 5, 5], [5, 5, 5, 5, 5]]), 0)[:, 0]
    assert m[0, 0, 2] and m[0, 1, 0] and not m[0, 2, 3] and m[0, 4, 3] and not m[0, 3, 4]
    assert torch.equal(m[1], torch.ones(5, 5, dtype=torch.bool).tril())  # no prompt end: causal
    with pytest.raises(ValueError, match="pos='grid' needs grid="):
        GPTConfig(vocab_size=80, d_model=16, n_head=2, pos="grid")
    with pytest.raises(ValueError, match="divisible by 4"):
        GPTConfig(vocab_size=80, d_model=12, n_head=2, pos="grid", grid={"max_shape": [8, 8], "path": "moves"})
    with pytest.raises(ValueError, match="prefix_id must be a token id below 80"):
        GPTConfig(vocab_size=80, prefix_id=80)
