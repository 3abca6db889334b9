"""Startup benchmark: wall time of one `mgassist assess ... --json` against `import typer`.

Prints figures; asserts nothing (machines are noisy). Paired runs, medians.
Usage: python benchmarks/startup.py [RUNS]
"""

from __future__ import annotations

import platform
import shutil
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    exe = shutil.which("mgassist")
    assess = [exe] if exe else [sys.executable, "-m", "mgassist"]
    assess += ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--json"]
    typer = [sys.executable, "-c", "import typer"]
    pairs = [(_time(assess), _time(typer)) for _ in range(runs)]
    a = statistics.median(p[0] for p in pairs)
    t = statistics.median(p[1] for p in pairs)
    print(f"python {platform.python_version()} on {platform.machine()}, {runs} paired runs")
    print(f"assess --json median {a:.3f} s; import typer median {t:.3f} s; ratio {a / t:.1f}x")


if __name__ == "__main__":
    main()
