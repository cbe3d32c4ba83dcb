"""Retargeting by activation patching (agents.interp.patching): patching a model with its own
residuals changes nothing, patching the target cells' embedding from the moved-target prompt is
the moved-target prompt itself, and the random-cell control does not retarget (``inspect``'s
report of them: tests/agents/interp/test_transformer_mech.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agents.interp import activations as acts
from agents.interp.patching import patched, prompt_resid, rerouted, retarget
from agents.interp.pipeline import suite_tasks

torch.set_num_threads(1)
TINY = Path(__file__).resolve().parents[3] / "checkpoints" / "transformer_tiny"


@pytest.fixture(scope="module")
def model():
    return acts.load(TINY)


@pytest.fixture(scope="module")
def tasks():
    return suite_tasks("size_5", 24)


def _rates(edits):
    return {(e.kind, e.layer): e for e in edits}


def test_a_self_patch_leaves_the_logits_unchanged_and_another_prompt_changes_them(model, tasks):
    from agents.transformer.decoding import Codec

    ids = torch.as_tensor(np.stack(Codec(model.vocab).prompts(tasks)), dtype=torch.long)
    pos = np.tile(np.array([[0, 3, 7]]), (len(tasks), 1))
    own = prompt_resid(model, tasks, 2)
    other = prompt_resid(model, tasks[1:] + tasks[:1], 2)  # another maze's residuals
    rows = np.arange(len(tasks))[:, None]
    with torch.inference_mode():
        before, _ = model.net(ids)
        with patched(model.net, 2, pos, own[rows, pos]):
            same, _ = model.net(ids)
        with patched(model.net, 2, pos, other[rows, pos]):
            moved, _ = model.net(ids)
        after, _ = model.net(ids)
    assert torch.allclose(before, same, atol=1e-5)
    assert not torch.allclose(before, moved, atol=1e-3)
    assert torch.equal(before, after)  # the hook is gone


def test_retarget_at_the_embedding_is_the_moved_prompt_and_controls_hold(model, tasks):
    got = _rates(retarget(model, tasks, sites=[0, 1, model.net.config.n_layer], seed=0))
    assert got[("retarget", 0)].k == got[("unedited_new_target", None)].k  # same input, same paths
    assert got[("retarget_prompt", 0)].k == got[("unedited_new_target", None)].k
    assert got[("unedited_new_target", None)].rate >= 0.8  # the tiny model solves 5x5
    assert got[("self_patch", 1)].k == got[("unedited", None)].k
    for site in (0, 1, model.net.config.n_layer):
        assert got[("retarget_random_cells", site)].rate <= 0.1
        assert got[("retarget", site)].n == len(tasks)



def test_the_world_model_edit_blocks_the_old_path_and_keeps_the_maze_perfect(tasks):
    from maze_env.solve import shortest_path

    edited, cells = rerouted(tasks, seed=3)
    assert cells.shape == (len(tasks), 4, 2)
    for t, e, (a, b, u, v) in zip(tasks, edited, cells, strict=True):
        assert e.maze.is_perfect() and (e.origin, e.target) == (t.origin, t.target)
        assert t.maze.has_passage(tuple(a), tuple(b)) and not e.maze.has_passage(tuple(a), tuple(b))
        assert e.maze.has_passage(tuple(u), tuple(v)) and not t.maze.has_passage(tuple(u), tuple(v))
        old = [tuple(map(int, c)) for c in shortest_path(t.maze, t.origin, t.target)]
        assert any(not e.maze.has_passage(p, q) for p, q in zip(old[:-1], old[1:], strict=True))  # blocked
    again, _ = rerouted(tasks, seed=3)
    assert [x.maze for x in again] == [x.maze for x in edited]  # seeded


def test_reroute_at_the_embedding_is_the_edited_maze_itself(model, tasks):
    got = _rates(retarget(model, tasks, sites=[0, 2], seed=0))
    assert got[("reroute", 0)].k == got[("unedited_new_maze", None)].k
    assert got[("reroute_prompt", 0)].k == got[("unedited_new_maze", None)].k
    assert got[("unedited_new_maze", None)].rate >= 0.7
    assert got[("reroute_random_cells", 0)].rate == 0.0  # the old path runs through a wall
    assert got[("self_patch_reroute", 2)].k == got[("unedited", None)].k


def test_a_branch_twin_shares_the_path_to_cell_k_plus_1_and_then_turns(tasks):
    from agents.interp.plan_patching import branch_twins
    from maze_env.solve import shortest_path

    used, ks, twins = branch_twins(tasks, seed=1)
    assert len(used) >= len(tasks) // 2
    for i, k, twin in zip(used, ks, twins, strict=True):
        old = [tuple(map(int, c)) for c in shortest_path(tasks[i].maze, tasks[i].origin, tasks[i].target)]
        new = [tuple(map(int, c)) for c in shortest_path(twin.maze, twin.origin, twin.target)]
        assert twin.maze.is_perfect() and new[: k + 2] == old[: k + 2] and new[k + 2] != old[k + 2]


def test_plan_patching_controls_bound_the_rate(model, tasks):
    from agents.interp.plan_patching import plan_patching

    L = model.net.config.n_layer
    got = _rates(plan_patching(model, tasks, sites=[0, L], seed=0))
    assert got[("plan_unpatched", None)].rate >= 0.8 and got[("plan_twin", None)].rate >= 0.8
    for kind in ("plan_patch", "plan_patch_next", "plan_patch_other_maze"):
        assert got[(kind, 0)].rate == 0.0  # the same token at the embedding: nothing changes
    # the twin's residual at the step that writes the move, after the last block, is its move
    assert got[("plan_patch_next", L)].k == got[("plan_twin", None)].k
