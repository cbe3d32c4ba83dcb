"""Every metric on hand-drawn mazes, against values worked out by hand (see the comments)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from agents.base import Trajectory
from agents.harness.metrics import (
    TaskMetrics,
    aggregate,
    best_reference_path,
    classify_move,
    compute_metrics,
    count_backtracks,
    judge_trajectory,
    reference_path,
    wilson_interval,
)
from agents.registry import make_agent
from maze_env import Task
from maze_env.solve import bfs_distances, task_distances
from tests.agents.test_search import FORK, FORK_PATH, LURE, LURE_GREEDY

# FORK (see tests/agents/test_search.py): S=(0,0), E=(2,3), optimal 7 moves along the top row
# and down the right; one fork, at S (right is correct, down enters a 4-cell dead-end branch
# (1,0) (1,1) (2,1) (2,0)). The wall under (0,1) separates it from (1,1).
WRONG = [(0, 0), (1, 0), (1, 1), (2, 1), (2, 0)]
BACK = [
    (0, 0),
    (1, 0),
    (0, 0),
    (0, 1),
    (0, 2),
    (0, 1),
    (0, 2),
    (0, 3),
    (1, 3),
    (1, 2),
    (2, 2),
    (2, 3),
]


@pytest.fixture
def fork() -> Task:
    return Task.from_ascii(FORK)


def test_optimal_path_scores_perfectly(fork):
    m = compute_metrics(fork, make_agent("bfs").solve(fork))
    assert (m.reached, m.exact, m.optimal_length, m.path_length, m.length_ratio) == (
        True,
        True,
        7,
        7,
        1.0,
    )
    assert (m.node_overlap, m.fork_accuracy, m.n_forks, m.valid_steps_fraction) == (
        1.0,
        1.0,
        1,
        1.0,
    )
    assert (m.first_invalid_step, m.backtracks, m.corner_jumps, m.end_distance) == (None, 0, 0, 0)
    assert m.nodes_expanded == 11 and m.seconds >= 0


def test_wrong_branch(fork):
    m = compute_metrics(fork, WRONG)
    # Shares only S with the 8 cells of the optimal path; took the wrong branch at the one fork;
    # ends at (2,0), 4 moves back to S plus 7 on: end distance 11.
    assert (m.reached, m.exact, m.length_ratio) == (False, False, None)
    assert m.node_overlap == 1 / 8
    assert (m.fork_accuracy, m.n_fork_decisions, m.n_fork_correct) == (0.0, 1, 0)
    assert (m.end_distance, m.path_length, m.valid_steps_fraction) == (11, 4, 1.0)


def test_backtracking_detour(fork):
    m = compute_metrics(fork, BACK)
    # Down and straight back (1 backtrack), right to (0,2) and back to (0,1) and again to (0,2)
    # (2 more); every re-entered cell is a revisit: S, (0,1), (0,2). 11 moves for an optimal 7;
    # every optimal cell is visited; the first move out of S (down) was wrong.
    assert (m.reached, m.exact, m.path_length, m.length_ratio) == (True, False, 11, 11 / 7)
    assert (m.backtracks, m.revisits, m.node_overlap, m.fork_accuracy) == (3, 3, 1.0, 0.0)
    assert count_backtracks(BACK) == (3, 3)


@pytest.mark.parametrize(
    "cells, kind, first, fraction, path, corner",
    [
        # (0,1) -> (1,1) crosses the wall under (0,1); the move after it is legal: 2 of 3 valid.
        ([(0, 0), (0, 1), (1, 1), (2, 1)], "wall", 1, 2 / 3, [(0, 0), (0, 1)], 0),
        # (0,1) -> (1,2) is a corner jump; the rest (including the arrival at E) is legal: 3 of 4.
        ([(0, 0), (0, 1), (1, 2), (2, 2), (2, 3)], "diagonal", 1, 3 / 4, [(0, 0), (0, 1)], 1),
        ([(0, 0), (0, 3)], "jump", 0, 0.0, [(0, 0)], 0),
        ([(0, 0), (0, 0), (0, 1)], "stay", 0, 1 / 2, [(0, 0)], 0),  # a wall bump: no move
        ([(0, 0), (0, -1)], "outside", 0, 0.0, [(0, 0)], 0),
        ([(0, 1), (0, 2)], "start", 0, 1.0, [(0, 0)], 0),  # does not begin at S
        ([], "start", 0, 1.0, [(0, 0)], 0),
    ],
)
def test_invalid_moves_end_the_judged_path(fork, cells, kind, first, fraction, path, corner):
    judged = judge_trajectory(fork, cells)
    assert (judged.invalid_kind, judged.first_invalid_step, judged.path) == (
        kind,
        first,
        tuple(path),
    )
    m = compute_metrics(fork, cells)
    assert m.valid_steps_fraction == pytest.approx(fraction) and m.corner_jumps == corner
    assert not m.reached  # even the diagonal one, which does arrive at E, is cut at the jump
    assert m.end_distance == int(bfs_distances(fork.maze, fork.target)[path[-1]])


def test_moves_after_the_target_are_ignored(fork):
    m = compute_metrics(fork, list(FORK_PATH) + [(2, 2), (1, 2)])
    assert m.exact and m.n_steps == 7 and m.backtracks == 0


def test_classify_move(fork):
    assert classify_move(fork.maze, (0, 0), (0, 1)) == "ok"
    assert classify_move(fork.maze, (0, 1), (1, 1)) == "wall"
    assert classify_move(fork.maze, (2, 3), (3, 3)) == "outside"


def test_loops_use_the_best_matching_shortest_path():
    task = Task.from_ascii(LURE)
    m = compute_metrics(task, LURE_GREEDY)
    # The only shortest path: S (1,0) (1,1) (2,1) (2,2) (2,3) (1,3) E, 8 cells; greedy's 9-move
    # path misses (2,1) only: overlap 7/8. Forks on it: (1,0) [(1,1) or (2,0)], (1,1) [(0,1)
    # or (2,1)], (2,2) [(1,2) or (2,3)]. Greedy goes (1,1) (right), (0,1) (wrong: 6 moves from E,
    # not 4), (2,3) (right): 2 of 3.
    assert (m.exact, m.length_ratio, m.node_overlap) == (False, 9 / 7, 7 / 8)
    assert (m.n_forks, m.n_fork_decisions, m.n_fork_correct, m.fork_accuracy) == (3, 3, 2, 2 / 3)


def test_several_shortest_paths_any_counts_and_overlap_picks_the_closest():
    # 2x3 open field, S=(0,0), E=(1,2): three shortest paths of 3 moves.
    task = Task.from_ascii("#######\n#S    #\n#     #\n#    E#\n#######")
    assert (task.origin, task.target) == ((0, 0), (1, 2))
    for path in (
        [(0, 0), (0, 1), (0, 2), (1, 2)],
        [(0, 0), (1, 0), (1, 1), (1, 2)],
        [(0, 0), (0, 1), (1, 1), (1, 2)],
    ):
        m = compute_metrics(task, path)
        assert m.exact and m.node_overlap == 1.0 and m.fork_accuracy == 1.0
    d_o, d_t = bfs_distances(task.maze, task.origin), bfs_distances(task.maze, task.target)
    # Nothing shared beyond S: the canonical path (first move in action order: right, right, down).
    assert best_reference_path(task.maze, [(0, 0)], d_o, d_t) == ((0, 0), (0, 1), (0, 2), (1, 2))
    assert best_reference_path(task.maze, [(1, 0), (1, 1)], d_o, d_t) == (
        (0, 0),
        (1, 0),
        (1, 1),
        (1, 2),
    )
    # the one recipe the report gallery and the explorer call: the same paths
    assert [d.tolist() for d in task_distances(task)] == [d_o.tolist(), d_t.tolist()]
    assert reference_path(task) == ((0, 0), (0, 1), (0, 2), (1, 2))
    assert reference_path(task, [(1, 0), (1, 1)]) == ((0, 0), (1, 0), (1, 1), (1, 2))
    assert reference_path(task, [(1, 0)], (d_o, d_t)) == ((0, 0), (1, 0), (1, 1), (1, 2))
    walled = Task.from_ascii("#####\n#S#E#\n#####")
    assert reference_path(walled) is None


def test_target_region(fork):
    # Region = bottom-left cell (2,0), off every shortest path: the wrong branch ends there.
    m = compute_metrics(fork, WRONG, region="region:bl:1")
    assert (m.went_to_region, m.ended_in_region) == (True, True)
    bfs = compute_metrics(fork, FORK_PATH, region="region:bl:1")
    assert (bfs.went_to_region, bfs.ended_in_region) == (False, False)
    # A region on the optimal path ((0,1)) never counts: the optimal agent must cross it.
    mask = np.zeros((3, 4), dtype=bool)
    mask[0, 1] = True
    assert not compute_metrics(fork, FORK_PATH, region=mask).went_to_region
    # (1,0) is off the shortest path: BACK steps into it and out again, and still reaches E.
    mask[1, 0] = True
    m = compute_metrics(fork, BACK, region=mask)
    assert (m.went_to_region, m.ended_in_region) == (True, False)
    assert compute_metrics(fork, FORK_PATH).went_to_region is None
    with pytest.raises(ValueError, match="must match the maze"):
        compute_metrics(fork, FORK_PATH, region=np.zeros((2, 2), dtype=bool))


def test_unreachable_target():
    task = Task.from_ascii("#####\n#S#E#\n#####")
    m = compute_metrics(task, make_agent("bfs").solve(task))
    assert (m.reached, m.optimal_length, m.node_overlap, m.end_distance, m.gave_up) == (
        False,
        None,
        None,
        None,
        True,
    )


def test_counters_are_copied(fork):
    traj = Trajectory.from_cells(
        FORK_PATH, nodes_expanded=5, forward_passes=3, seconds=0.5, gave_up=False
    )
    m = compute_metrics(fork, traj)
    assert (m.nodes_expanded, m.forward_passes, m.seconds, m.gave_up) == (5, 3, 0.5, False)


def test_wilson_interval_known_values():
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert wilson_interval(5, 10) == pytest.approx((0.23659, 0.76341), abs=1e-5)
    assert wilson_interval(2, 3) == pytest.approx((0.20766, 0.93851), abs=1e-5)
    assert wilson_interval(10, 10)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_aggregate_by_hand(fork):
    rows = [
        compute_metrics(fork, FORK_PATH),
        compute_metrics(fork, WRONG),
        compute_metrics(fork, BACK),
    ]
    agg = aggregate(rows)
    assert agg["n_tasks"] == 3
    assert agg["reached"]["mean"] == pytest.approx(2 / 3) and agg["reached"]["k"] == 2
    assert (agg["reached"]["low"], agg["reached"]["high"]) == pytest.approx(
        (0.20766, 0.93851), abs=1e-5
    )
    assert agg["exact"]["mean"] == pytest.approx(1 / 3)
    assert agg["length_ratio"] == {"mean": pytest.approx((1 + 11 / 7) / 2), "n": 2}  # reached only
    assert agg["fork_accuracy"]["mean"] == pytest.approx(1 / 3)
    assert agg["fork_accuracy_pooled"]["mean"] == pytest.approx(1 / 3)
    assert agg["went_to_region"]["n"] == 0 and agg["went_to_region"]["mean"] is None
    assert agg["invalid"]["k"] == 0
    json.dumps(agg)  # JSON-serialisable
    assert aggregate([r.to_dict() for r in rows]) == agg  # rows from predictions.jsonl work too


def test_task_metrics_round_trip(fork):
    m = compute_metrics(fork, WRONG, region="region:bl:1")
    assert TaskMetrics.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    with pytest.raises(ValueError, match="missing fields"):
        TaskMetrics.from_dict({"reached": True})


@pytest.mark.parametrize(
    "cells, kind",
    [
        (FORK_PATH, None),  # exact: no failure
        (WRONG, "wrong_turn"),  # down at S, the fork (S has two open moves)
        (BACK, "wrong_turn"),  # also down at S first; it reached E later (a detour)
        ([(0, 0), (0, 1), (0, 2), (0, 1)], "turned_back"),  # (0,2) is a corridor cell
        ([(0, 0), (0, 1), (0, 2)], "stopped"),  # every move right, then nothing
        ([(0, 0), (0, 1), (1, 1), (2, 1)], "wall"),  # right, then through the wall under (0,1)
        ([(0, 0), (0, 1), (1, 2), (2, 2), (2, 3)], "diagonal"),
        ([(0, 1), (0, 2)], "start"),
        ([(0, 0), (1, 0), (1, 2)], "wrong_turn"),  # the wrong turn comes before the jump
    ],
)
def test_failure_kind_names_the_first_error(fork, cells, kind):
    assert compute_metrics(fork, cells).failure_kind == kind


def test_failure_kinds_are_counted_and_old_rows_still_load(fork):
    rows = [compute_metrics(fork, c) for c in (FORK_PATH, WRONG, BACK, [(0, 0), (0, 1), (0, 2)])]
    assert aggregate(rows)["failure_kinds"] == {"stopped": 1, "wrong_turn": 2}
    old = rows[1].to_dict()
    del old["failure_kind"]  # a row written before the field existed
    assert TaskMetrics.from_dict(old).failure_kind is None
