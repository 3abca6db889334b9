"""``mgassist batch`` at scale: ``--format csv|parquet`` read back equal the JSON Lines'
summary fields; ``--jobs`` writes byte for byte what one job writes (lines, error lines,
stderr summary, exit code), and leaves nothing behind on Ctrl-C; the library API
(``assess_records``, ``assess_arrow``) gives what batch gives."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_population import make_population
from test_summary import oracle_row

import mgassist
from mgassist import InputErrors, RuleSet
from mgassist._core.summary import COLUMNS

Cli = Any
GOOD = {"id": "a", "mg": "0.6 mmol/L", "crcl": "80 mL/min"}


@pytest.fixture(autouse=True)
def _rules_once(bundled_rules_loaded_once: None) -> None:
    """In-process runs use the session's rules (the workers get them from the parent)."""


def mixed_jsonl(path: Path, count: int = 400) -> Path:
    """Population records with bad ones among them: not JSON, not an object, a bare number, a
    misspelt key, an error message with a comma and quotes, blank lines, ids of every kind."""
    population = make_population(count, 4242)
    lines: list[str] = []
    for i, record in enumerate(population):
        if i % 37 == 5:
            lines.append("{not json")
        elif i % 53 == 7:
            lines.append("[1, 2]")
        elif i % 41 == 3:
            lines.append(json.dumps({"id": f"x{i}", "mg": "0.6", "crcl": "80 mL/min"}))
        elif i % 59 == 11:
            lines.append(json.dumps({"id": i, "magnesium": "0.6 mmol/L"}))
        elif i % 61 == 13:
            lines.append("")
        else:
            lines.append(json.dumps({"id": f'p"{i},x', **record} if i % 3 else record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def mixed_csv(path: Path, count: int = 300) -> Path:
    rows = ["ID,Magnesium,crcl,meds,notes"]
    for i in range(count):
        mg = ["0.6 mmol/L", "1.5 mg/dL", "0.6", "", "0.45 mmol/L", "1.2 mmol/L"][i % 6]
        crcl = ["80 mL/min", "25 mL/min", "", "45 mL/min"][i % 4]
        meds = ['"furosemide; omeprazole"', "atorvastatin", "", "furosemid"][i % 4]
        rows.append(f"c{i},{mg},{crcl},{meds},n" + (",extra" if i % 29 == 4 else ""))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def typed(name: str, cell: str) -> Any:
    """A summary CSV cell read back by the column's type (an empty cell is null)."""
    kind = next(column.type for column in COLUMNS if column.name == name)
    if cell == "":
        return None
    return int(cell) if kind == "int64" else float(cell) if kind == "float64" else cell


def read_csv_rows(data: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(data, newline=""))
    header = next(reader)
    assert header == [column.name for column in COLUMNS]
    return [{name: typed(name, cell) for name, cell in zip(header, row, strict=True)}
            for row in reader]


def jsonl_rows(data: str) -> list[dict[str, Any]]:
    return [oracle_row(json.loads(line)) for line in data.splitlines()]


# --- formats ------------------------------------------------------------------------------------

@pytest.mark.parametrize("maker", [mixed_jsonl, mixed_csv])
def test_csv_and_parquet_read_back_equal_the_jsonl_summary(cli: Cli, tmp_path: Path,
                                                           maker: Any) -> None:
    source = maker(tmp_path / ("in.jsonl" if maker is mixed_jsonl else "in.csv"))
    full = cli("batch", str(source))
    as_csv = cli("batch", str(source), "--format", "csv")
    as_parquet = cli("batch", str(source), "--format", "parquet", "-o",
                     str(tmp_path / "out.parquet"))
    assert full.exit_code == as_csv.exit_code == as_parquet.exit_code == 1
    assert full.stderr == as_csv.stderr  # the same summary whatever the format
    want = jsonl_rows(full.stdout)
    assert any(row["error_field"] == "record" for row in want)
    assert any(row["status"] == "supplement" for row in want)
    assert read_csv_rows(as_csv.stdout) == want
    assert pq.read_table(tmp_path / "out.parquet").to_pylist() == want
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert [(f.name, str(f.type)) for f in schema] == [
        (c.name, {"float64": "double"}.get(c.type, c.type)) for c in COLUMNS]


def test_a_csv_row_by_hand(cli: Cli, tmp_path: Path) -> None:
    """The summary CSV of two records, checked by hand against the columns of docs/scale.md
    (the standard start of magnesium oxide for Mg 0.6 mmol/L and CrCl 80 mL/min: 12 mmol =
    291.7 mg elemental, 483.6 mg of the salt)."""
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(GOOD) + "\n" + '{"id": "b", "mg": "0.6"}\n', encoding="utf-8")
    result = cli("batch", str(source), "--format", "csv")
    assert result.exit_code == 1
    header, first, second = result.stdout.splitlines()
    assert header.startswith("id,line,status,decided_by,finding_ids,")
    assert first == ("a,1,supplement,supplement,hypomagnesemia,0,1,0,magnesium-oxide,12.0,"
                     "291.7,483.6,standard-start,80.0,reported,0.6,,,,")
    assert second == ('b,2,,,,,,,,,,,,,,,,mg,"mg (serum magnesium): \'0.6\' has no unit; '
                      "units are never guessed; accepted: mmol/L, mEq/L, mg/dL (e.g. '0.62 "
                      "mmol/L')\",1")


def test_parquet_without_pyarrow_is_refused_before_reading(cli: Cli, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow: ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    result = cli("batch", str(source), "--format", "parquet", "-o", str(tmp_path / "o.pq"))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("error: format: 'parquet' needs pyarrow, which is not installed; "
                             "accepted: pip install 'mgassist[parquet]', or --format jsonl or "
                             "csv\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "xml"], "error: format: 'xml' is not an output format; accepted: jsonl, "
                          "csv, parquet"),
    (["--input-format", "xml"], "error: input-format: 'xml' is not an input format; "
                                "accepted: auto, jsonl, csv"),
    (["--jobs", "-1"], "error: jobs: '-1' is negative; accepted: a number of worker "
                       "processes, or 0 for every CPU")])
