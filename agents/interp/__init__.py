"""Interpretability: what the learned agents represent, and whether it is used.

``mazebench inspect CKPT --out DIR`` (:mod:`train.cmd_inspect`) runs, on one suite of mazes:

* :mod:`agents.interp.truth`: the ground truth a probe is asked for (passages, the shortest path,
  distances to the target, where the target is, the moves ahead), per task and cell.
* :mod:`agents.interp.activations`: activations of every learned agent, as rows of per-site
  matrices (the transformer's residual stream per layer at its cell tokens, ``<PATH_START>`` and
  path steps; the deep-thinking net's per-cell state per iteration; an RL policy's extractor
  features along the shortest path and, for the VIN, its value map per iteration), and the same
  architecture randomly initialised.
* :mod:`agents.interp.probes`: cross-validated linear probes split by maze, with a random-init
  and a shuffled-label control task (Hewitt & Liang 2019) and bootstrap intervals over test
  mazes; the look-ahead control that sees only the current cell's neighbourhood.
* :mod:`agents.interp.edits`: causal edits with controls: the VIN's goal map moved, the
  deep-thinking net's target moved after ``k`` iterations, the transformer's target cell tokens
  patched from a prompt whose target is elsewhere (and a random cell patched instead).
* :mod:`agents.interp.report`: ``inspect.json``, ``inspect.md`` and the figures.
* :mod:`agents.interp.pipeline`: all of it for one checkpoint.
"""
