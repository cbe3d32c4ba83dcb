"""Bad inputs to the ``mazebench`` CLI: every one must end in one line, never a traceback.

Runs each case of :data:`CASES` in a fresh temporary folder (with its fixture files) through the
installed ``mazebench`` entry point and checks: exit code 2, stderr (blank lines ignored) is one
line starting ``mazebench <cmd>: error:`` without "Traceback", and nothing was lost (a file that
existed before is byte for byte the same after; a refused run folder gets no config.json).
Prints a markdown table and writes it to docs/BAD_INPUTS.md::

    .venv/bin/python benchmarks/bad_inputs.py [--only SUBSTRING]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAZEBENCH = str(Path(sys.executable).with_name("mazebench"))
DT_CKPT = ROOT / "checkpoints" / "deepthinking_graph_s2"
SEARCH = ["--agents", "bfs", "--n", "3", "--no-progress"]
"""A tiny comparison's settings (three tasks, one cheap agent)."""


@dataclass
class Case:
    name: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    """Fixture files (relative path -> content) written before the command; they must survive."""
    setup: Callable[[Path], None] | None = None
    no_config: str | None = None
    """A run folder that must hold no config.json afterwards (refused before writing)."""
    code: int = 2
    prog: str | None = None
    """The expected error prefix's program (default ``mazebench <first argument>``)."""


