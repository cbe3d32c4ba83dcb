"""The report's "Inside the models" table (agents.harness.inside, agents.interp.summary): each
learned agent's checkpoint inspect.json, four findings beside their controls; bad files skipped."""

from __future__ import annotations

import json

from agents.harness.figures import agent_labels as inside_labels
from agents.harness.inside import inside_table
from agents.interp.summary import QUESTIONS, findings


def _probe(target, site, layer, score, rand, **kw):
    return {"target": target, "site": site, "layer": layer, "score": score, "low": score - 0.05,
            "high": score + 0.05, "metric": "balanced_accuracy", "control_random_init": rand,
            "control_shuffled": 0.5, "n_train": 7, "n_test": 3, **kw}  # fmt: skip


def _edit(kind, layer, rate):
    return {"kind": kind, "layer": layer, "rate": rate, "k": int(100 * rate), "n": 100,
            "low": rate, "high": rate}  # fmt: skip


TRANSFORMER = {
    "kind": "transformer", "suite": "in_distribution", "n": 150,
    "probes": [_probe("on_path", "path_start", 3, 0.55, 0.5), _probe("on_path", "path_start", 7, 0.63, 0.52),
               _probe("passage", "path_start", 6, 0.51, 0.58),
               _probe("move_ahead", "path_step", 4, 0.82, 0.33, j=2, control_local=0.44),
               _probe("move_ahead", "path_step", 4, 0.97, 0.42, j=1, control_local=0.89)],
    "interventions": [_edit("unedited", None, 0.98), _edit("retarget", 0, 0.99), _edit("retarget", 1, 0.67),
                      _edit("retarget", 2, 0.0), _edit("retarget_random_cells", 0, 0.0),
                      _edit("retarget_random_cells", 1, 0.02), _edit("plan_patch", 3, 0.0)],
}  # fmt: skip


def test_findings_of_a_transformer_give_each_figure_beside_its_control():
    got = findings(TRANSFORMER)
    assert set(got) == set(QUESTIONS)
    assert got["route"] == "0.63 vs 0.52 random init (layer 7)"
    assert got["look-ahead"] == "j=2: 0.82 vs 0.44 local view; used: 0% at most (plan patch)"
    assert got["retarget"] == "99% at the embedding, 67% at most above it (site 1); random cells 2% at most"
    assert got["world model"] == "0.51 vs 0.58 random init (layer 6)"


def test_findings_of_the_recurrent_agents_read_their_own_edits():
    dt = {"kind": "deepthinking", "probes": [_probe("on_path", "state", 60, 1.0, 0.64),
                                             _probe("distance", "state", 60, 0.23, 0.02)],
          "interventions": [_edit("dt_unedited", 60, 1.0), _edit("dt_target_move", 0, 1.0),
                            _edit("dt_target_move", 30, 0.45)]}  # fmt: skip
    got = findings(dt)
    assert got["route"] == "1.00 vs 0.64 random init (iteration 60)"
    assert got["retarget"] == "target moved after k iterations, output follows: k=0: 100%, k=30: 45%"
    assert got["world model"].startswith("distance to target: 0.23 vs 0.02")
    vin = {"kind": "vin", "probes": [], "interventions": [
        _edit("vin_goal_edit", None, 0.68), _edit("vin_goal_edit_control_unedited", None, 0.23)]}
    assert findings(vin)["retarget"] == "reward map moved: 68% reach the new cell (unedited, on the way: 23%)"
    assert findings(vin)["route"] == "not measured"


def test_the_table_reads_checkpoints_with_an_inspect_json_and_skips_bad_ones(tmp_path):
    good, bad, none = tmp_path / "good", tmp_path / "bad", tmp_path / "none"
    for d in (good, bad, none):
        d.mkdir()
    (good / "inspect.json").write_text(json.dumps(TRANSFORMER))
    (bad / "inspect.json").write_text("{not json")
    agents = [f"mcts:prior={good},simulations=10"]  # a search on the model: the model's own row wins
    agents += [f"transformer:ckpt={d},decode=greedy" for d in (good, bad, none)] + ["bfs"]
    results = {"agents": [{"spec": s, "name": s} for s in agents]}
    header, rows = inside_table(results)
    assert header == ["agent", "measured on", *QUESTIONS]
    assert len(rows) == 1 and rows[0][1] == "in_distribution, n=150"
    assert rows[0][0] == inside_labels(results)[f"transformer:ckpt={good},decode=greedy"]
    assert rows[0][2] == "0.63 vs 0.52 random init (layer 7)"
    assert inside_table({"agents": [{"spec": "bfs", "name": "bfs"}]}) is None
