"""The suites' tasks of a run: generated ones from their recipe, user suites from their file, and
a run folder's suites rebuilt from its ``config.json``.

Both the runner (:mod:`agents.harness.runner`, which builds a run's tasks and finalizes it) and
the report (:mod:`agents.harness.report`, whose explorer rebuilds a folder's tasks) read the
suites through here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.harness.suites import Suite, SuiteData, build_suites, suite_from_dict
from agents.harness.user_suites import _suite_from_dict as _user_suite_from_dict
from agents.harness.user_suites import is_user_suite, take, user_suite_data


def suite_data(
    suites: Sequence[Suite],
    ns: Mapping[str, int],
    seed: int,
    cache_dir: str | Path | None = None,
    user_data: Mapping[str, SuiteData] | None = None,
) -> dict[str, SuiteData]:
    """Every suite's tasks, in ``suites`` order: generated ones from their recipe, user suites
    from ``user_data`` if given, else reloaded from their file (content hash checked); a user
    suite's first ``ns[name]`` tasks."""
    user_data = dict(user_data or {})
    generated = build_suites([s for s in suites if not is_user_suite(s)], ns, seed, cache_dir)
    out = {}
    for s in suites:
        if not is_user_suite(s):
            out[s.name] = generated[s.name]
        elif s.name in user_data:
            out[s.name] = SuiteData(s, take(user_data[s.name].dataset, ns[s.name]))
        else:
            out[s.name] = user_suite_data(s, ns[s.name])
    return out


def config_suite_data(config: Mapping[str, Any]) -> dict[str, SuiteData]:
    """Rebuild a run folder's suite data from its ``config.json`` dict (user suites included)."""
    suites = [
        _user_suite_from_dict(d) if is_user_suite(d) else suite_from_dict(d)
        for d in config["suites"]
    ]
    return suite_data(suites, config["n"], config["seed"])