def test_unusable_options_exit_2(cli: Cli, tmp_path: Path, args: list[str],
                                 message: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    result = cli("batch", str(source), *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == message + "\n"


def test_parquet_to_a_pipe(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    with (tmp_path / "out.parquet").open("wb") as out:
        done = subprocess.run([sys.executable, "-m", "mgassist", "batch", str(source),
                               "--format", "parquet"], stdout=out, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    (row,) = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert (row["id"], row["line"], row["status"]) == ("a", 1, "supplement")


# --- --jobs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_jobs_write_what_one_job_writes(cli: Cli, tmp_path: Path, fmt: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks (23 records), so that several workers each get several, and finish out of
    order; JSON Lines and CSV input; the bytes, the stderr summary and the exit code."""
    from mgassist._shell import batch_jobs

    monkeypatch.setattr(batch_jobs, "CHUNK_RECORDS", 23)
    for source in (mixed_jsonl(tmp_path / "in.jsonl"), mixed_csv(tmp_path / "in.csv")):
        runs = {}
        for jobs in ("1", "2", "3"):
            target = tmp_path / f"out-{jobs}.{fmt}"
            result = cli("batch", str(source), "--format", fmt, "--jobs", jobs, "-o",
                         str(target))
            runs[jobs] = (result.exit_code, result.stderr.replace(str(target), "OUT"),
                          target.read_bytes())
        assert runs["1"][0] == 1
        assert "batch: " in runs["1"][1]
        assert runs["2"] == runs["1"] and runs["3"] == runs["1"], source.name


def test_jobs_0_uses_every_cpu_and_writes_the_same(cli: Cli, tmp_path: Path) -> None:
    from mgassist._shell.batch_jobs import cpu_count

    assert cpu_count() == len(os.sched_getaffinity(0))
    source = mixed_jsonl(tmp_path / "in.jsonl", 60)
    one, every = cli("batch", str(source)), cli("batch", str(source), "--jobs", "0")
    assert (every.exit_code, every.stdout, every.stderr) == \
        (one.exit_code, one.stdout, one.stderr)


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_run_with_jobs_leaves_no_file_and_no_worker(tmp_path: Path) -> None:
    """A real process with 2 workers reading a pipe that never ends gets SIGINT mid-way:
    exit 130, no output or temporary file, and its workers are gone."""
    import psutil

    target = tmp_path / "out.csv"
    child = subprocess.Popen([sys.executable, "-m", "mgassist", "batch", "-", "--jobs", "2",
                              "--format", "csv", "--output", str(target)],
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                             cwd=tmp_path, preexec_fn=default_sigint)
    assert child.stdin is not None and child.stderr is not None
    try:
        line = (json.dumps(GOOD) + "\n").encode()
        for _ in range(5000):  # several chunks: the workers are busy or done
            child.stdin.write(line)
        child.stdin.flush()
        deadline = time.monotonic() + 30
        workers: list[Any] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = list(psutil.Process(child.pid).children(recursive=True))
        assert child.poll() is None and len(workers) >= 2
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # writing
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
        err = child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdin.close()
        child.stderr.close()
    assert child.returncode == 130, err
    assert b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


# --- the library API ------------------------------------------------------------------------

def test_assess_records_gives_the_batch_lines(cli: Cli, tmp_path: Path, rules: RuleSet
                                              ) -> None:
    source = mixed_jsonl(tmp_path / "in.jsonl", 120)
    lines = [json.loads(line) for line in cli("batch", str(source)).stdout.splitlines()]
    records: list[Any] = []
    numbers: list[int] = []
    for number, text in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            records.append(json.loads(text))
        except ValueError:
            continue  # not JSON: batch's own concern, not the API's
        numbers.append(number)
    kept = [line for line in lines if line["line"] in set(numbers)]
    got = [dict(result, line=numbers[result["line"] - 1])  # the API counts records
           for result in mgassist.assess_records(records, rules=rules)]
    assert got == kept
    assert [r["line"] for r in mgassist.assess_records([GOOD, GOOD], first_line=10)] == \
        [10, 11]


def test_assess_arrow_keeps_lines_ids_and_order(rules: RuleSet) -> None:
    batches = [pa.record_batch({"Patient ID": ["a", "b"], "Magnesium": ["0.6 mmol/L", "0.6"],
                                "CrCl": ["80 mL/min", None], "ward": ["x", "y"]}),
               pa.record_batch({"Patient ID": ["c"], "Magnesium": ["1.2 mmol/L"],
                                "CrCl": [""], "ward": ["z"]})]
    out = list(mgassist.assess_arrow(batches, rules=rules, first_line=2))
    assert [batch.num_rows for batch in out] == [2, 1]
    rows = [row for batch in out for row in batch.to_pylist()]
    assert [(r["id"], r["line"], r["status"], r["error_field"]) for r in rows] == [
        ("a", 2, "supplement", None), ("b", 3, None, "mg"), ("c", 4, "contraindicated", None)]
    with_lines = pa.table({"line": [7, 9], "mg": ["0.6 mmol/L", "0.9 mmol/L"],
                           "crcl": ["80 mL/min", "80 mL/min"]})
    rows = next(mgassist.assess_arrow([with_lines], rules=rules)).to_pylist()
    assert [(r["line"], r["status"]) for r in rows] == [(7, "supplement"),
                                                        (9, "do-not-supplement")]


def test_assess_arrow_refuses_unusable_columns_before_any_row(rules: RuleSet) -> None:
    table = pa.table({"mg": ["0.6 mmol/L"], "magnesuim": ["0.6 mmol/L"]})
    with pytest.raises(InputErrors) as info:
        list(mgassist.assess_arrow([table], rules=rules))
    assert [e.field for e in info.value.errors] == ["header"]
    assert "did you mean 'mg'?" in str(info.value)


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "csv"], "error: --format: 'csv' does not apply to --fhir, whose lines carry "
                          "the sources; accepted: jsonl"),
    (["--input-format", "csv"], "error: --input-format: 'csv' does not apply to --fhir "
                                "(Bundles are JSON)"),
    (["--jobs", "2"], "error: --jobs: '2' does not apply to --fhir; accepted: 1")])
def test_options_of_the_records_batch_are_refused_with_fhir(cli: Cli, tmp_path: Path,
                                                            args: list[str],
                                                            message: str) -> None:
    source = tmp_path / "bundles.ndjson"
    source.write_text("{}\n", encoding="utf-8")
    result = cli("batch", "--fhir", str(source), *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == message + "\n"
