"""numba kernels for the batched MCTS of :mod:`agents.search.mcts`: B trees held in arrays.

The layout follows mctx's ``Tree`` (B trees of ``M`` node slots each, children by action):

* ``cell[B, M]`` flat cell index of each node, ``parent[B, M]`` (-1 at the root),
  ``children[B, M, 4]`` (-1: not expanded), ``visits[B, M]``, ``value_sum[B, M]`` (float64),
  ``prior[B, M, 4]`` raw prior (non-negative, 0 where illegal or non-finite), ``dead[B, M]``,
  ``moves[B, M]`` bit fields of a node: bits 0-3 its legal moves (those not re-entering the path
  from the root, fixed for a node: set when it is added), bits 4-7 the moves whose child is proven
  dead, bits 8-9 the action that led to it; ``n_nodes[B]``;
* the mazes as ``nbr[B, C, 4]``: the flat index of the cell one move away (-1: wall), ``C`` the
  largest cell count in the batch; ``target[B]`` flat;
* ``mark[B, C]`` / ``stamp[B]``: the cells on the current simulation's path (and its rollout) are
  those with ``mark == stamp``; a new simulation bumps the stamp, so nothing is ever cleared.

Each stage is a function of one tree (``b``) so the batched kernels (a loop over ``b``, called
once per simulation with model calls between them) and the fused kernel (all simulations of all
trees in one call, when no model is involved) run the same code. Float arithmetic is written in
the same order as the reference search in the tests, so both give identical trajectories.

Randomness is counter-based: a rollout's stream is a function of (task seed, real move index,
simulation index) only (splitmix64), so results do not depend on the batch, its order or its split.
"""

from __future__ import annotations

import numba
import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
GUMBEL_SIM = 0xFFFFFFFF
"""The simulation index of the stream that draws a search's root Gumbel noise."""

ST_NEW, ST_TERMINAL, ST_DEAD = 0, 1, 2
"""Outcome of a descent: a new non-target leaf (to evaluate), the target, a node proven dead."""


@numba.njit(cache=True, inline="always")
def _mix(z):  # type: ignore[no-untyped-def]
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def stream_start(seed, move, sim):  # type: ignore[no-untyped-def]
    """The first state of the stream for (seed: uint64, move, sim) (see module docstring)."""
    key = (np.uint64(move) << np.uint64(32)) | np.uint64(sim)
    return _mix(np.uint64(seed) ^ _mix(key + _GOLDEN))


@numba.njit(cache=True, inline="always")
def _draw(state, n):  # type: ignore[no-untyped-def]
    """Advance ``state``; return ``(new state, a draw in [0, n))`` (multiply-shift on 32 bits)."""
    state = state + _GOLDEN
    r = _mix(state) >> np.uint64(32)
    return state, np.int64((r * np.uint64(n)) >> np.uint64(32))


