"""Look-ahead probes and attention heads (agents.interp.lookahead, agents.interp.heads): planted
plans and planted adjacency heads are found, noise and uniform attention are not; ablation hooks
change the model only inside their block; the pipeline runs on a shipped tiny transformer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.interp import activations as acts
from agents.interp import heads as hd
from agents.interp.lookahead import local_features, lookahead_probes, step_rows
from agents.interp.pipeline import inspect_checkpoint, suite_tasks
from agents.interp.probes import probe, split_by_maze
from agents.interp.truth import truth_of

torch.set_num_threads(1)
TINY = Path(__file__).resolve().parents[3] / "checkpoints" / "transformer_tiny"


@pytest.fixture(scope="module")
def truth():
    return truth_of(suite_tasks("size_4", 40))


def test_step_rows_label_the_move_j_ahead(truth):
    task, step, y = step_rows(truth, 1)
    np.testing.assert_array_equal(y, np.concatenate(truth.moves))
    task2, step2, y2 = step_rows(truth, 2)
    assert len(y2) == sum(max(0, len(m) - 1) for m in truth.moves)
    for i, k, label in zip(task2, step2, y2, strict=True):
        assert label == truth.moves[i][k + 1]
    with pytest.raises(ValueError, match="j must be >= 1"):
        step_rows(truth, 0)


def test_the_whole_maze_vector_lists_each_passage_once_and_the_target_one_hot(truth):
    R, C = truth.shape
    walls = truth.passages()
    assert walls.shape == (truth.n, R * (C - 1) + (R - 1) * C)
    np.testing.assert_array_equal(walls.sum(1), R * C - 1)  # a perfect maze: a spanning tree
    # the passage right of (0, 0) is (0, 1)'s left side; the one below (0, 0) is (1, 0)'s up side
    np.testing.assert_array_equal(walls[:, 0], truth.open[:, 0, 1, 3])
    np.testing.assert_array_equal(walls[:, R * (C - 1)], truth.open[:, 1, 0, 0])
    hot = truth.target_cells()
    assert (hot.sum(1) == 1).all()
    assert (hot.argmax(1) == truth.target[:, 0] * C + truth.target[:, 1]).all()


def test_local_view_is_one_hot_and_equal_for_equal_views(truth):
    task, step, _ = step_rows(truth, 1)
    F = local_features(truth, task, step)
    np.testing.assert_array_equal(F.sum(1), 1.0)
    first = np.flatnonzero(step == 0)  # k = 0: no last move; same sides and offsets -> same row
    assert F.shape[0] == len(task) and F.shape[1] <= 720
    assert len(first) == truth.n


def test_multiclass_probe_reads_a_planted_class_and_not_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=1200)
    groups = np.repeat(np.arange(60), 20)
    _, test = split_by_maze(60)
    X = np.eye(4)[y] + 0.3 * rng.normal(size=(1200, 4))
    s = probe(X, y, groups, "balanced_accuracy", test)
    assert s.score > 0.9 and s.low <= s.score <= s.high
    n = probe(rng.normal(size=(1200, 4)), y, groups, "balanced_accuracy", test)
    assert abs(n.score - 0.25) < 0.08


def test_a_planted_plan_two_moves_ahead_is_found_above_the_local_view(truth):
    rng = np.random.default_rng(1)
    start, T = 20, 20 + max(len(m) for m in truth.moves) + 1
    resid = 0.1 * rng.normal(size=(2, truth.n, T, 6)).astype(np.float32)
    for i, m in enumerate(truth.moves):  # layer 1 holds move k + 2 at step k
        for k in range(len(m) - 1):
            resid[1, i, start + k, :4] += 3.0 * np.eye(4)[m[k + 1]]
    _, test = split_by_maze(truth.n)
    recs = lookahead_probes(resid, resid[[0, 0]], start, truth, test, js=(2,))
    by_layer = {r["layer"]: r for r in recs}
    assert by_layer[1]["score"] > 0.9 and by_layer[1]["score"] > by_layer[1]["control_local"] + 0.2
    assert by_layer[0]["score"] < 0.5 and by_layer[1]["control_random_init"] < 0.5
    assert all(r["j"] == 2 and r["chance"] == 0.25 for r in recs)


def test_planted_adjacency_head_is_named_and_uniform_attention_is_not(truth):
    start = 20
    cell_pos = (np.arange(4)[:, None] * 5 + np.arange(4)[None, :]).astype(np.int64)
    T = start + max(len(m) for m in truth.moves) + 1
    lengths = np.array([start + len(m) + 1 for m in truth.moves])
    attn = np.zeros((1, truth.n, 2, T, T), dtype=np.float32)
    for i, m in enumerate(truth.moves):
        for k in range(len(m)):
            g = hd.key_groups(truth, start, cell_pos, i, k, T)
            opened = g == hd.GROUPS.index("open")
            attn[0, i, 0, start + k, opened] = 1.0 / opened.sum()
            attn[0, i, 1, start + k, g >= 0] = 1.0 / (g >= 0).sum()
    mass, uniform = hd.attention_by_group(attn, truth, start, cell_pos, lengths)
    np.testing.assert_allclose(mass.sum(-1), 1.0, atol=1e-5)
    assert mass[0, 0, hd.GROUPS.index("open")] == pytest.approx(1.0, abs=1e-5)
    assert mass[0, 1, hd.GROUPS.index("open")] == pytest.approx(uniform[0, 1], abs=1e-5)
    assert hd.adjacency_heads(mass, uniform) == [(0, 0)]
    rows = hd.head_records(mass, uniform)
    assert [r["adjacency"] for r in rows] == [True, False]


def test_exact_paths_accepts_shortest_paths_only(truth):
    assert hd.exact_paths(truth, [p.tolist() for p in truth.paths]).all()
    short = [p[:-1].tolist() for p in truth.paths]
    assert not hd.exact_paths(truth, short).any()
    detour = [np.concatenate([p[:1], p[1:2], p]).tolist() for p in truth.paths]
    assert not hd.exact_paths(truth, detour).any()


def test_ablation_changes_the_model_inside_the_block_only():
    model = acts.random_init(acts.load(TINY), seed=3)
    idx = torch.randint(0, model.net.config.vocab_size, (2, 12))
    with torch.inference_mode():
        before, _ = model.net(idx)
        with hd.ablated(model.net, [(0, 0), (0, 1)]):
            during, _ = model.net(idx)
        after, _ = model.net(idx)
    assert not torch.allclose(before, during)
    assert torch.equal(before, after)


def test_inspect_reads_look_ahead_heads_and_retargeting_of_a_transformer(tmp_path):
    from agents.interp.report import write_report

    rec = inspect_checkpoint(TINY, suite="size_4", n=10, ahead=(1, 2))
    ahead = [p for p in rec["probes"] if p["site"] == "path_step"]
    assert {p["j"] for p in ahead} <= {1, 2} and 1 in {p["j"] for p in ahead}
    assert all("control_local" in p for p in ahead)
    cfg = acts.load(TINY).net.config
    assert len(rec["heads"]) == cfg.n_layer * cfg.n_head and rec["adjacency_rule"]["threshold"] == hd.ADJACENCY_THRESHOLD
    kinds = [e["kind"] for e in rec["interventions"]]
    assert kinds[0] == "unablated"
    if any(h["adjacency"] for h in rec["heads"]):
        assert "ablate_adjacency" in kinds and "ablate_random_heads" in kinds
    at_start = {(p["target"], p["layer"]) for p in rec["probes"] if p["site"] == "path_start"}
    assert at_start == {(t, la) for t in ("on_path", "passage", "target_cell")
                        for la in range(cfg.n_layer + 1)}  # fmt: skip
    sites = {e["layer"] for e in rec["interventions"] if e["kind"] == "retarget"}
    assert sites == set(range(cfg.n_layer + 1))  # every residual site, embedding first
    out = write_report(rec, tmp_path)
    assert out["edits"].is_file() and "retarget_random_cells" in out["md"].read_text()
