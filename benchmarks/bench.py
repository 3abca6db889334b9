"""Benchmark of `mgassist batch` (throughput, peak memory, against an older commit) and of startup.

Measures, on synthetic patients generated deterministically (random.Random(seed)) as JSON Lines
with mixed units, mixed quantity forms, every decision status and ~1 % deliberately invalid
records (bare number, unknown medication, a line that is not JSON):
  1. throughput: wall time of one `mgassist batch IN --output OUT` over --records patients,
     pinned to one CPU where the OS allows, startup included; records/s; checks that OUT has
     one line per record and prints the status distribution (error lines included);
  2. memory: peak RSS of that one batch process for --records and --large patients, measured by
     a tiny wrapper process (RUSAGE_CHILDREN), and the ratio large/small. Target: flat (<= 1.10);
  3. side by side with --baseline COMMIT (default b71d8ce, the last commit before the
     performance work; `none` skips it): that commit's tree is extracted into the workdir
     (`git archive COMMIT | tar -x`, no worktree, the repository's index untouched) and its
     batch runs as `python -m mgassist batch IN --output OUT --rules TREE/rules` with
     PYTHONPATH=TREE/src (the old code on its own bundled rules), the new code as in 1, over the
     same input file, alternately --pairs times, each pinned to one CPU. Median records/s and
     CPU time (user+sys) of each side, and the ratio new/old. Target: >= 10x. Then the two
     outputs are compared line by line, byte for byte, except the top-level "rules" member of
     each line (its sha256 and source differ: the bundled rule files were reorganised, not the
     decisions), except what schemas 1.4 and 1.5 added (the "inputs_used" member, "sources"
     when null, and the version number itself), and with the rule texts reworded since (REWORDED)
     read as before; error lines are compared too. Prints "identical: N of M lines" and, at the first
     difference, the record id and the bytes around the first differing byte;
  4. startup: paired median wall time of `mgassist assess --mg "0.6 mmol/L" --crcl "80 mL/min"
     --json` against `python -c "import typer"`, after one warm-up of each (the first run writes
     the rules cache). Target: <= 1.3x. With --installed, also on a non-editable install: this
     work tree's mgassist installed into the workdir (`pip install --no-deps --no-build-isolation
     --no-index --target`, offline, dependencies from this environment; where pip cannot build a
     wheel offline, e.g. setuptools < 70.1 without the `wheel` package, setuptools' build_py
     writes the same package files a wheel installs, without dist-info and console script) and
     byte-compiled, then run as `python -m mgassist` with PYTHONPATH=that folder, once checked
     that mgassist is imported from there (not from the editable source).
  5. scale (issue 17; --scale-runs N, default 1, 0 skips): the same records through
     `batch --format jsonl` and `--format csv` (JSON Lines in; and CSV in, the records written
     as a lab extract's CSV), one job pinned to one CPU: records/s per core (targets: csv
     >= 50,000, jsonl >= 15,000); then `--jobs 2` pinned to two CPUs against one job (target
     >= 1.7x), with both outputs compared byte for byte.
The peak RSS of a child includes its wrapper's memory up to exec (about 12 MB): that floor is
measured and printed too. --verify N parses and evaluates the first N generated records
in-process (mgassist's API) and reports those accepted or rejected other than as intended.
Prints figures and asserts nothing (machines are noisy). Unix only (resource module).

Usage: python benchmarks/bench.py [--records 100000] [--large 1000000 | --no-large] [--runs 9]
       [--seed 1] [--mgassist "CMD ..."] [--workdir DIR] [--verify N] [--json]
       [--baseline COMMIT | --baseline none] [--pairs 3] [--installed] [--scale-runs 1]
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import platform
import random
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
STATUSES = ("supplement", "supplement-with-caution", "maintain", "do-not-supplement",
            "contraindicated", "urgent", "insufficient-data", "out-of-scope")
# Medications as drug names (20) or class ids (8): about 70 % of the meds given are drug names
DRUGS = ("furosemide", "bumetanide", "torsemide", "hydrochlorothiazide", "chlorthalidone",
         "indapamide", "omeprazole", "esomeprazole", "pantoprazole", "lansoprazole", "gentamicin",
         "tobramycin", "tacrolimus", "cyclosporine", "doxycycline", "minocycline",
         "ciprofloxacin", "levofloxacin", "alendronate", "risedronate")
MED_CLASSES = ("loop-diuretic", "thiazide-diuretic", "ppi", "aminoglycoside",
               "calcineurin-inhibitor", "tetracycline", "fluoroquinolone", "bisphosphonate")
CONDITIONS = ("chronic-diarrhea", "short-bowel-syndrome", "malabsorption", "high-output-stoma",
              "alcohol-use-disorder", "diabetes", "inflammatory-bowel-disease", "hyperthyroidism",
              "volume-depletion")
MILD_SYMPTOMS = ("cramps", "spasm", "twitching", "paresthesia", "fatigue", "weakness", "nausea")
URGENT_SYMPTOMS = ("tetany", "seizure", "arrhythmia")
HYPERMG_SYMPTOMS = ("hyporeflexia", "hypotension", "respiratory-depression", "confusion")
INDICATIONS = ("neck-spasm", "muscle-cramps", "back-pain", "neuropathic-pain", "migraine",
               "documented-hypomagnesemia", "other")
SCENARIOS: dict[str, tuple[float, tuple[float, float] | None]] = {
    # name: (weight in %, Mg range in mmol/L or None for no Mg); the status aimed at
    "normal-mg": (30.0, (0.70, 1.05)),       # do-not-supplement (contraindicated if CrCl < 20)
    "low-mg": (45.0, (0.50, 0.69)),          # supplement, with caution or contraindicated
    "severe-low-mg": (3.0, (0.20, 0.49)),    # urgent
    "symptomatic": (2.0, (0.50, 0.69)),      # urgent: with tetany, seizure or arrhythmia
    "high-mg": (5.0, (1.06, 2.5)),           # contraindicated
    "no-mg": (5.0, None),                    # insufficient-data (urgent with tetany...)
    "no-renal": (5.0, (0.50, 0.69)),         # insufficient-data: CrCl not derivable
    "hypermg-suspect": (1.5, (1.06, 2.5)),   # urgent: on a supplement, hyporeflexia...
    "child": (1.5, (0.50, 1.05)),            # out-of-scope
}
# How mg, ca, ... may be written: (unit, factor from the canonical unit, decimals)
MG_UNITS = (("mmol/L", 1.0, 2), ("mg/dL", 2.4305, 1), ("mEq/L", 2.0, 1))
CA_UNITS = (("mmol/L", 1.0, 2), ("mg/dL", 4.0078, 1))
K_UNITS = (("mmol/L", 1.0, 1), ("mEq/L", 1.0, 1))
CREATININE_UNITS = (("mg/dL", 1.0, 2), ("umol/L", 88.4, 0))
CRCL_UNITS = (("mL/min", 1.0, 0),)
WEIGHT_UNITS = (("kg", 1.0, 1), ("lb", 2.20462, 0))
HEIGHT_UNITS = (("cm", 1.0, 0), ("in", 1 / 2.54, 0), ("m", 0.01, 2))
DOSE_UNITS = (("mmol/day", 1.0, 1), ("mg/day", 24.305, 0))
INVALID_FRACTION = 0.01
CHUNK = 10_000  # records per generator stream (and per generating process at a time)
REPO = Path(__file__).resolve().parent.parent  # the work tree benchmarked (and its git repository)
BASELINE = "b71d8ce"  # the last commit before the performance work
ASSESS = ["assess", "--mg", "0.6 mmol/L", "--crcl", "80 mL/min", "--json"]
# The top-level "rules" member of an assessment line as written by batch (compact JSON, after
# the first member): the one part of a line the old and the new code may write differently.
RULES_MEMBER = re.compile(rb',"rules":\{"version":"(?:[^"\\]|\\.)*","sha256":"[0-9a-f]{64}",'
                          rb'"source":"(?:[^"\\]|\\.)*"\}')
# Schema 1.4 only adds "inputs_used" (always just before "references") to 1.3: an old commit's
# line is compared with a new one without that member and with the schema version aligned.
INPUTS_USED_MEMBER = re.compile(rb',"inputs_used":\[.*?\](?=,"references":)')
SCHEMA_VERSION = re.compile(rb'^(\{(?:"line":\d+,)?"schema_version":)"1\.[345]"')
# Schema 1.5 adds "sources" (the FHIR input's, null otherwise) as the last member.
SOURCES_MEMBER = re.compile(rb',"sources":null(?=\}$)')
# Rule texts deliberately reworded since the baseline, as (new, old): the new text is read as
# the old one, so a line differs only where a decision or a value differs.
REWORDED = (
    (b"Correct magnesium with or before potassium, as the decision allows: potassium alone will "
     b"not correct.",
     b"Give magnesium first or together with potassium: potassium alone will not correct."),
)
EXCERPT = 60  # bytes shown either side of the first differing byte
# Runs one command, then prints its wall time, CPU time (user+sys) and peak RSS (KB) as JSON:
# only that process tree is counted, never the benchmark's own or another run's.
WRAPPER = """\
import json, resource, subprocess, sys, time
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    start = time.perf_counter()
    try:
        rc = subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode
    except OSError as exc:  # the command cannot be started
        rc = 127
        err.write(str(exc).encode())
    wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = usage.ru_maxrss