def _copy_ckpt(damage: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        dst = tmp / "ckpt"
        shutil.copytree(DT_CKPT, dst, ignore=shutil.ignore_patterns("tb", "bench", "checkpoint"))
        if damage == "meta":
            (dst / "meta.json").write_text('{"schema": 1, "kind": ')
        elif damage == "weights":
            data = (dst / "model.safetensors").read_bytes()
            (dst / "model.safetensors").write_bytes(data[: len(data) // 3])

    return setup


def _run_folder(tmp: Path) -> None:
    """A tiny finished run folder in runs/ok (made with the CLI itself)."""
    subprocess.run(
        [MAZEBENCH, "compare", "--suites", "size_4", *SEARCH, "--no-report", "--out", "runs/ok"],
        cwd=tmp, check=True, capture_output=True,
    )  # fmt: skip


def _damaged_run(which: str, text: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        _run_folder(tmp)
        (tmp / "runs" / "ok" / which).write_text(text)

    return setup


RANDOM = bytes(range(256)) * 8
SHAPE_BAD = "suites:\n  - {name: mine, generator: dfs, shape: [-3, 0]}\n"


def _suite_file(**fields: str) -> dict[str, str | bytes]:
    body = ", ".join(f"{k}: {v}" for k, v in {"name": "mine", "generator": "dfs",
                                              "shape": "[5, 5]", **fields}.items())  # fmt: skip
    return {"s.yaml": f"suites:\n  - {{{body}}}\n"}


def _compare_file(name: str, out: str = "runs/p", **fields: str) -> Case:
    return Case(
        name,
        ["compare", *SEARCH, "--suites-file", "s.yaml", "--suites", "mine", "--out", out],
        files=_suite_file(**fields), no_config=out,
    )  # fmt: skip


CASES = [
    # -- compare: files ---------------------------------------------------------------------
    Case("suites file not YAML", ["compare", *SEARCH, "--suites-file", "bad.yaml",
         "--out", "runs/a"], {"bad.yaml": "not: [valid\n"}, no_config="runs/a"),  # fmt: skip
    Case("suites file a list of strings", ["compare", *SEARCH, "--suites-file", "list.yaml",
         "--out", "runs/a"], {"list.yaml": "- a\n- b\n"}, no_config="runs/a"),  # fmt: skip
    Case("suites file a scalar", ["compare", *SEARCH, "--suites-file", "x.yaml", "--out",
         "runs/a"], {"x.yaml": "3\n"}, no_config="runs/a"),  # fmt: skip
    Case("suites file bad JSON", ["compare", *SEARCH, "--suites-file", "s.json", "--out",
         "runs/a"], {"s.json": '{"suites": ['}, no_config="runs/a"),  # fmt: skip
    Case("suites file missing", ["compare", *SEARCH, "--suites-file", "nope.yaml", "--out",
         "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("suites file is a folder", ["compare", *SEARCH, "--suites-file", "runs", "--out",
         "runs/a"], {"runs/keep": "x"}, no_config="runs/a"),  # fmt: skip
    Case("suites .npz random bytes", ["compare", *SEARCH, "--suites-file", "m.npz", "--out",
         "runs/a"], {"m.npz": RANDOM}, no_config="runs/a"),  # fmt: skip
    Case("suites AOTP text garbage", ["compare", *SEARCH, "--suites-file", "m.txt", "--out",
         "runs/a"], {"m.txt": "hello world\n"}, no_config="runs/a"),  # fmt: skip
    Case("suites AOTP binary", ["compare", *SEARCH, "--suites-file", "m.txt", "--out",
         "runs/a"], {"m.txt": RANDOM}, no_config="runs/a"),  # fmt: skip
    _compare_file("suite shape [-3, 0]", shape="[-3, 0]"),
    _compare_file("suite shape of 3 numbers", shape="[3, 3, 3]"),
    _compare_file("suite unknown generator", generator="nope"),
    _compare_file("suite bad params", params="{p: 0.5}"),
    _compare_file("suite bad origin", origin='"cell:9,9"'),
    _compare_file("suite n: -5", n="-5"),
    _compare_file("suite n: many", n="many"),
    _compare_file("suite unknown key", colour="red"),
    _compare_file("suite bad disjoint_from", disjoint_from="[nope]"),
    Case("--out is a file", ["compare", *SEARCH, "--suites", "in_distribution", "--out",
         "runs/f"], {"runs/f": "keep me"}),  # fmt: skip
    Case("--cache-dir is a file", ["compare", *SEARCH, "--suites", "in_distribution",
         "--cache-dir", "runs/f", "--out", "runs/b"], {"runs/f": "keep me"}),  # fmt: skip
    Case("--out unwritable", ["compare", *SEARCH, "--suites", "size_4", "--out",
         "/proc/mazebench_run"]),  # fmt: skip
    Case("corrupt config.json in --out", ["compare", *SEARCH, "--suites", "size_4", "--out",
         "runs/ok"], setup=_damaged_run("config.json", "{not json")),  # fmt: skip
    Case("other settings in --out", ["compare", *SEARCH, "--suites", "size_4", "--seed", "5",
         "--out", "runs/ok"], setup=_run_folder),  # fmt: skip
    # -- compare: arguments ------------------------------------------------------------------
    Case("--n many", ["compare", "--agents", "bfs", "--n", "many", "--out", "runs/a"]),
    Case("--n 0", ["compare", "--agents", "bfs", "--suites", "size_4", "--n", "0", "--out",
         "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("--n -3", ["compare", "--agents", "bfs", "--suites", "size_4", "--n", "-3", "--out",
         "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("--workers 0", ["compare", *SEARCH, "--suites", "size_4", "--workers", "0", "--out",
         "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("--workers two", ["compare", *SEARCH, "--workers", "two", "--out", "runs/a"]),
    Case("unknown agent", ["compare", "--agents", "nope", "--suites", "size_4", "--n", "3",
         "--out", "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("bad agent parameter", ["compare", "--agents", "bfs:foo=1", "--suites", "size_4",
         "--n", "3", "--out", "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("bad agent spec JSON", ["compare", "--agents", "mcts:simulations=[", "--suites",
         "size_4", "--n", "3", "--out", "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("unknown suite", ["compare", *SEARCH, "--suites", "nope", "--out", "runs/a"],
         no_config="runs/a"),  # fmt: skip
    Case("--shard 3/2", ["compare", *SEARCH, "--suites", "size_4", "--shard", "3/2", "--out",
         "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("--shard x", ["compare", *SEARCH, "--suites", "size_4", "--shard", "x", "--out",
         "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("--address without ray", ["compare", *SEARCH, "--suites", "size_4", "--address",
         "h:1", "--out", "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("--merge without --out", ["compare", "--merge", "runs/x"]),
    Case("--merge of a missing folder", ["compare", "--merge", "runs/x", "--out", "runs/m"]),
    Case("missing checkpoint folder", ["compare", "--agents", "deepthinking:ckpt=nowhere",
         "--suites", "size_4", "--n", "3", "--out", "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("corrupt meta.json in a checkpoint", ["compare", "--agents", "deepthinking:ckpt=ckpt",
         "--suites", "size_4", "--n", "3", "--out", "runs/a"], setup=_copy_ckpt("meta"),
         no_config="runs/a"),  # fmt: skip
    Case("truncated model.safetensors", ["compare", "--agents", "deepthinking:ckpt=ckpt",
         "--suites", "size_4", "--n", "3", "--out", "runs/a"], setup=_copy_ckpt("weights"),
         no_config="runs/a"),  # fmt: skip
    # -- report ------------------------------------------------------------------------------
    Case("report: results.json without suites", ["report", "runs/ok"],
         setup=_damaged_run("results.json", '{"agents": 3}')),  # fmt: skip
    Case("report: results.json not JSON", ["report", "runs/ok"],
         setup=_damaged_run("results.json", "{")),  # fmt: skip
    Case("report: results.json a list", ["report", "runs/ok"],
         setup=_damaged_run("results.json", "[1, 2]")),  # fmt: skip
    Case("report --recompute: corrupt config.json", ["report", "--recompute", "runs/ok"],
         setup=_damaged_run("config.json", "{not json")),  # fmt: skip
    Case("report: missing folder", ["report", "runs/none"]),
    Case("report: not a run folder", ["report", "runs"], {"runs/x": "x"}),
    # -- run ---------------------------------------------------------------------------------
    Case("run --config not YAML", ["run", "--config", "bad.yaml", "--out", "runs/r"],
         {"bad.yaml": "not: [valid\n"}),  # fmt: skip
    Case("run --config missing", ["run", "--config", "nope.yaml", "--out", "runs/r"]),
    Case("run --config a list", ["run", "--config", "l.yaml", "--out", "runs/r"],
         {"l.yaml": "- a\n"}),  # fmt: skip
    Case("run --n many", ["run", "--n", "many"]),
    Case("run --address without ray", ["run", "--config", "e.yaml", "--address", "h:1"],
         {"e.yaml": "name: e\nagents: [bfs]\nsuites: [size_4]\nn: 3\n"}),  # fmt: skip
    # -- generate ----------------------------------------------------------------------------
    Case("generate --out a folder", ["generate", "--n", "5", "--out", "runs"],
         {"runs/keep": "x"}),  # fmt: skip
    Case("generate --out unwritable", ["generate", "--n", "5", "--out", "/proc/m.npz"]),
    Case("generate --n 0", ["generate", "--n", "0"]),
    Case("generate --shape 0x0", ["generate", "--n", "5", "--shape", "0x0"]),
    Case("generate --param unknown", ["generate", "--n", "5", "--param", "zz=1"]),
    Case("generate --exclude random .npz", ["generate", "--n", "5", "--exclude", "m.npz"],
         {"m.npz": RANDOM}),  # fmt: skip
    Case("generate --config not YAML", ["generate", "--config", "bad.yaml"],
         {"bad.yaml": "not: [valid\n"}),  # fmt: skip
    # -- train-dt ----------------------------------------------------------------------------
    Case("train-dt unknown preset", ["train-dt", "--preset", "nope", "--out", "runs/t"]),
    Case("train-dt --set without =", ["train-dt", "--preset", "tiny", "--set", "steps",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-dt --set bad YAML", ["train-dt", "--preset", "tiny", "--set", "steps=[",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-dt --set unknown field", ["train-dt", "--preset", "tiny", "--set", "zz=1",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-dt --config not YAML", ["train-dt", "--config", "bad.yaml", "--out", "runs/t"],
         {"bad.yaml": "not: [valid\n"}),  # fmt: skip
    Case("train-dt --out unwritable", ["train-dt", "--preset", "tiny", "--out",
         "/proc/mazebench_dt"]),  # fmt: skip
    Case("train-dt --resume of an empty folder", ["train-dt", "--preset", "tiny", "--resume",
         "--out", "runs/t"], {"runs/t/x.txt": "keep"}),  # fmt: skip
    Case("train-dt --set steps=-1", ["train-dt", "--preset", "tiny", "--set", "steps=-1",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-dt --set lr=fast", ["train-dt", "--preset", "tiny", "--set", "lr=fast",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-dt --set steps=1.5", ["train-dt", "--preset", "tiny", "--set", "steps=1.5",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-dt without --out", ["train-dt", "--preset", "tiny"]),
    # -- train-rl / train-transformer ------------------------------------------------------
    Case("train-rl unknown preset", ["train-rl", "--preset", "nope", "--out", "runs/t"]),
    Case("train-rl --set unknown field", ["train-rl", "--preset", "tiny", "--set", "zz=1",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-rl --set total_steps=0", ["train-rl", "--preset", "tiny", "--set",
         "total_steps=0", "--out", "runs/t"]),  # fmt: skip
    Case("train-rl --config a list", ["train-rl", "--config", "l.yaml", "--out", "runs/t"],
         {"l.yaml": "- a\n- b\n"}),  # fmt: skip
    Case("train-rl --config missing", ["train-rl", "--config", "nope.yaml", "--out", "runs/t"]),
    Case("train-rl --resume of an empty folder", ["train-rl", "--preset", "tiny", "--resume",
         "--out", "runs/t"], {"runs/t/x.txt": "keep"}),  # fmt: skip
    Case("train-rl --out is a file", ["train-rl", "--preset", "tiny", "--out", "f"],
         {"f": "keep"}),  # fmt: skip
    Case("train-transformer unknown preset", ["train-transformer", "--preset", "nope",
         "--out", "runs/t"]),  # fmt: skip
    Case("train-transformer --set unknown field", ["train-transformer", "--preset", "tiny",
         "--set", "zz=1", "--out", "runs/t"]),  # fmt: skip
    Case("train-transformer --set lr=-1", ["train-transformer", "--preset", "tiny", "--set",
         "lr=-1", "--out", "runs/t"]),  # fmt: skip
    Case("train-transformer --config not YAML", ["train-transformer", "--config", "bad.yaml",
         "--out", "runs/t"], {"bad.yaml": "not: [valid\n"}),  # fmt: skip
    Case("train-transformer --resume of an empty folder", ["train-transformer", "--preset",
         "tiny", "--resume", "--out", "runs/t"], {"runs/t/x.txt": "keep"}),  # fmt: skip
    # -- generate / play / run / compare, more -------------------------------------------
    Case("generate unknown generator", ["generate", "--generator", "nope", "--n", "5"]),
    Case("generate --shape 6x", ["generate", "--n", "5", "--shape", "6x"]),
    Case("generate --seed -1", ["generate", "--n", "5", "--seed", "-1"]),
    Case("generate --target nowhere", ["generate", "--n", "5", "--target", "nowhere"]),
    Case("generate --out exists, no --force", ["generate", "--n", "5", "--out", "m.npz"],
         {"m.npz": "keep"}),  # fmt: skip
    Case("generate --workers 0", ["generate", "--n", "5", "--workers", "0"]),
    Case("play unknown generator", ["play", "--generator", "nope"]),
    Case("play --shape 0x0", ["play", "--shape", "0x0", "--keys", "q"]),
    Case("run unknown agent in --config", ["run", "--config", "e.yaml", "--out", "runs/r"],
         {"e.yaml": "name: e\nagents: [nope]\nsuites: [size_4]\nn: 3\n"}, no_config="runs/r"),
    Case("run --config unknown key", ["run", "--config", "e.yaml", "--out", "runs/r"],
         {"e.yaml": "name: e\nagents: [bfs]\nzz: 1\n"}),  # fmt: skip
    Case("run --config model without kind", ["run", "--config", "e.yaml", "--out", "runs/r"],
         {"e.yaml": "name: e\nmodels: [{name: m}]\nagents: [bfs]\n"}),  # fmt: skip
    Case("run --config @MODEL not declared", ["run", "--config", "e.yaml", "--out", "runs/r"],
         {"e.yaml": "name: e\nagents: [ppo:ckpt=@nope]\nsuites: [size_4]\n"}),  # fmt: skip
    Case("compare --agents with nothing after it", ["compare", "--agents", "--suites", "size_4",
         "--n", "3", "--out", "runs/a"], no_config="runs/a"),  # fmt: skip
    Case("compare --seed -2", ["compare", *SEARCH, "--suites", "size_4", "--seed", "-2",
         "--out", "runs/a"]),  # fmt: skip
    Case("compare ckpt of the wrong kind", ["compare", "--agents", "ppo:ckpt=ckpt", "--suites",
         "size_4", "--n", "3", "--out", "runs/a"], setup=_copy_ckpt("none"),
         no_config="runs/a"),  # fmt: skip
    Case("unknown command", ["frobnicate"], prog="mazebench"),
    Case("compare unknown option", ["compare", *SEARCH, "--nn", "5", "--out", "runs/a"]),
    Case("generate --min-path-length -1", ["generate", "--n", "5", "--min-path-length", "-1"]),
    Case("report --recompute of a missing folder", ["report", "--recompute", "runs/none"]),
]


def _snapshot(tmp: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(tmp)): p.read_bytes()
        for p in tmp.rglob("*")
        if p.is_file() and "ckpt" not in p.parts
    }


def check(case: Case, root: Path) -> dict[str, object]:
    """Run one case in a fresh folder under ``root``; what happened and whether it passed."""
    tmp = Path(tempfile.mkdtemp(dir=root))
    for rel, content in case.files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    if case.setup is not None:
        case.setup(tmp)
    before = _snapshot(tmp)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [MAZEBENCH, *case.argv], cwd=tmp, capture_output=True, text=True, env=env, timeout=300
    )
    seconds = time.perf_counter() - t0
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    prog = case.prog or f"mazebench {case.argv[0]}"
    problems = []
    if proc.returncode != case.code:
        problems.append(f"exit {proc.returncode}")
    if "Traceback" in proc.stderr:
        problems.append("traceback")
    if len(lines) != 1:
        problems.append(f"{len(lines)} stderr lines")
    elif not lines[0].startswith(f"{prog}: error:"):
        problems.append("not `mazebench CMD: error:`")
    after = _snapshot(tmp)
    lost = [k for k, v in before.items() if after.get(k) != v]
    if lost:
        problems.append(f"changed {', '.join(lost)}")
    if case.no_config and (tmp / case.no_config / "config.json").exists():
        problems.append(f"wrote {case.no_config}/config.json")
    shutil.rmtree(tmp, ignore_errors=True)
    return {
        "case": case.name,
        "command": "mazebench " + " ".join(case.argv),
        "code": proc.returncode,
        "seen": lines[-1] if lines else "(nothing on stderr)",
        "ok": not problems,
        "problems": problems,
        "seconds": seconds,
        "stderr": proc.stderr,
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict[str, object]]) -> str:
    out = ["| case | command | exit | what the user sees |", "|---|---|---|---|"]
    for r in rows:
        seen = str(r["seen"]) if r["ok"] else f"**FAIL ({'; '.join(r['problems'])})** {r['seen']}"  # type: ignore[arg-type]
        out.append(f"| {_cell(str(r['case']))} | `{_cell(str(r['command']))}` | {r['code']} | "
                   f"{_cell(seen)} |")  # fmt: skip
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only cases whose name contains this")
    parser.add_argument("--no-write", action="store_true", help="do not write docs/BAD_INPUTS.md")
    parser.add_argument("-v", "--verbose", action="store_true", help="show a failure's stderr")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bad_inputs_") as root:
        for case in cases:
            row = check(case, Path(root))
            rows.append(row)
            mark = "ok  " if row["ok"] else "FAIL"
            print(f"{mark} {row['seconds']:5.1f} s  {case.name}: {row['seen']}", file=sys.stderr)
            if args.verbose and not row["ok"]:
                print(row["stderr"], file=sys.stderr)
    passed = sum(bool(r["ok"]) for r in rows)
    text = table(rows)
    print(text)
    print(f"\n{passed} of {len(rows)} cases pass")
    if not args.only and not args.no_write:
        from maze_env.files import atomic_write_text

        doc = (
            "# Bad inputs\n\n"
            "Each row is a mistake a user can make on the `mazebench` command line; every one must "
            "end with exit code 2 and one line on stderr, `mazebench <cmd>: error: ...`, naming "
            "the file or option at fault, with no traceback and no file lost or half-written. "
            "The table is regenerated (each case in a fresh temporary folder) by\n\n"
            "    .venv/bin/python benchmarks/bad_inputs.py\n\n"
            f"{text}\n\n{passed} of {len(rows)} cases pass.\n"
        )
        atomic_write_text(ROOT / "docs" / "BAD_INPUTS.md", doc)
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
