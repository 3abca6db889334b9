"""Mutation testing of the clinical core with mutmut, in full or on a seeded random sample.

    python scripts/mutation.py                  # every mutant (hours on 2 cores)
    python scripts/mutation.py --sample 60      # 60 mutants per module, seeded: ~30-60 min
    python scripts/mutation.py --report         # the score of what has run so far

Which modules and which tests: [tool.mutmut] in pyproject.toml. mutmut works in a copy of the
repository (./mutants); the tests need nothing beside the repository. The score is
killed / (killed + survived + untested), per module and overall, with a 95 % Wilson interval
when sampled; timeouts count as killed (the mutant made the tests hang). Survivors are listed
with their diffs (mutmut show) so each can be killed by a test or judged equivalent
(docs/testing.md keeps that list).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
# mutmut's exit codes for a mutant (mutmut/__main__.py status_by_exit_code)
KILLED = {1, 3, -24, 24, 36, 152, 255}  # a test failed, or the tests timed out on it
SURVIVED = {0}
UNTESTED = {5, 33}                        # no test calls the mutated function
# A name no mutant has: mutmut generates every mutant and maps tests to functions, then stops.
NONE = "no-such-mutant"


def mutmut(*args: str, quiet: bool = False) -> None:
    subprocess.run([sys.executable, "-m", "mutmut", *args], cwd=ROOT, check=False,
                   capture_output=quiet)


def results() -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        found.update(json.loads(meta.read_text())["exit_code_by_key"])
    return found


def module_of(name: str) -> str:
    return name.split(".x", 1)[0]


def sample(names: list[str], per_module: int, seed: int) -> list[str]:
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in sorted(names):
        by_module[module_of(name)].append(name)
    rng = random.Random(seed)
    return [n for module in sorted(by_module)
            for n in rng.sample(by_module[module], min(per_module, len(by_module[module])))]


def wilson(killed: int, total: int) -> tuple[float, float]:
    if total == 0:
        return (0.0, 1.0)
    z, p = 1.96, killed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


def report(chosen: list[str] | None) -> list[str]:
    done = results()
    names = chosen if chosen is not None else [n for n, code in done.items() if code is not None]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors = []
    for name in names:
        code = done.get(name)
        kind = ("killed" if code in KILLED else "survived" if code in SURVIVED else
                "untested" if code in UNTESTED else "not run" if code is None else f"code {code}")
        counts[module_of(name)][kind] += 1
        counts["all"][kind] += 1
        if kind in ("survived", "untested"):
            survivors.append(name)
    print(f"{'module':28} {'killed':>6} {'surv.':>6} {'untest':>6} {'other':>6}  score  95% CI")
    for module in [*sorted(m for m in counts if m != "all"), "all"]:
        c = counts[module]
        judged = c["killed"] + c["survived"] + c["untested"]
        other = sum(v for k, v in c.items() if k not in ("killed", "survived", "untested"))
        low, high = wilson(c["killed"], judged)
        score = f"{100 * c['killed'] / judged:5.1f}%" if judged else "   - "
        print(f"{module:28} {c['killed']:6} {c['survived']:6} {c['untested']:6} {other:6}  "
              f"{score}  {100 * low:.0f}-{100 * high:.0f}%")
    total = len(done)
    print(f"{len(names)} mutants judged of {total} generated")
    return survivors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="mutants per module (seeded random sample)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--report", action="store_true", help="only report what has run")
    parser.add_argument("--show", action="store_true", help="print each survivor's diff")
    args = parser.parse_args()
    chosen: list[str] | None = None
    if not args.report:
        mutmut("run", NONE, quiet=True)  # generate every mutant, map tests to functions
        if args.sample:
            chosen = sample(list(results()), args.sample, args.seed)
            mutmut("run", *chosen)
        else:
            mutmut("run")
    elif args.sample:
        chosen = sample(list(results()), args.sample, args.seed)
    survivors = report(chosen)
    for name in survivors:
        print(f"survivor: {name}")
        if args.show:
            mutmut("show", name)


if __name__ == "__main__":
    main()
