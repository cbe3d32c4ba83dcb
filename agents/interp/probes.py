"""Linear probes split by maze, with bootstrap intervals over the test mazes and control tasks.

A probe's data are rows ``X: float[N, F]`` with labels ``y: [N]`` (or ``[N, K]`` for a
multi-output probe) and ``groups: int[N]``, the maze each row comes from. Mazes, never rows, are
split into train and test (:func:`split_by_maze`); the regularisation is chosen by
cross-validation over train mazes (GroupKFold); scores are on the test mazes:

* ``"balanced_accuracy"`` (binary labels; LogisticRegression, class-balanced; a multi-output
  probe, RidgeClassifier-style Ridge on +-1 labels, scores the mean over outputs with both classes
  in the test rows), chance 0.5; integer labels (not bool) are classes: a multinomial
  LogisticRegression, class-balanced, scored by the mean recall over the classes present in the
  test rows, chance ``1 / n_classes`` (the look-ahead probes' moves: 0.25);
* ``"r2"`` (real labels; Ridge), chance <= 0.

The interval is a percentile bootstrap over test mazes: each resample draws mazes with
replacement and re-aggregates their per-maze sufficient statistics (no refit).

:func:`control_labels` is the Hewitt & Liang (2019) control task: each input type (e.g. a cell's
local input, 0..63) gets one random label drawn from the labels' distribution, consistently across
rows, so a probe that scores well on it memorises types rather than reading the feature.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

METRICS = ("balanced_accuracy", "r2")
ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)
CS = (0.01, 0.1, 1.0, 10.0)


@dataclass(frozen=True)
class Score:
    """A probe's test score and its 95% bootstrap interval.

    Attributes:
        score, low, high: on the test mazes (metric units: balanced accuracy 0..1, or R^2).
        n_train, n_test: mazes in each split.
    """

    score: float
    low: float
    high: float
    n_train: int
    n_test: int


def split_by_maze(n_mazes: int, test_frac: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` maze indices: a random ``test_frac`` of ``n_mazes`` (at least 2 each)."""
    if n_mazes < 4:
        raise ValueError(f"a probe needs at least 4 mazes (2 train, 2 test), got {n_mazes}")
    perm = np.random.default_rng(seed).permutation(n_mazes)
    k = min(max(2, round(test_frac * n_mazes)), n_mazes - 2)
    return np.sort(perm[k:]), np.sort(perm[:k])


def control_labels(y: np.ndarray, types: np.ndarray, seed: int = 0) -> np.ndarray:
    """Control-task labels: each distinct value of ``types: int[N]`` is mapped to one label drawn
    from ``y: [N]`` (so the control keeps the labels' distribution), the same for every row of
    that type."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    uniq, inv = np.unique(np.asarray(types), return_inverse=True)
    drawn = y[rng.integers(0, len(y), size=len(uniq))]
    return drawn[inv.reshape(-1)]


def _standardise(tr: np.ndarray, te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = tr.mean(0), tr.std(0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    return (tr - mu) / sd, (te - mu) / sd


def _cv(groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    k = min(3, len(np.unique(groups)))
    return list(GroupKFold(n_splits=k).split(np.zeros(len(groups)), groups=groups))


def _predict(X: np.ndarray, y: np.ndarray, groups: np.ndarray, train: np.ndarray, metric: str) -> np.ndarray:
    """Predictions for the rows not in ``train`` (boolean row mask), from a probe fit on ``train``."""
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV

    Xtr, Xte = _standardise(X[train], X[~train])
    ytr = y[train]
    if metric == "r2" or ytr.ndim == 2:
        target = ytr.astype(np.float64) if metric == "r2" else np.where(ytr, 1.0, -1.0)
        cv = _cv(groups[train]) if ytr.ndim == 1 else None  # multi-output: rows are mazes (LOO)
        model = RidgeCV(alphas=ALPHAS, cv=cv).fit(Xtr, target)
        pred = model.predict(Xte)
        # +-1 targets: cut at the training mean (the midpoint a balanced score wants), not at 0
        return pred if metric == "r2" else pred > target.mean(0)
    classes = _is_classes(ytr)
    if len(np.unique(ytr)) < 2:
        return np.full(len(Xte), ytr[0] if classes else bool(ytr[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegressionCV(
            Cs=list(CS), cv=_cv(groups[train]), class_weight="balanced", max_iter=300,
            scoring="balanced_accuracy",
        ).fit(Xtr, ytr if classes else ytr.astype(bool))  # fmt: skip
    pred = model.predict(Xte)
    return pred if classes else pred.astype(bool)


def _is_classes(y: np.ndarray) -> bool:
    """Integer (not bool) labels of one output: a multi-class probe."""
    return y.ndim == 1 and y.dtype.kind in "iu"


def _stats(
    y: np.ndarray, pred: np.ndarray, groups: np.ndarray, mazes: np.ndarray, metric: str,
    classes: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Per-test-maze sufficient statistics ``float[M, ...]`` (see :func:`_aggregate`); with
    ``classes`` (the labels of a multi-class probe) ``float[M, K, 2]``, hits and rows per class."""
    index = {m: i for i, m in enumerate(mazes)}
    rows = np.array([index[g] for g in groups])
    if metric == "r2":
        y = y.astype(np.float64)
        parts = np.stack([np.ones_like(y), y, y * y, (y - pred) ** 2], axis=-1)  # [N, 4]
    elif classes is not None:  # per class: [hits, rows], [N, K, 2]
        onehot = (y[:, None] == classes[None]).astype(np.float64)
        parts = np.stack([onehot * (pred == y)[:, None], onehot], axis=-1)
    else:
        y, pred = y.astype(bool), pred.astype(bool)
        parts = np.stack([y & pred, y & ~pred, ~y & ~pred, ~y & pred], axis=-1).astype(np.float64)
    out = np.zeros((len(mazes), *parts.shape[1:]))
    np.add.at(out, rows, parts)
    return out