@numba.njit(cache=True)
def gumbel_noise(seed, move, out):  # type: ignore[no-untyped-def]
    """Fill ``out[4]`` with standard Gumbel draws from the stream (seed, move, GUMBEL_SIM)."""
    state = stream_start(seed, move, GUMBEL_SIM)
    for a in range(4):
        state = state + _GOLDEN
        u = (np.float64(_mix(state) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
        out[a] = -np.log(-np.log(u))


# -- one tree ----------------------------------------------------------------------------------------
# The per-tree functions take the tree's rows (``cell[b]``, ``children[b]``, ...): 1-D / 2-D views.
# Indexing a view is cheaper than indexing the batch arrays with ``b`` (fewer live values), which
# made the fused kernel markedly faster in development timings.
@numba.njit(cache=True, inline="always")
def _only_move(live):  # type: ignore[no-untyped-def]
    """The action of the single set bit of ``live`` (a 4-bit move mask with one move)."""
    return 0 if live == 1 else (1 if live == 2 else (2 if live == 4 else 3))


@numba.njit(cache=True, inline="always")
def _open_moves(here, tgt, nbr, mark, st):  # type: ignore[no-untyped-def]
    """Legal-move bits of a new node at ``here``: moves to cells not on the simulation's own path
    (``mark[cell] == st``); none at the target, which ends the episode."""
    bits = 0
    if here != tgt:
        for a in range(4):
            nb = nbr[here, a]
            if nb >= 0 and mark[nb] != st:
                bits |= 1 << a
    return bits


@numba.njit(cache=True, inline="always")
def _new_node(cell_id, par, bits, cell, parent, children, visits, value_sum, dead, moves, n_nodes, b):  # type: ignore[no-untyped-def]  # fmt: skip
    node = n_nodes[b]
    n_nodes[b] = node + 1
    cell[node] = cell_id
    parent[node] = par
    for a in range(4):
        children[node, a] = -1
    visits[node] = 0
    value_sum[node] = 0.0
    dead[node] = False
    moves[node] = bits
    return node


@numba.njit(cache=True)
def reset_roots(active, roots, nbr, cell, parent, children, visits, value_sum, dead, moves, n_nodes):  # type: ignore[no-untyped-def]  # fmt: skip
    """Give each active tree a fresh root at ``roots[b]`` (flat cell); every open move is legal."""
    for b in active:
        n_nodes[b] = 0
        legal = 0
        for a in range(4):
            if nbr[b, roots[b], a] >= 0:
                legal |= 1 << a
        _new_node(roots[b], -1, legal, cell[b], parent[b], children[b], visits[b], value_sum[b],
                  dead[b], moves[b], n_nodes, b)  # fmt: skip


@numba.njit(cache=True)
def _mark_dead(node, parent, dead, moves):  # type: ignore[no-untyped-def]
    """Mark ``node`` dead, then every ancestor all of whose legal moves lead to dead nodes."""
    while node >= 0 and not dead[node]:
        dead[node] = True
        up = parent[node]
        if up < 0:
            break
        moves[up] |= (1 << ((moves[node] >> 8) & 3)) << 4
        bits = moves[up]
        if (bits >> 4) & bits & 15 != bits & 15:
            break
        node = up


@numba.njit(cache=True, inline="always")
def _legal_prior(node, a, legal, n_legal, prior, mix):  # type: ignore[no-untyped-def]
    """P(a) at ``node``: the raw prior renormalised over the ``legal`` moves, uniform mixed in."""
    total = 0.0
    for k in range(4):
        if legal & (1 << k):
            total += prior[node, k]
    uniform = 1.0 / n_legal
    p = prior[node, a] / total if total > 0 else uniform
    return (1.0 - mix) * p + mix * uniform


@numba.njit(cache=True, inline="always")
def _select_uct(node, live, children, visits, value_sum, c):  # type: ignore[no-untyped-def]
    """UCT among the ``live`` moves (two or more), Q min-max normalised over them.

    Fast paths that give the same answer as the full rule: the first unvisited live move wins
    (its score is infinite, ties go to action order); when every live child has Q = 0 (no return
    seen below them yet) the Q terms vanish and ``c * sqrt(ln N / n)`` is strictly decreasing in
    ``n``, so the least visited live move wins (the first of equals).
    """
    all_zero, fewest, fewest_a = True, 0, -1
    for a in range(4):
        if live & (1 << a):
            k = children[node, a]
            if k < 0 or visits[k] == 0:
                return a
            if value_sum[k] != 0.0:
                all_zero = False
            if fewest_a < 0 or visits[k] < fewest:
                fewest, fewest_a = visits[k], a
    if all_zero:
        return fewest_a
    lo, hi, seen = 0.0, 0.0, False
    for a in range(4):
        if live & (1 << a):
            k = children[node, a]
            q = value_sum[k] / visits[k]
            if not seen:
                lo, hi, seen = q, q, True
            else:
                lo, hi = min(lo, q), max(hi, q)
    scale = 1.0 / (hi - lo) if hi - lo > 1e-9 else 0.0
    explore = np.log(np.float64(max(visits[node], 1)))
    best, best_score = -1, -np.inf
    for a in range(4):
        if live & (1 << a):
            k = children[node, a]
            n = visits[k]
            score = (value_sum[k] / n - lo) * scale + c * np.sqrt(explore / n)
            if score > best_score:
                best, best_score = a, score
    return best


@numba.njit(cache=True, inline="always")
def _select_puct(node, legal, live, children, visits, value_sum, prior, c, mix):  # type: ignore[no-untyped-def]  # fmt: skip
    """PUCT among the ``live`` moves, ``Q + c * P(a) * sqrt(N) / (1 + n)``, Q min-max normalised
    over the visited live children (0 for unvisited moves); ties to the higher prior, then order."""
    n_legal = (legal & 1) + ((legal >> 1) & 1) + ((legal >> 2) & 1) + (legal >> 3)
    lo, hi, seen = 0.0, 0.0, False
    for a in range(4):
        if live & (1 << a):
            k = children[node, a]
            if k >= 0 and visits[k] > 0:
                q = value_sum[k] / visits[k]
                if not seen:
                    lo, hi, seen = q, q, True
                else:
                    lo, hi = min(lo, q), max(hi, q)
    scale = 1.0 / (hi - lo) if hi - lo > 1e-9 else 0.0
    explore = np.sqrt(np.float64(max(visits[node], 1)))
    best, best_score, best_p = -1, -np.inf, -np.inf
    for a in range(4):
        if live & (1 << a):
            k = children[node, a]
            n = visits[k] if k >= 0 else 0
            q = (value_sum[k] / visits[k] - lo) * scale if n > 0 else 0.0
            p = _legal_prior(node, a, legal, n_legal, prior, mix)
            score = q + c * p * explore / (1.0 + n)
            if score > best_score or (score == best_score and p > best_p):
                best, best_score, best_p = a, score, p
    return best


# -- Gumbel root (Danihelka et al. 2022; mctx's gumbel_muzero_policy) ----------------------------
@numba.njit(cache=True)
def _completed_q(valid, children, visits, value_sum, probs, raw_value, out):  # type: ignore[no-untyped-def]
    """sigma(completed Q) at the root into ``out[4]`` (mctx's qtransform_completed_by_mix_value).

    Unvisited moves get the mixed value ``(v + sum_n * sum_visited(p q) / sum_visited(p)) /
    (sum_n + 1)``; Q is rescaled to [0, 1] over the valid moves and scaled by
    ``(50 + max n) * 0.1``.
    """
    sum_n, max_n, sum_p, wq = 0, 0, 0.0, 0.0
    for a in range(4):
        k = children[0, a]
        if valid & (1 << a) and k >= 0 and visits[k] > 0:
            sum_n += visits[k]
            max_n = max(max_n, visits[k])
            sum_p += max(probs[a], 1e-30)
    for a in range(4):
        k = children[0, a]
        if valid & (1 << a) and k >= 0 and visits[k] > 0:
            wq += max(probs[a], 1e-30) * (value_sum[k] / visits[k]) / sum_p
    mixed = (raw_value + sum_n * wq) / (sum_n + 1.0)
    lo, hi = np.inf, -np.inf
    for a in range(4):
        out[a] = 0.0
        if valid & (1 << a):
            k = children[0, a]
            out[a] = value_sum[k] / visits[k] if k >= 0 and visits[k] > 0 else mixed
            lo, hi = min(lo, out[a]), max(hi, out[a])
    for a in range(4):
        if valid & (1 << a):
            out[a] = (50.0 + max_n) * 0.1 * (out[a] - lo) / max(hi - lo, 1e-8)


@numba.njit(cache=True)
def gumbel_scores(valid, considered_visit, children, visits, value_sum, prior, mix, use_prior,
                  gumbel, sh_visits, raw_value, out):  # type: ignore[no-untyped-def]  # fmt: skip
    """``gumbel + logits + sigma(completed Q)`` at the root of one tree for the ``valid`` moves with
    ``considered_visit`` visits this search (-inf for the others) into ``out[4]``; returns how
    many are finite."""
    n_valid = (valid & 1) + ((valid >> 1) & 1) + ((valid >> 2) & 1) + (valid >> 3)
    probs = np.zeros(4)
    top = -np.inf
    for a in range(4):
        if valid & (1 << a):
            probs[a] = (
                _legal_prior(0, a, valid, n_valid, prior, mix) if use_prior else 1.0 / n_valid
            )
            top = max(top, np.log(max(probs[a], 1e-30)))
    sigma = np.empty(4)
    _completed_q(valid, children, visits, value_sum, probs, raw_value, sigma)
    finite = 0
    for a in range(4):
        out[a] = -np.inf
        if valid & (1 << a) and sh_visits[a] == considered_visit:
            logit = np.log(max(probs[a], 1e-30)) - top
            out[a] = max(-1e9, gumbel[a] + logit + sigma[a])
            finite += 1
    return finite


@numba.njit(cache=True)
def _gumbel_select(live, table, n_considered, children, visits, value_sum, prior, mix, use_prior,
                   gumbel, sh_visits, raw_value):  # type: ignore[no-untyped-def]  # fmt: skip
    """Sequential halving at the root: the best-scoring move among those due another visit."""
    scores = np.empty(4)
    done = sh_visits[0] + sh_visits[1] + sh_visits[2] + sh_visits[3]  # root selections so far
    considered = table[n_considered, min(done, table.shape[1] - 1)]
    if gumbel_scores(live, considered, children, visits, value_sum, prior, mix, use_prior, gumbel,
                     sh_visits, raw_value, scores) == 0:  # fmt: skip
        # the moves due a visit are proven dead: the least visited live move this search
        fewest = 1 << 30
        for a in range(4):
            if live & (1 << a):
                fewest = min(fewest, sh_visits[a])
        gumbel_scores(live, fewest, children, visits, value_sum, prior, mix, use_prior, gumbel,
                      sh_visits, raw_value, scores)  # fmt: skip
    best, best_score = -1, -np.inf
    for a in range(4):
        if live & (1 << a) and (best < 0 or scores[a] > best_score):
            best, best_score = a, scores[a]
    sh_visits[best] += 1
    return best


# -- the stages, on one tree ------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def select_one(st, nbr, tgt, cell, parent, children, visits, value_sum, prior, dead, moves, n_nodes,
               b, mark, c, mix, use_prior, root_gumbel, table, n_considered, gumbel, sh_visits,
               raw_value):  # type: ignore[no-untyped-def]  # fmt: skip
    """Select down one tree and expand: returns ``(leaf node, status, leaf has legal moves)``.

    ``st`` is this simulation's stamp: cells with ``mark == st`` are on its path, and no move
    re-enters them. A node whose legal moves all lead to proven-dead nodes (or that has none) is
    marked dead (status ST_DEAD); reaching the target gives ST_TERMINAL; otherwise a new node is
    added (ST_NEW).
    """
    node = 0
    mark[cell[0]] = st
    while True:
        here = cell[node]
        if here == tgt:
            return node, ST_TERMINAL, False
        bits = moves[node]
        legal = bits & 15
        live = legal & ~(bits >> 4) & 15
        if live == 0:
            _mark_dead(node, parent, dead, moves)
            return node, ST_DEAD, False
        if node == 0 and root_gumbel:
            a = _gumbel_select(live, table, n_considered, children, visits, value_sum, prior, mix,
                               use_prior, gumbel, sh_visits, raw_value)  # fmt: skip
        elif live & (live - 1) == 0:  # one live move
            a = _only_move(live)
        elif use_prior:
            a = _select_puct(node, legal, live, children, visits, value_sum, prior, c, mix)
        else:
            a = _select_uct(node, live, children, visits, value_sum, c)
        nb = nbr[here, a]
        mark[nb] = st
        child = children[node, a]
        if child < 0:
            new_legal = _open_moves(nb, tgt, nbr, mark, st)
            new = _new_node(nb, node, new_legal | (a << 8), cell, parent, children, visits,
                            value_sum, dead, moves, n_nodes, b)  # fmt: skip
            children[node, a] = new
            if nb == tgt:
                return new, ST_TERMINAL, False
            return new, ST_NEW, new_legal != 0
        node = child


@numba.njit(cache=True)
def rollout_one(node, nbr, tgt, cell, mark, st, depth, discount, seed, move, sim):  # type: ignore[no-untyped-def]  # fmt: skip
    """Random walk from ``node``'s cell avoiding the simulation's path (``mark == st``) and its own
    cells. Returns ``(discounted return, moves made)``: ``discount ** (k - 1)`` if it enters the
    target on move ``k`` (of at most ``depth``), else 0. A draw is made only where there is a choice.
    """
    here = cell[node]
    state = stream_start(seed, move, sim)
    for k in range(1, depth + 1):
        n, only = 0, -1
        for a in range(4):
            nb = nbr[here, a]
            if nb >= 0 and mark[nb] != st:
                n += 1
                only = nb
        if n == 0:
            return 0.0, k - 1
        if n > 1:  # the i-th open option, in action order
            state, i = _draw(state, n)
            for a in range(4):
                nb = nbr[here, a]
                if nb >= 0 and mark[nb] != st:
                    if i == 0:
                        only = nb
                        break
                    i -= 1
        here = only
        if here == tgt:
            return discount ** np.float64(k - 1), k
        mark[here] = st
    return 0.0, depth


@numba.njit(cache=True, inline="always")
def backup_one(node, value, tgt, cell, parent, visits, value_sum, discount):  # type: ignore[no-untyped-def]  # fmt: skip
    """Add the return to every node from ``node`` to the root (reward 1 for entering the target)."""
    ret = value
    if node > 0:  # only a leaf can be the target (the target ends every path)
        ret = (1.0 if cell[node] == tgt else 0.0) + discount * ret
    visits[node] += 1
    value_sum[node] += ret
    node = parent[node]
    while node >= 0:
        if node > 0:
            ret = discount * ret  # (0 + discount * ret: the same float)
        visits[node] += 1
        value_sum[node] += ret
        node = parent[node]


# -- batched stages (one call per simulation, model calls in between) -------------------------------
@numba.njit(cache=True)
def select_batch(active, nbr, target, cell, parent, children, visits, value_sum, prior, dead, moves,
                 n_nodes, mark, stamp, c, mix, use_prior, root_gumbel, table, n_considered,
                 gumbel, sh_visits, raw_value, leaf, status, has_moves):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`select_one` on every tree in ``active``, into ``leaf[B]``, ``status[B]``, ``has_moves[B]``."""
    for b in active:
        stamp[b] += 1
        leaf[b], status[b], has_moves[b] = select_one(
            stamp[b], nbr[b], target[b], cell[b], parent[b], children[b], visits[b], value_sum[b],
            prior[b], dead[b], moves[b], n_nodes, b, mark[b], c, mix, use_prior, root_gumbel,
            table, n_considered[b], gumbel[b], sh_visits[b], raw_value[b])  # fmt: skip


@numba.njit(cache=True)
def rollout_batch(rows, leaf, nbr, target, cell, mark, stamp, depth, discount, seed, move, sim,
                  values, steps):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`rollout_one` from ``leaf[b]`` for ``b`` in ``rows``: ``values[b]``, ``steps[b] +=``."""
    for b in rows:
        values[b], k = rollout_one(leaf[b], nbr[b], target[b], cell[b], mark[b], stamp[b],
                                   depth[b], discount, seed[b], move[b], sim)  # fmt: skip
        steps[b] += k


@numba.njit(cache=True)
def backup_batch(active, leaf, values, target, cell, parent, visits, value_sum, discount):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`backup_one` of ``values[b]`` from ``leaf[b]`` for ``b`` in ``active``."""
    for b in active:
        backup_one(leaf[b], values[b], target[b], cell[b], parent[b], visits[b], value_sum[b],
                   discount)  # fmt: skip


@numba.njit(cache=True, inline="always")
def _simulate_plain(st, i, rollout, nbr, tgt, cell, parent, children, visits, value_sum, dead, moves,
                    n_nodes, b, mark, c, depth, discount, seed, move):  # type: ignore[no-untyped-def]  # fmt: skip
    """One UCT simulation without prior or Gumbel root (the common case): the steps of
    :func:`select_one`, then :func:`rollout_one` and :func:`backup_one`, written as one loop
    with one exit (faster than the three calls in development timings: the compiler keeps it tight).
    Returns the rollout moves made."""
    node, steps, value = 0, 0, 0.0
    mark[cell[0]] = st
    while True:
        here = cell[node]
        if here == tgt:
            break
        bits = moves[node]
        live = bits & ~(bits >> 4) & 15
        if live == 0:
            _mark_dead(node, parent, dead, moves)
            break
        if live & (live - 1) == 0:  # one live move
            a = _only_move(live)
        else:
            a = _select_uct(node, live, children, visits, value_sum, c)
        nb = nbr[here, a]
        mark[nb] = st
        child = children[node, a]
        if child < 0:
            new_legal = _open_moves(nb, tgt, nbr, mark, st)
            new = _new_node(nb, node, new_legal | (a << 8), cell, parent, children, visits,
                            value_sum, dead, moves, n_nodes, b)  # fmt: skip
            children[node, a] = new
            node = new
            if rollout and nb != tgt:
                value, steps = rollout_one(node, nbr, tgt, cell, mark, st, depth, discount, seed,
                                           move, i)  # fmt: skip
            break
        node = child
    backup_one(node, value, tgt, cell, parent, visits, value_sum, discount)
    return steps


@numba.njit(cache=True)
def _sims_plain(n_sims, rollout, st0, nbr, tgt, cell, parent, children, visits, value_sum, dead,
                moves, n_nodes, b, mark, c, depth, discount, seed, move):  # type: ignore[no-untyped-def]  # fmt: skip
    """``n_sims`` UCT simulations on one tree (no prior, no Gumbel root), stamps ``st0 + 1, ...``;
    returns the rollout moves made."""
    steps = 0
    for i in range(n_sims):
        steps += _simulate_plain(st0 + 1 + i, i, rollout, nbr, tgt, cell, parent, children, visits,
                                 value_sum, dead, moves, n_nodes, b, mark, c, depth, discount,
                                 seed, move)  # fmt: skip
    return steps


@numba.njit(cache=True)
def _sims_general(n_sims, rollout, st0, nbr, tgt, cell, parent, children, visits, value_sum, prior,
                  dead, moves, n_nodes, b, mark, c, mix, use_prior, root_gumbel, table,
                  n_considered, gumbel, sh_visits, raw_value, depth, discount, seed, move):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`_sims_plain` with :func:`select_one` (a prior, a Gumbel root)."""
    steps = 0
    for i in range(n_sims):
        st = st0 + 1 + i
        node, status, _ = select_one(st, nbr, tgt, cell, parent, children, visits, value_sum, prior,
                                     dead, moves, n_nodes, b, mark, c, mix, use_prior, root_gumbel,
                                     table, n_considered, gumbel, sh_visits, raw_value)  # fmt: skip
        value = 0.0
        if rollout and status == ST_NEW:
            value, k = rollout_one(node, nbr, tgt, cell, mark, st, depth, discount, seed, move, i)
            steps += k
        backup_one(node, value, tgt, cell, parent, visits, value_sum, discount)
    return steps


@numba.njit(cache=True, inline="always")
def _simulate_tree(b, n_sims, rollout, nbr, target, cell, parent, children, visits, value_sum,
                   prior, dead, moves, n_nodes, mark, stamp, c, mix, use_prior, root_gumbel, table,
                   n_considered, gumbel, sh_visits, raw_value, depth, discount, seed, move, steps):  # type: ignore[no-untyped-def]  # fmt: skip
    st0 = stamp[b]
    stamp[b] = st0 + n_sims  # one stamp per simulation, as in the batched kernels
    if not use_prior and not root_gumbel:
        steps[b] += _sims_plain(n_sims, rollout, st0, nbr[b], target[b], cell[b], parent[b],
                                children[b], visits[b], value_sum[b], dead[b], moves[b], n_nodes,
                                b, mark[b], c, depth[b], discount, seed[b], move[b])  # fmt: skip
    else:
        steps[b] += _sims_general(n_sims, rollout, st0, nbr[b], target[b], cell[b], parent[b],
                                  children[b], visits[b], value_sum[b], prior[b], dead[b], moves[b],
                                  n_nodes, b, mark[b], c, mix, use_prior, root_gumbel, table,
                                  n_considered[b], gumbel[b], sh_visits[b], raw_value[b], depth[b],
                                  discount, seed[b], move[b])  # fmt: skip


@numba.njit(cache=True)
def simulate_fused(active, n_sims, rollout, nbr, target, cell, parent, children, visits, value_sum,
                   prior, dead, moves, n_nodes, mark, stamp, c, mix, use_prior, root_gumbel, table,
                   n_considered, gumbel, sh_visits, raw_value, depth, discount, seed, move, steps):  # type: ignore[no-untyped-def]  # fmt: skip
    """Every simulation of every active tree in one call (no model: leaves are rolled out or 0).

    The same stages in the same order per tree as the batched kernels, so the same result.
    """
    for b in active:
        _simulate_tree(b, n_sims, rollout, nbr, target, cell, parent, children, visits, value_sum,
                       prior, dead, moves, n_nodes, mark, stamp, c, mix, use_prior, root_gumbel,
                       table, n_considered, gumbel, sh_visits, raw_value, depth, discount, seed,
                       move, steps)  # fmt: skip


@numba.njit(cache=True, parallel=True)
def simulate_fused_parallel(active, n_sims, rollout, nbr, target, cell, parent, children, visits,
                            value_sum, prior, dead, moves, n_nodes, mark, stamp, c, mix, use_prior,
                            root_gumbel, table, n_considered, gumbel, sh_visits, raw_value, depth,
                            discount, seed, move, steps):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`simulate_fused` with the trees spread over numba's threads (trees share nothing
    they write, so the result is the same)."""
    for i in numba.prange(len(active)):
        _simulate_tree(active[i], n_sims, rollout, nbr, target, cell, parent, children, visits,
                       value_sum, prior, dead, moves, n_nodes, mark, stamp, c, mix, use_prior,
                       root_gumbel, table, n_considered, gumbel, sh_visits, raw_value, depth,
                       discount, seed, move, steps)  # fmt: skip


@numba.njit(cache=True)
def chains(rows, leaf, parent, cell, out, lengths):  # type: ignore[no-untyped-def]
    """Cells from below the root down to ``leaf[b]`` (flat) into ``out[i, :lengths[i]]``."""
    for i in range(len(rows)):
        b = rows[i]
        n, node = 0, leaf[b]
        while node > 0:
            n += 1
            node = parent[b, node]
        lengths[i] = n
        node = leaf[b]
        for j in range(n - 1, -1, -1):
            out[i, j] = cell[b, node]
            node = parent[b, node]


# -- the real moves ---------------------------------------------------------------------------------
@numba.njit(cache=True)
def advance(rows, nbr, target, path, length, on_real, limit, searching):  # type: ignore[no-untyped-def]
    """Walk every task in ``rows`` through cells with one open move (dead ends need no search).

    ``searching[b]`` becomes 1 where the task now stands on a cell with a choice, 0 where it is
    finished (on the target, out of moves, or boxed in), and 2 where it made a forced move and
    then needs a search (its tree, if any, no longer matches).
    """
    for b in rows:
        forced = False
        searching[b] = 0
        while True:
            here = path[b, length[b] - 1]
            if here == target[b] or length[b] > limit:
                break
            n, only = 0, -1
            for a in range(4):
                if nbr[b, here, a] >= 0:
                    n += 1
                    only = nbr[b, here, a]
            if n == 0:
                break
            if n == 1:
                path[b, length[b]] = only
                length[b] += 1
                on_real[b, only] = True
                forced = True
                continue
            searching[b] = 2 if forced else 1
            break


@numba.njit(cache=True)
def decide(rows, nbr, cell, children, visits, value_sum, dead, on_real, actions):  # type: ignore[no-untyped-def]
    """The root move not proven dead with the most visits (ties: higher Q, a cell not on the real
    path yet, action order) into ``actions[b]``."""
    for b in rows:
        here = cell[b, 0]
        best = -1
        b_alive, b_n, b_q, b_new = False, -1, 0.0, False
        for a in range(4):
            nb = nbr[b, here, a]
            if nb < 0:
                continue
            k = children[b, 0, a]
            alive = k < 0 or not dead[b, k]
            n = visits[b, k] if k >= 0 else 0
            q = value_sum[b, k] / visits[b, k] if k >= 0 and visits[b, k] > 0 else 0.0
            new = not on_real[b, nb]
            better = best < 0
            if not better and alive != b_alive:
                better = alive
            elif not better and n != b_n:
                better = n > b_n
            elif not better and q != b_q:
                better = q > b_q
            elif not better and new != b_new:
                better = new
            if better:
                best, b_alive, b_n, b_q, b_new = a, alive, n, q, new
        actions[b] = best


@numba.njit(cache=True)
def decide_gumbel(rows, nbr, cell, children, visits, value_sum, prior, dead, on_real, mix,
                  use_prior, gumbel, sh_visits, raw_value, actions):  # type: ignore[no-untyped-def]  # fmt: skip
    """Gumbel MuZero's choice: among live root moves with the most visits this search, the
    highest ``gumbel + logits + sigma(completed Q)``; :func:`decide` where every move is dead."""
    scores = np.empty(4)
    for b in rows:
        here = cell[b, 0]
        live, most = 0, -1
        for a in range(4):
            k = children[b, 0, a]
            if nbr[b, here, a] >= 0 and (k < 0 or not dead[b, k]):
                live |= 1 << a
                most = max(most, sh_visits[b, a])
        actions[b] = -1
        if live and gumbel_scores(live, most, children[b], visits[b], value_sum[b], prior[b], mix,
                                  use_prior, gumbel[b], sh_visits[b], raw_value[b], scores) > 0:  # fmt: skip
            best = -1
            for a in range(4):
                if scores[a] > -np.inf and (best < 0 or scores[a] > scores[best]):
                    best = a
            actions[b] = best
    rest = np.array([b for b in rows if actions[b] < 0], dtype=np.int64)
    decide(rest, nbr, cell, children, visits, value_sum, dead, on_real, actions)


@numba.njit(cache=True)
def step(rows, actions, nbr, path, length, on_real):  # type: ignore[no-untyped-def]
    """Make the move ``actions[b]`` on the real path of every task in ``rows``."""
    for b in rows:
        nb = nbr[b, path[b, length[b] - 1], actions[b]]
        path[b, length[b]] = nb
        length[b] += 1
        on_real[b, nb] = True


@numba.njit(cache=True)
def reroot(rows, actions, nbr, cell, parent, children, visits, value_sum, prior, has_prior, dead,
           moves, n_nodes, kept):  # type: ignore[no-untyped-def]  # fmt: skip
    """Keep the subtree below the move made as the next search's tree (``kept[b]``: its size, 0
    if the move's child was never expanded: then the tree is empty).

    The old root's cell is no longer on any simulation's path, so a node next to it (through an
    open passage, possible in mazes with loops) gains a legal move: its count grows and it and its
    ancestors lose a proven-dead mark (they may now reach the target that way).
    """
    m = cell.shape[1]
    order = np.empty(m, np.int64)
    new_of = np.empty(m, np.int64)
    t_i = np.empty((m, 4), np.int64)
    t_f = np.empty((m, 4), np.float64)
    for b in rows:
        start = children[b, 0, actions[b]]
        old_root = cell[b, 0]
        kept[b] = 0
        if start < 0:
            n_nodes[b] = 0
            continue
        order[0] = start
        new_of[start] = 0
        n, head = 1, 0
        while head < n:
            node = order[head]
            head += 1
            for a in range(4):
                k = children[b, node, a]
                if k >= 0:
                    new_of[k] = n
                    order[n] = k
                    n += 1
        # permute each node field through scratch space
        for i in range(n):
            t_i[i, 0] = cell[b, order[i]]
            t_i[i, 1] = new_of[parent[b, order[i]]] if i > 0 else -1
            t_i[i, 2] = visits[b, order[i]]
            t_i[i, 3] = moves[b, order[i]]
            t_f[i, 0] = value_sum[b, order[i]]
        for i in range(n):
            cell[b, i], parent[b, i], visits[b, i], moves[b, i] = (
                t_i[i, 0],
                t_i[i, 1],
                t_i[i, 2],
                t_i[i, 3],
            )
            value_sum[b, i] = t_f[i, 0]
        for i in range(n):
            t_i[i, 0] = dead[b, order[i]]
            t_i[i, 1] = has_prior[b, order[i]]
        for i in range(n):
            dead[b, i], has_prior[b, i] = t_i[i, 0] != 0, t_i[i, 1] != 0
        for i in range(n):
            for a in range(4):
                k = children[b, order[i], a]
                t_i[i, a] = new_of[k] if k >= 0 else -1
        for i in range(n):
            for a in range(4):
                children[b, i, a] = t_i[i, a]
        for i in range(n):
            for a in range(4):
                t_f[i, a] = prior[b, order[i], a]
        for i in range(n):
            for a in range(4):
                prior[b, i, a] = t_f[i, a]
        n_nodes[b] = n
        kept[b] = n
        for i in range(n):
            for a in range(4):
                if nbr[b, cell[b, i], a] == old_root:
                    moves[b, i] |= 1 << a
                    node = i
                    while node >= 0 and dead[b, node]:
                        dead[b, node] = False
                        up = parent[b, node]
                        if up >= 0:
                            moves[b, up] &= ~((1 << ((moves[b, node] >> 8) & 3)) << 4)
                        node = up
