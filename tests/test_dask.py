"""The Dask recipe of docs/scale.md, run as written there on a distributed LocalCluster of 2
worker processes, over a few thousand generated records in 3 or more partitions: every row (ids and
global line numbers included) equals ``mgassist batch --format parquet`` of the same file."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from conftest import run_console

from mgassist._core.summary import COLUMN_NAMES

REPO = Path(__file__).resolve().parent.parent
RECORDS = 3000


def recipe() -> dict[str, Any]:
    """docs/scale.md's Dask recipe (its first python block in section 4), executed."""
    doc = (REPO / "docs" / "scale.md").read_text(encoding="utf-8")
    section = doc[doc.index("## 4. Beyond one machine: Dask"):doc.index("## 5.")]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/scale.md (Dask recipe)", "exec"), namespace)
    return namespace


def cohort(path: Path) -> None:
    """A lab extract: mixed units, meds, statuses, blank cells and ~5 % records in error."""
    pick = random.Random(17).choice
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["MRN", "Magnesium", "CrCl", "creatinine", "age", "sex", "weight", "meds",
                      "ward"])
        for i in range(RECORDS):
            mg = pick(["0.45 mmol/L", "0.62 mmol/L", "0.69 mmol/L", "0.8 mmol/L",
                       "1.5 mg/dL", "1.3 mEq/L", "1.2 mmol/L", "", "0.6", "0,6 mmol/L"])
            renal = pick([("45 mL/min", "", "", "", ""), ("", "1.1 mg/dL", "70", "female",
                          "60 kg"), ("15 mL/min", "", "", "", ""), ("", "", "", "", ""),
                          ("90 mL/min", "", "", "", "")])
            meds = pick(["", "furosemide; omeprazole", "atorvastatin", "ppi", "furosemid"])
            out.writerow([f"p{i}", mg, *renal, meds, pick(["A", "B", ""])])


def test_the_dask_recipe_equals_batch_record_for_record(tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    source = tmp_path / "cohort.csv"
    cohort(source)
    size = source.stat().st_size
    target = tmp_path / "summary.parquet"
    code, _, err = run_console(["batch", str(source), "--format", "parquet", "-o",
                                str(target)])
    assert code == 1, err  # some records are in error, by design
    expected = pq.read_table(target).to_pylist()
    assert len(expected) == RECORDS
    assert {row["status"] for row in expected} >= {"supplement", "urgent", None}

    assess_cohort = recipe()["assess_cohort"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        frame = assess_cohort(str(source), client, blocksize=size // 4)
        assert len(client.scheduler_info()["workers"]) == 2
    assert list(frame.columns) == list(COLUMN_NAMES)
    got = [{name: (None if value is None or value != value else value)  # NA as None
            for name, value in row.items()}
           for row in frame.astype(object).where(frame.notna(), None).to_dict("records")]
    assert [row["line"] for row in got] == list(range(2, RECORDS + 2))
    assert got == expected


def test_the_recipe_really_splits_the_file(tmp_path: Path) -> None:
    """The cohort of the test above is read in several partitions (line numbers must carry)."""
    import dask.dataframe as dd

    source = tmp_path / "cohort.csv"
    cohort(source)
    frame = dd.read_csv(source, dtype=str, keep_default_na=False, na_filter=False,
                        blocksize=source.stat().st_size // 4)
    assert frame.npartitions >= 3