def _aggregate(s: np.ndarray, metric: str, multi: bool = False, classes: bool = False) -> np.ndarray:
    """Scores of summed statistics ``s: [..., 4]`` (``[..., K, 4]`` when ``multi``: the mean over
    the ``K`` outputs with a defined score; ``[..., K, 2]`` when ``classes``: the mean recall over
    the classes with rows)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if classes:
            hits, rows = np.moveaxis(s, -1, 0)
            return np.nanmean(np.where(rows > 0, hits / np.maximum(rows, 1), np.nan), axis=-1)
        if metric == "r2":
            n, sy, syy, res = np.moveaxis(s, -1, 0)
            tot = syy - sy * sy / n
            out = np.where(tot > 1e-12, 1.0 - res / tot, np.nan)
        else:
            tp, fn, tn, fp = np.moveaxis(s, -1, 0)
            out = 0.5 * (tp / (tp + fn) + tn / (tn + fp))
        return np.nanmean(out, axis=-1) if multi else out


def probe(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    metric: str,
    test_mazes: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
) -> Score:
    """Fit a probe on the rows of mazes not in ``test_mazes`` and score it on the rest.

    Args:
        X: ``float[N, F]`` features.
        y: ``[N]`` labels (bool for balanced accuracy, int classes for the multi-class balanced
            accuracy, real for r2) or ``bool[N, K]`` (multi-output).
        groups: ``int[N]`` maze of each row.
        metric: one of :data:`METRICS`.
        test_mazes: maze ids held out.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    X = np.asarray(X, dtype=np.float64)
    y, groups = np.asarray(y), np.asarray(groups)
    test = np.isin(groups, test_mazes)
    mazes = np.unique(groups[test])
    train_mazes = np.unique(groups[~test])
    pred = _predict(X, y, groups, ~test, metric)
    classes = np.unique(y) if metric == "balanced_accuracy" and _is_classes(y) else None
    s = _stats(y[test], pred, groups[test], mazes, metric, classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        multi, cls = y.ndim == 2, classes is not None
        score = float(_aggregate(s.sum(0), metric, multi, cls))
        rng = np.random.default_rng(seed)
        w = rng.multinomial(len(mazes), np.full(len(mazes), 1.0 / len(mazes)), size=n_boot)
        boot = _aggregate(np.tensordot(w.astype(np.float64), s, axes=(1, 0)), metric, multi, cls)
        low, high = np.nanpercentile(boot, [2.5, 97.5]) if np.isfinite(boot).any() else (np.nan, np.nan)
    return Score(score, float(low), float(high), len(train_mazes), len(mazes))


def probe_record(
    target: str, site: str, layer: int, X: np.ndarray, Xr: np.ndarray, y: np.ndarray,
    groups: np.ndarray, types: np.ndarray, metric: str, test: np.ndarray, seed: int = 0,
    j: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """One ``probes[]`` record: the probe on ``X``, on the random-init model's ``Xr``, and on the
    control-task labels of ``types`` (same rows, same split)."""
    main = probe(X, y, groups, metric, test, seed=seed)
    rand = probe(Xr, y, groups, metric, test, seed=seed)
    shuf = probe(X, control_labels(y, types, seed), groups, metric, test, seed=seed)
    return {
        "target": target, "site": site, "layer": int(layer), "j": j,
        "score": main.score, "low": main.low, "high": main.high, "metric": metric,
        "control_random_init": rand.score, "control_shuffled": shuf.score,
        "control_random_init_interval": [rand.low, rand.high],
        "control_shuffled_interval": [shuf.low, shuf.high],
        "n_train": main.n_train, "n_test": main.n_test,
    }  # fmt: skip