print(json.dumps({"rc": rc, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                  "peak_rss_kb": rss // 1024 if sys.platform == "darwin" else rss}))
"""


class Generator:
    """Synthetic patients from one seeded random stream (a fast subset of random.Random)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed).random
        self.names = list(SCENARIOS)
        self.cumulative = list(itertools.accumulate(w for w, _ in SCENARIOS.values()))

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def between(self, low: float, high: float) -> float:
        return low + (high - low) * self.random()

    def chance(self, p: float) -> bool:
        return self.random() < p

    def qty(self, canonical: float, units: tuple[tuple[str, float, int], ...]) -> Any:
        """One quantity in a random accepted unit, as text or as {"value", "unit"}."""
        unit, factor, decimals = self.pick(units)
        number = round(canonical * factor, decimals) if decimals else round(canonical * factor)
        if self.chance(0.5):
            return {"value": number, "unit": unit}
        return f"{number} {unit.lower() if self.chance(0.1) else unit}"

    def distinct(self, seq: Sequence[str], most: int) -> list[str]:
        return list(dict.fromkeys(self.pick(seq) for _ in range(1 + int(self.random() * most))))

    def listed(self, items: list[str]) -> Any:
        """A list field as a JSON list or as one "a; b" string."""
        return items if self.chance(0.6) else "; ".join(items)

    def renal(self, rec: dict[str, Any], age: int, complete: bool) -> None:
        """Reported CrCl (about half) or Cockcroft-Gault inputs (made incomplete if asked)."""
        r = self.random()  # CrCl bands: < 20, 20-30, 30-60, >= 60 mL/min
        crcl = self.between(*((5, 19.5) if r < 0.08 else (20, 29.5) if r < 0.16 else
                              (30, 59.5) if r < 0.40 else (60, 140)))
        if complete and self.chance(0.5):
            rec["crcl"] = self.qty(crcl, CRCL_UNITS)
            return
        sex = self.pick(("female", "male"))
        weight = self.between(45, 120) if age >= 18 else self.between(22, 60)
        creatinine = (140 - age) * weight / (72 * crcl) * (0.85 if sex == "female" else 1.0)
        rec["creatinine"] = self.qty(min(max(creatinine, 0.3), 15.0), CREATININE_UNITS)
        rec["sex"] = sex if self.chance(0.9) else sex[0].upper()
        rec["weight"] = self.qty(weight, WEIGHT_UNITS)
        if self.chance(0.6):
            rec["height"] = self.qty(self.between(150, 195), HEIGHT_UNITS)
        if not complete:  # drop one input Cockcroft-Gault cannot do without
            del rec[self.pick(("creatinine", "weight", "sex"))]

    def patient(self, index: int) -> dict[str, Any]:
        """One valid synthetic patient (keys and units as in clinical-spec.md)."""
        scenario = self.names[bisect.bisect(self.cumulative, self.random() * self.cumulative[-1])]
        age = 3 + int(self.random() * 15) if scenario == "child" else 18 + int(self.random() * 78)
        rec: dict[str, Any] = {"id": f"p{index:07d}", "age": age if self.chance(0.9) else str(age)}
        mg_range = SCENARIOS[scenario][1]
        if mg_range and not (scenario == "hypermg-suspect" and self.chance(0.3)):
            rec["mg"] = self.qty(self.between(*mg_range), MG_UNITS)
        if self.chance(0.85):
            rec["k"] = self.qty(self.between(2.6, 5.2), K_UNITS)
        if self.chance(0.5):
            rec["ca"] = self.qty(self.between(1.9, 2.7), CA_UNITS)
        self.renal(rec, age, complete=scenario != "no-renal")
        if self.chance(0.6):
            rec["meds"] = self.listed(self.distinct(DRUGS + MED_CLASSES, 3))
        if self.chance(0.4):
            rec["conditions"] = self.listed(self.distinct(CONDITIONS, 2))
        symptoms = self.distinct(MILD_SYMPTOMS, 2) if self.chance(0.3) else []
        if scenario == "symptomatic" or (scenario == "no-mg" and self.chance(0.2)):
            symptoms.append(self.pick(URGENT_SYMPTOMS))
        if scenario == "hypermg-suspect":
            symptoms.append(self.pick(HYPERMG_SYMPTOMS))
        if symptoms:
            rec["symptoms"] = self.listed(symptoms)
        if self.chance(0.75):
            rec["indication"] = self.pick(INDICATIONS)
        if scenario == "hypermg-suspect" or self.chance(0.25):
            rec["current_dose"] = self.qty(self.pick((6.0, 12.0, 24.0, 36.0)), DOSE_UNITS)
            rec["days_on_dose"] = int(self.random() * 400)
        return rec

    def line(self, index: int) -> tuple[str, bool]:
        """One JSON Lines record and whether it is valid (about 1 % deliberately are not)."""
        rec = self.patient(index)
        if self.random() >= INVALID_FRACTION:
            return json.dumps(rec), True
        kind = self.pick(("bare-number", "misspelt-med", "not-json"))
        if kind == "bare-number":
            rec["mg"] = 0.62  # units are never guessed
        elif kind == "misspelt-med":
            rec["meds"] = ["furosemide", "omeprazol"]  # a near miss: refused, never dropped
        else:
            return json.dumps(rec)[:-1], False  # the closing brace is lost
        return json.dumps(rec), False


def _chunk(job: tuple[int, int, int]) -> list[tuple[str, bool]]:
    seed, start, count = job
    gen = Generator(seed * 1_000_003 + start // CHUNK)  # one stream per chunk, any CPU count
    return [gen.line(start + i) for i in range(count)]


def records(seed: int, total: int) -> Iterator[tuple[str, bool]]:
    """The first `total` records of seed's data set, made on all CPUs, in order."""
    jobs = [(seed, start, min(CHUNK, total - start)) for start in range(0, total, CHUNK)]
    with ProcessPoolExecutor() as pool:
        for chunk in pool.map(_chunk, jobs):
            yield from chunk


def generate(sizes: dict[Path, int], seed: int) -> dict[Path, int]:
    """Write the files in one pass (each a prefix of the largest); invalid records per file."""
    invalid = dict.fromkeys(sizes, 0)
    handles = {path: path.open("w", encoding="utf-8") for path in sizes}
    try:
        for i, (line, valid) in enumerate(records(seed, max(sizes.values()))):
            for path, handle in handles.items():
                if i < sizes[path]:
                    handle.write(line + "\n")
                    invalid[path] += not valid
    finally:
        for handle in handles.values():
            handle.close()
    return invalid


def _pinning() -> tuple[list[str], Callable[[], None] | None, str]:
    """A command prefix or a preexec_fn that pins a process (and its children) to one CPU."""
    if hasattr(os, "sched_setaffinity"):
        cpu = max(os.sched_getaffinity(0))
        return [], lambda: os.sched_setaffinity(0, {cpu}), f"pinned to CPU {cpu}"
    if shutil.which("taskset"):
        return ["taskset", "-c", "0"], None, "pinned to CPU 0 (taskset)"
    return [], None, "not pinned (no CPU affinity on this OS)"


def _pinning_to(cpus: int) -> tuple[list[str], Callable[[], None] | None, str]:
    """As _pinning, to the last ``cpus`` CPUs this process may use (for --jobs runs)."""
    if cpus == 1 or not hasattr(os, "sched_setaffinity"):
        return _pinning()
    chosen = set(sorted(os.sched_getaffinity(0))[-cpus:])
    return [], lambda: os.sched_setaffinity(0, chosen), f"pinned to CPUs {sorted(chosen)}"


def wrapped(cmd: list[str], out: Path, workdir: Path,
            env: dict[str, str] | None = None, cpus: int = 1) -> dict[str, Any]:
    """Run cmd pinned (to one CPU, or ``cpus``), through the wrapper: rc, wall time (startup
    included), CPU time (user+sys) and peak RSS (KB) of cmd alone."""
    prefix, preexec, _ = _pinning_to(cpus)
    proc = subprocess.run([*prefix, sys.executable, "-c", WRAPPER, f"{out}.stdout",
                           f"{out}.stderr", *cmd], capture_output=True, text=True,
                          preexec_fn=preexec, check=True, cwd=workdir, env=env)
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def read_output(path: Path, statuses: bool) -> tuple[int, Counter[str]]:
    """Lines of a batch output and, if asked, the status of each ("error" for an error line)."""
    lines, counts = 0, Counter[str]()
    if not path.exists():
        return lines, counts
    with path.open("rb") as handle:
        for raw in handle:
            lines += 1
            if statuses:
                try:
                    obj = json.loads(raw)
                except ValueError:
                    obj = {"status": "unreadable"}
                obj = obj if isinstance(obj, dict) else {}
                counts["error" if "error" in obj else str(obj.get("status", "other"))] += 1
    return lines, counts


def verify(seed: int, sample: int) -> dict[str, Any]:
    """Check the generator in-process: parse and evaluate its first `sample` records."""
    from mgassist import InputErrors, evaluate, load_rules, parse_patient

    rules, counts, wrong = load_rules(), Counter[str](), 0
    for line, valid in records(seed, sample):
        try:
            counts[evaluate(parse_patient(json.loads(line), rules), rules).status.value] += 1
            accepted = True
        except (ValueError, InputErrors):  # not JSON / an invalid field
            counts["error"] += 1
            accepted = False
        wrong += accepted != valid
    return {"records": sample, "statuses": dict(counts.most_common()),
            "accepted_not_as_intended": wrong}


def measure(mgassist: list[str], src: Path, count: int, invalid: int, *,
            statuses: bool, keep: bool) -> dict[str, Any]:
    """Run batch over src once: timing, peak RSS, output lines and (if asked) the statuses."""
    out = src.with_name(src.stem + "-out.jsonl")
    print(f"running batch over {count} records...", file=sys.stderr, flush=True)
    result = batch(mgassist, src, out)
    result.update(records=count, invalid=invalid, records_per_s=count / result["wall_s"])
    result["output_lines"], counts = read_output(out, statuses)
    order = [*STATUSES, *sorted(set(counts) - set(STATUSES))]
    result["statuses"] = {key: counts[key] for key in order if counts[key]}
    if not keep:
        out.unlink(missing_ok=True)  # outputs can be large
    return result


def batch(mgassist: list[str], src: Path, out: Path, env: dict[str, str] | None = None,
          extra: Sequence[str] = (), cpus: int = 1) -> dict[str, Any]:
    """One pinned `batch src --output out [extra]` through the wrapper; warns if it failed."""
    result = wrapped([*mgassist, "batch", str(src), "--output", str(out), *extra], out,
                     src.parent, env, cpus)
    if result["rc"] not in (0, 1):  # 1: some records had errors, as intended here
        tail = Path(f"{out}.stderr").read_text(errors="replace")[-600:]
        print(f"warning: batch exited {result['rc']}; stderr ends with:\n{tail}", file=sys.stderr)
    return result


def as_csv(src: Path, dst: Path) -> None:
    """The JSON Lines records as a lab extract's CSV: one column per field, a list as "a; b",
    a {"value", "unit"} quantity as "value unit"; a line that is not a JSON object stays a
    broken row (one cell too many)."""
    import csv

    rows: list[dict[str, str] | None] = []
    columns: dict[str, None] = {}
    with src.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                rows.append(None)
                continue
            row = {key: ("; ".join(map(str, value)) if isinstance(value, list) else
                         f"{value['value']} {value['unit']}" if isinstance(value, dict) else
                         str(value)) for key, value in record.items()}
            columns.update(dict.fromkeys(row))
            rows.append(row)
    names = list(columns)
    with dst.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow([*([""] * len(names)), "broken"] if row is None else
                            [row.get(name, "") for name in names])


def scale(mgassist: list[str], src: Path, count: int, runs: int, *,
          keep: bool) -> dict[str, Any]:
    """Issue 17's figures, each the median of ``runs``: records/s of one job pinned to one CPU
    for --format jsonl and --format csv, with JSON Lines and CSV in; and --jobs 2 pinned to two
    CPUs against one job (both --format jsonl and csv), with the outputs compared byte for
    byte. Targets: csv >= 50,000/s/core, jsonl >= 15,000/s/core, jobs 2 >= 1.7x one job."""
    csv_src = src.with_suffix(".csv")
    as_csv(src, csv_src)
    cases = [("jsonl", src, "jsonl", 1), ("csv", src, "jsonl", 1), ("csv", csv_src, "csv", 1),
             ("jsonl", src, "jsonl", 2), ("csv", src, "jsonl", 2)]
    outputs: dict[tuple[str, str, int], Path] = {}
    figures: list[dict[str, Any]] = []
    for fmt, source, given, jobs in cases:
        out = src.with_name(f"{src.stem}-scale-{fmt}-{given}-{jobs}.{fmt}")
        walls, cpus_s, rcs = [], [], set()
        for i in range(runs):
            print(f"scale: --format {fmt}, {given} in, --jobs {jobs}: run {i + 1}/{runs}...",
                  file=sys.stderr, flush=True)
            result = batch(mgassist, source, out, extra=["--format", fmt, "--jobs", str(jobs)],
                           cpus=jobs)
            walls.append(result["wall_s"])
            cpus_s.append(result["cpu_s"])
            rcs.add(result["rc"])
        outputs[(fmt, given, jobs)] = out
        wall = statistics.median(walls)
        figures.append({"format": fmt, "input": given, "jobs": jobs, "cpus": jobs,
                        "wall_s": walls, "records_per_s": count / wall,
                        "records_per_s_per_core": count / wall / jobs,
                        "cpu_s_median": statistics.median(cpus_s), "exit_codes": sorted(rcs),
                        # CPU time counts the process (and, with --jobs, not its workers, which
                        # the forkserver reaps): robust to other load for one job only
                        "records_per_cpu_s": count / statistics.median(cpus_s) if jobs == 1
                        else None,
                        "pinning": _pinning_to(jobs)[2]})
    by = {(f["format"], f["input"], f["jobs"]): f for f in figures}
    speedups = {fmt: by[(fmt, "jsonl", 1)]["wall_s"] and
                statistics.median(by[(fmt, "jsonl", 1)]["wall_s"]) /
                statistics.median(by[(fmt, "jsonl", 2)]["wall_s"]) for fmt in ("jsonl", "csv")}
    identical = {fmt: outputs[(fmt, "jsonl", 1)].read_bytes() ==
                 outputs[(fmt, "jsonl", 2)].read_bytes() for fmt in ("jsonl", "csv")}
    if not keep:
        for path in [*outputs.values(), csv_src]:
            path.unlink(missing_ok=True)
    return {"runs": runs, "records": count, "figures": figures, "jobs2_speedup": speedups,
            "jobs2_identical": identical}


def _time(cmd: list[str], env: dict[str, str] | None = None,
          cwd: Path | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    rc = subprocess.run(cmd, capture_output=True, env=env, cwd=cwd).returncode
    return time.perf_counter() - start, rc


def compile_tree(folder: Path) -> str:
    """Byte-compile every module under folder (subpackages too), as `pip install` does.

    Stale bytecode is rewritten too: under PYTHONDONTWRITEBYTECODE=1 (set on some machines) a
    module without valid bytecode is compiled from source on every run.
    """
    import compileall
    import importlib.util

    sources = sorted(folder.rglob("*.py"))
    missing = [s for s in sources if not Path(importlib.util.cache_from_source(str(s))).exists()]
    compileall.compile_dir(folder, quiet=1)
    return (f"compiled {len(missing)} of {len(sources)} modules (as pip install does)" if missing
            else f"all {len(sources)} modules already compiled")


def bytecode() -> str:
    """Byte-compile mgassist's modules if they are not, as `pip install` does at install time.

    An editable install under PYTHONDONTWRITEBYTECODE=1 (set on some machines) would otherwise
    compile every module from source on every run and each figure (startup most) would include
    the compiler; typer, installed by pip, has its bytecode. Only this interpreter's mgassist.
    """
    import importlib.util

    spec = importlib.util.find_spec("mgassist")
    if spec is None or not spec.submodule_search_locations:
        return "mgassist not importable here: bytecode left as it is"
    return compile_tree(Path(next(iter(spec.submodule_search_locations))))


def startup(mgassist: list[str], runs: int, bytecode_note: str, *,
            env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Paired medians of `mgassist assess --json` and `python -c "import typer"` (both in env,
    from cwd), after one warm-up of each (the first assess writes the rules cache).
    Target: ratio <= 1.3x on a non-editable install."""
    assess = [*mgassist, *ASSESS]
    typer = [sys.executable, "-c", "import typer"]
    warm_rc = _time(assess, env, cwd)[1], _time(typer, env, cwd)[1]
    pairs = [(_time(assess, env, cwd), _time(typer, env, cwd)) for _ in range(runs)]
    a = statistics.median(p[0][0] for p in pairs)
    t = statistics.median(p[1][0] for p in pairs)
    rcs = sorted({warm_rc[0], *(p[0][1] for p in pairs)})
    return {"command": mgassist, "runs": runs, "bytecode": bytecode_note,
            "warm_up": "one run of each, not counted", "assess_median_s": a,
            "import_typer_median_s": t, "ratio": a / t, "assess_exit_codes": rcs}


def extract_commit(commit: str, workdir: Path) -> tuple[str, Path]:
    """The commit's full hash and its tree, written into workdir/baseline-HASH by `git archive |
    tar -x` (no worktree; the repository's index and work tree untouched)."""
    resolved = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet",
                               f"{commit}^{{commit}}"], capture_output=True, text=True)
    if resolved.returncode:
        raise SystemExit(f"--baseline {commit}: not a commit of {REPO}")
    full = resolved.stdout.strip()
    tree = workdir / f"baseline-{full[:12]}"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", full], stdout=subprocess.PIPE)
    assert archive.stdout is not None
    untar = subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout)
    archive.stdout.close()
    if archive.wait() or untar.returncode:
        raise SystemExit(f"git archive {full} | tar -x -C {tree} failed")
    return full, tree


def side_figures(runs: list[dict[str, Any]], count: int) -> dict[str, Any]:
    """One side's runs: median records/s and CPU time (user+sys), every wall time, exit codes."""
    return {"records_per_s_median": statistics.median(count / r["wall_s"] for r in runs),
            "cpu_s_median": statistics.median(r["cpu_s"] for r in runs),
            "wall_s": [r["wall_s"] for r in runs], "exit_codes": sorted({r["rc"] for r in runs})}


def side_by_side(mgassist: list[str], src: Path, count: int, commit: str, pairs: int, *,
                 keep: bool) -> dict[str, Any]:
    """The old commit's batch and today's over src, alternately, pinned; then their outputs."""
    full, tree = extract_commit(commit, src.parent)
    bytecode_note = compile_tree(tree / "src")
    old_env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    old_cmd, rules = [sys.executable, "-m", "mgassist"], ["--rules", str(tree / "rules")]
    _time([*old_cmd, *ASSESS, *rules], old_env, src.parent)  # warm both rules caches
    _time([*mgassist, *ASSESS], None, src.parent)
    old_out = src.with_name(src.stem + "-out-old.jsonl")
    new_out = src.with_name(src.stem + "-out-new.jsonl")
    old_runs: list[dict[str, Any]] = []
    new_runs: list[dict[str, Any]] = []
    for i in range(pairs):
        print(f"side by side {i + 1}/{pairs}: batch of {commit}, then today's, over {count} "
              "records...", file=sys.stderr, flush=True)
        old_runs.append(batch(old_cmd, src, old_out, old_env, rules))
        new_runs.append(batch(mgassist, src, new_out))
    old, new = side_figures(old_runs, count), side_figures(new_runs, count)
    result = {"commit": commit, "resolved": full, "pairs": pairs, "bytecode": bytecode_note,
              "old_command": [*old_cmd, "batch", "IN", "--output", "OUT", *rules],
              "old_pythonpath": str(tree / "src"), "old": old, "new": new,
              "ratio": new["records_per_s_median"] / old["records_per_s_median"],
              "cpu_ratio": old["cpu_s_median"] / new["cpu_s_median"], "target": ">= 10x",
              "outputs": compare_outputs(old_out, new_out)}
    if not keep:
        old_out.unlink(missing_ok=True)
        new_out.unlink(missing_ok=True)
    return result


def without_rules(line: bytes) -> tuple[bytes, bool]:
    """The line with its top-level "rules" member cut out, and whether it had one; also
    without "inputs_used" (schema 1.4) and "sources":null (1.5), with the schema version
    written 1.x, and with REWORDED rule texts read as before: every other byte must be the
    same)."""
    cut, found = RULES_MEMBER.subn(b"", line, count=1)
    cut = INPUTS_USED_MEMBER.sub(b"", cut, count=1)
    cut = SOURCES_MEMBER.sub(b"", cut, count=1)
    cut = SCHEMA_VERSION.sub(rb'\1"1.x"', cut, count=1)
    for new, old in REWORDED:
        cut = cut.replace(new, old)
    return cut, bool(found)


def record_id(*lines: bytes) -> Any:
    """The "id" of the first of these lines that is a JSON object (None if none has one)."""
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj.get("id")
    return None


def first_difference(number: int, old: bytes | None, new: bytes | None) -> dict[str, Any]:
    """Where two lines (rules member cut) first differ: line number, record id, byte offset and
    the bytes around it on each side (None: the file has no such line)."""
    a, b = old or b"", new or b""
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
              min(len(a), len(b)))  # or where the shorter one ends
    lo = max(0, at - EXCERPT)

    def excerpt(line: bytes | None) -> str | None:
        return None if line is None else line[lo:at + EXCERPT].decode("utf-8", "replace")

    return {"line": number, "id": record_id(b, a), "byte": at, "old": excerpt(old),
            "new": excerpt(new)}


def compare_outputs(old: Path, new: Path) -> dict[str, Any]:
    """Line-by-line byte identity of two batch outputs, except each line's "rules" member."""
    identical = total = 0
    rules_cut = {"old": 0, "new": 0}
    first: dict[str, Any] | None = None
    with old.open("rb") as a, new.open("rb") as b:
        for number, (x, y) in enumerate(itertools.zip_longest(a, b), start=1):
            total += 1
            x_cut, x_rules = without_rules(x.rstrip(b"\n")) if x is not None else (None, False)
            y_cut, y_rules = without_rules(y.rstrip(b"\n")) if y is not None else (None, False)
            rules_cut["old"] += x_rules
            rules_cut["new"] += y_rules
            if x_cut is not None and x_cut == y_cut:
                identical += 1
            elif first is None:
                first = first_difference(number, x_cut, y_cut)
    return {"identical": identical, "lines": total, "rules_members_cut": rules_cut,
            "first_difference": first}


def install_copy(workdir: Path) -> tuple[Path, str, str]:
    """This work tree's mgassist installed, not editable, into workdir/site and byte-compiled:
    the folder, how it was installed, the bytecode note. Built from a copy of the project's
    files, so the work tree gets no build/ or egg-info."""
    project, site = workdir / "project", workdir / "site"
    for folder in (project, site):
        shutil.rmtree(folder, ignore_errors=True)
    project.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, project / name)
    for name in ("src", "rules"):
        shutil.copytree(REPO / name, project / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--no-build-isolation", "--no-index", "--target", str(site),
                          str(project)], capture_output=True, text=True)
    how = "pip install --no-deps --no-build-isolation --no-index --target"
    if pip.returncode:  # e.g. setuptools < 70.1 without `wheel`: no bdist_wheel, none offline
        reason = next((line.strip() for line in pip.stdout.splitlines() + pip.stderr.splitlines()
                       if "error:" in line and "subprocess" not in line), "see pip's output")
        shutil.rmtree(site, ignore_errors=True)
        subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q",
                        "build_py", "--build-lib", str(site)], cwd=project, check=True,
                       capture_output=True)
        how = f"setuptools build_py (pip could not build a wheel offline: {reason})"
    return site, how, compile_tree(site / "mgassist")


def imported_from(env: dict[str, str], cwd: Path) -> Path:
    """Where `import mgassist` finds mgassist's __init__.py, run as the startup runs are."""
    proc = subprocess.run([sys.executable, "-c", "import mgassist; print(mgassist.__file__)"],
                          env=env, cwd=cwd, capture_output=True, text=True, check=True)
    return Path(proc.stdout.strip())


def installed_startup(workdir: Path, runs: int) -> dict[str, Any]:
    """Startup (as in startup()) of a non-editable, byte-compiled install of this work tree."""
    site, how, bytecode_note = install_copy(workdir)
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = imported_from(env, workdir)
    inside = where.resolve().is_relative_to(site.resolve())
    print(f"installed copy: {how}\n  mgassist imported from {where}"
          f"{'' if inside else ' - NOT the installed copy: startup not measured'}",
          file=sys.stderr, flush=True)
    if not inside:
        return {"install": how, "imported_from": str(where), "skipped": "not the installed copy"}
    result = startup([sys.executable, "-m", "mgassist"], runs, bytecode_note, env=env,
                     cwd=workdir)
    return {**result, "install": how, "imported_from": str(where)}


def machine() -> dict[str, Any]:
    cpu = None
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in
                    Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), None)
    except OSError:
        pass
    return {"python": f"{platform.python_implementation()} {platform.python_version()}",
            "platform": platform.platform(), "machine": platform.machine(), "cpu": cpu,
            "cpus": os.cpu_count(), "pinning": _pinning()[2]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=100_000, help="records for throughput")
    p.add_argument("--large", type=int, default=1_000_000, help="records for the memory ratio")
    p.add_argument("--no-large", action="store_true", help="skip the large memory run")
    p.add_argument("--runs", type=int, default=9, help="paired startup runs (0: skip)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mgassist", help='command to run instead of mgassist, e.g. "python x.py"')
    p.add_argument("--workdir", type=Path, help="keep the data and outputs here (default: temp)")
    p.add_argument("--verify", type=int, default=0, metavar="N",
                   help="also parse+evaluate the first N records in-process (imports mgassist)")
    p.add_argument("--baseline", default=BASELINE, metavar="COMMIT",
                   help=f"run this commit's batch side by side (default {BASELINE}; none: skip)")
    p.add_argument("--pairs", type=int, default=3, help="side-by-side runs of each (0: skip)")
    p.add_argument("--installed", action="store_true",
                   help="also measure startup on a non-editable install in the workdir")
    p.add_argument("--scale-runs", type=int, default=1, metavar="N",
                   help="runs of each issue-17 figure (--format csv/jsonl, --jobs 2; 0: skip)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args(argv)
    exe = shutil.which("mgassist")
    mgassist = shlex.split(args.mgassist) if args.mgassist else \
        [exe] if exe else [sys.executable, "-m", "mgassist"]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mgassist-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    small, large = workdir / f"patients-{args.records}.jsonl", workdir / "patients-large.jsonl"
    sizes = {small: args.records} if args.no_large else {small: args.records, large: args.large}
    keep = args.workdir is not None
    report: dict[str, Any] = {**machine(), "command": mgassist, "seed": args.seed}
    report["bytecode"] = bytecode_note = bytecode()  # before any run: none compiles mgassist
    try:
        start = time.perf_counter()
        invalid = generate(sizes, args.seed)
        report["generation_s"] = time.perf_counter() - start
        print(f"generated {', '.join(map(str, sizes.values()))} records in "
              f"{report['generation_s']:.1f} s", file=sys.stderr)
        # A child's peak RSS includes its wrapper's memory up to exec: measure that floor.
        true = shutil.which("true")
        report["rss_floor_kb"] = wrapped([true] if true else [sys.executable, "-c", ""],
                                         workdir / "floor", workdir)["peak_rss_kb"]
        if args.verify:
            report["verify"] = verify(args.seed, args.verify)
        run = measure(mgassist, small, args.records, invalid[small], statuses=True,
                      keep=keep)
        report["throughput"] = run
        if args.scale_runs > 0:
            report["scale"] = scale(mgassist, small, args.records, args.scale_runs, keep=keep)
        if not args.no_large:
            big = measure(mgassist, large, args.large, invalid[large], statuses=False,
                          keep=keep)
            report["large"] = big
            report["rss_ratio"] = big["peak_rss_kb"] / run["peak_rss_kb"]
        if args.baseline.lower() != "none" and args.pairs > 0:
            report["baseline"] = side_by_side(mgassist, small, args.records, args.baseline,
                                              args.pairs, keep=keep)
        if args.runs > 0:
            report["startup"] = startup(mgassist, args.runs, bytecode_note)
        if args.runs > 0 and args.installed:
            report["startup_installed"] = installed_startup(workdir, args.runs)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=1) if args.json else render(report))


def render(r: dict[str, Any]) -> str:
    t = r["throughput"]
    ok = "ok" if t["output_lines"] == t["records"] else "MISMATCH"
    lines = [f"{r['python']} on {r['platform']} ({r['machine']}, {r['cpus']} CPUs)",
             f"cpu: {r['cpu'] or 'unknown'}; batch {r['pinning']}",
             f"command: {shlex.join(r['command'])}; seed {r['seed']}; bytecode: {r['bytecode']}",
             f"batch {t['records']} records ({t['invalid']} deliberately invalid): "
             f"{t['wall_s']:.2f} s, {t['records_per_s']:,.0f} records/s (startup included), "
             f"exit {t['rc']}",
             f"  output lines {t['output_lines']} ({ok}); statuses: "
             + (", ".join(f"{k} {v}" for k, v in t["statuses"].items()) or "none"),
             f"  peak RSS {t['peak_rss_kb'] / 1024:.1f} MiB (measurement floor: the wrapper's "
             f"{r['rss_floor_kb'] / 1024:.1f} MiB)"]
    if "large" in r:
        g = r["large"]
        ok = "ok" if g["output_lines"] == g["records"] else "MISMATCH"
        lines += [f"batch {g['records']} records: {g['wall_s']:.2f} s, "
                  f"{g['records_per_s']:,.0f} records/s, exit {g['rc']}, output lines "
                  f"{g['output_lines']} ({ok}); peak RSS {g['peak_rss_kb'] / 1024:.1f} MiB",
                  f"  peak RSS ratio large/small {r['rss_ratio']:.2f} (target <= 1.10)"]
    if "scale" in r:
        lines += render_scale(r["scale"])
    if "verify" in r:
        v = r["verify"]
        lines.append(f"in-process check of {v['records']} records: {v['statuses']}; "
                     f"records accepted or rejected not as intended: "
                     f"{v['accepted_not_as_intended']}")
    if "baseline" in r:
        lines += render_baseline(r["baseline"])
    if "startup" in r:
        lines += render_startup("startup", r["startup"])
    if "startup_installed" in r:
        s = r["startup_installed"]
        lines += [f"installed copy: {s['install']}; mgassist imported from {s['imported_from']}"]
        lines += [f"  skipped: {s['skipped']}"] if "skipped" in s else \
            render_startup("startup, non-editable install", s)
    return "\n".join(lines)


def render_scale(sc: dict[str, Any]) -> list[str]:
    lines = [f"issue 17 figures, {sc['records']} records, median of {sc['runs']} run(s) each "
             "(startup included):"]
    for f in sc["figures"]:
        target = {"csv": "50,000", "jsonl": "15,000"}[f["format"]] if f["jobs"] == 1 else None
        lines.append(f"  --format {f['format']:5} {f['input']:5} in, --jobs {f['jobs']} "
                     f"({f['pinning']}): {f['records_per_s']:,.0f} records/s"
                     + (f" = {f['records_per_s_per_core']:,.0f}/s/core" if f["jobs"] > 1 else
                        f" per core (target >= {target})")
                     + (f"; CPU {f['cpu_s_median']:.2f} s = {f['records_per_cpu_s']:,.0f} "
                        "records per CPU-second" if f["records_per_cpu_s"] else "")
                     + f"; exit {f['exit_codes']}")
    for fmt, ratio in sc["jobs2_speedup"].items():
        same = "identical" if sc["jobs2_identical"][fmt] else "DIFFERENT"
        lines.append(f"  --jobs 2 / one job, --format {fmt}: {ratio:.2f}x (target >= 1.7x); "
                     f"outputs {same} byte for byte")
    return lines


def render_startup(label: str, s: dict[str, Any]) -> list[str]:
    return [f"{label} ({s['runs']} paired runs after one warm-up of each): assess --json "
            f"median {s['assess_median_s']:.3f} s; import typer median "
            f"{s['import_typer_median_s']:.3f} s; ratio {s['ratio']:.2f}x (target <= 1.3x)",
            f"  command {shlex.join(s['command'])}; assess exit codes {s['assess_exit_codes']}; "
            f"bytecode: {s['bytecode']}"]


def render_side(side: dict[str, Any]) -> str:
    return (f"{side['records_per_s_median']:,.0f} records/s, CPU {side['cpu_s_median']:.2f} s "
            f"(medians; startup included), exit codes {side['exit_codes']}")


def render_baseline(b: dict[str, Any]) -> list[str]:
    old, new, out = b["old"], b["new"], b["outputs"]
    lines = [f"side by side with {b['commit']} ({b['resolved'][:12]}), {b['pairs']} alternate "
             f"pinned runs of each over the same input:",
             f"  old: {render_side(old)}; {shlex.join(b['old_command'])} with "
             f"PYTHONPATH={b['old_pythonpath']}",
             f"  new: {render_side(new)}",
             f"  ratio new/old {b['ratio']:.2f}x in records/s (target {b['target']}); CPU time "
             f"old/new {b['cpu_ratio']:.2f}x",
             f"  outputs, each line's \"rules\" member cut (old {out['rules_members_cut']['old']}, "
             f"new {out['rules_members_cut']['new']} lines had one): identical: "
             f"{out['identical']} of {out['lines']} lines"]
    d = out["first_difference"]
    if d is not None:
        lines += [f"  first difference: line {d['line']}, record id {d['id']!r}, byte {d['byte']}",
                  f"    old: {d['old']!r}", f"    new: {d['new']!r}"]
    return lines


if __name__ == "__main__":
    main()
