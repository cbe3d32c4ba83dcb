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
from agents.interp.patching import patched, prompt_resid, retarget
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

