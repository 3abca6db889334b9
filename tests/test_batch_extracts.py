"""``mgassist batch`` on real extracts (issue 15): CSV headers in any case, with '-' or spaces
for '_', and the synonyms of COLUMN_SYNONYMS; other columns ignored and named once, a misspelt
field refused; an input without records refused; a row of the wrong length keeping its id; the
summary on stderr; a progress bar counting records. Expected stderr is written out by hand, and
each status by reading rules/decision.yaml (the step that decides is named beside each row)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mgassist._core.contract import Status
from mgassist._core.fields import FIELD_BY_NAME, FIELDS
from mgassist._shell.batch_records import (
    COLUMN_SYNONYMS,
    BatchInputError,
    Columns,
    Format,
    read_header,
    records,
    summary,
)
from mgassist._shell.cli import app

Cli = Any

ACCEPTED_COLUMNS = (
    "id, mg, k, ca, albumin, creatinine, crcl, egfr, age, sex, weight, height, meds, "
    "conditions, symptoms, indication, current_dose, days_on_dose, crcl_weight (in any case, "
    "with '-' or ' ' for '_'), or a synonym: patient id, record id, mrn, magnesium, serum "
    "magnesium, potassium, serum potassium, calcium, serum calcium, total calcium, serum "
    "albumin, serum creatinine, scr, creatinine clearance, body weight, medications, "
    "medication, drugs")
CSV_ACCEPTED = "a header row of column names, then one row per patient"
JSONL_ACCEPTED = "one JSON object per line, one line per patient"
WRONG_LENGTH = "one cell per column (quote cells that contain commas)"


pytestmark = pytest.mark.usefixtures("bundled_rules_loaded_once")


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def out_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def stdin(args: list[str], data: bytes) -> Any:
    return CliRunner().invoke(app, args, input=data, catch_exceptions=False)


def without_line(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in line.items() if k != "line"} for line in lines]


# --- 1. headers: any case, '-' or spaces, synonyms; JSON keys stay exact -----------------------

def test_extract_headers_read_as_the_fields_and_match_the_json_answer(cli: Cli,
                                                                      tmp_path: Path) -> None:
    source = write(tmp_path / "extract.csv",
                   " Patient ID ,MAGNESIUM,Creatinine-Clearance,Current Dose,days_on-dose,"
                   "Serum Potassium,Medications,Notes\n"
                   "p1,0.6 mmol/L,80 mL/min,,,,,seen Monday\n"
                   'p2,0.6 mmol/L,80 mL/min,12 mmol/day,10,4.0 mmol/L,"furosemide; omeprazole",\n')
    same = write(tmp_path / "same.jsonl", "".join(json.dumps(r) + "\n" for r in [
        {"id": "p1", "mg": "0.6 mmol/L", "crcl": "80 mL/min"},
        {"id": "p2", "mg": "0.6 mmol/L", "crcl": "80 mL/min", "current_dose": "12 mmol/day",
         "days_on_dose": "10", "k": "4.0 mmol/L", "meds": "furosemide; omeprazole"}]))
    result = cli("batch", str(source))
    assert result.exit_code == 0, result.stderr
    lines = out_lines(result.stdout)
    assert [line["line"] for line in lines] == [2, 3]
    assert without_line(lines) == without_line(out_lines(cli("batch", str(same)).stdout))
    # p1: step "supplement" (0.6 < 0.70 mmol/L, CrCl 80 >= 60); p2: "supplement-step-up"
    # (still low after 10 >= 7 days on 12 mmol/day, at least step-up-dose, below 24)
    assert result.stderr == (
        "note: ignored 1 column that is not a patient field: 'Notes'\n"
        "batch: 2 records: 2 assessed, 0 with errors; written to standard output\n"
        "batch: by status: supplement 2\n")


@pytest.mark.parametrize("separator", [";", "\t"], ids=["semicolon", "tab"])
def test_a_spreadsheet_saved_with_semicolons_or_tabs_is_read_as_with_commas(
        cli: Cli, tmp_path: Path, separator: str) -> None:
    rows = [["ID", "Mg", "CrCl", "Meds"], ["p1", "0.6 mmol/L", "80 mL/min", "furosemide"],
            ["p2", "0.9 mmol/L", "15 mL/min", "furosemide, omeprazole"]]
    commas = write(tmp_path / "commas.csv", "".join(
        ",".join(f'"{cell}"' if "," in cell else cell for cell in row) + "\n" for row in rows))
    other = write(tmp_path / "other.csv", "".join(separator.join(row) + "\n" for row in rows))
    result = cli("batch", str(other))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == cli("batch", str(commas)).stdout
    # p1 supplement (0.6 < 0.70, CrCl 80); p2 contraindicated (CrCl 15 < 20)
    assert [line["status"] for line in out_lines(result.stdout)] == [
        "supplement", "contraindicated"]
    piped = stdin(["batch", "-", "--input-format", "csv"], other.read_bytes())
    assert piped.stdout == result.stdout


def test_a_semicolon_spreadsheet_with_an_empty_first_row_is_read(cli: Cli,
                                                                    tmp_path: Path) -> None:
    source = write(tmp_path / "x.csv", ";;\nID;Mg;CrCl\np1;0.6 mmol/L;80 mL/min\n")
    result = cli("batch", str(source))
    assert result.exit_code == 0, result.stderr
    (line,) = out_lines(result.stdout)
    # the header is line 2, so p1 is line 3; 0.6 < 0.70 mmol/L with CrCl 80: supplement
    assert (line["id"], line["line"], line["status"]) == ("p1", 3, "supplement")


def test_a_comma_header_stays_comma_separated_whatever_its_cells_hold(cli: Cli,
                                                                      tmp_path: Path) -> None:
    source = write(tmp_path / "x.csv", 'ID,Mg,"notes; seen by"\np1,0.6 mmol/L,a; b\n')
    result = cli("batch", str(source))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.startswith(
        "note: ignored 1 column that is not a patient field: 'notes; seen by'\n")


@pytest.mark.parametrize("spec", FIELDS, ids=lambda spec: spec.name)
def test_every_field_key_is_read_in_any_case_with_hyphens_or_spaces(spec: Any) -> None:
    for key in spec.keys:
        for cell in (key, key.upper(), f"  {key.title()} ", key.replace("_", "-"),
                     key.replace("_", " ").upper(), key.replace("_", " -  ")):
            columns = read_header(["MG", cell] if spec.name == "id" else ["ID", cell])
            assert columns.used[1] == (1, spec.name), cell


def test_every_synonym_is_read_as_its_field_and_none_shadows_a_field_key() -> None:
    keys = {key for spec in FIELDS for key in spec.keys}
    for synonym, field in COLUMN_SYNONYMS.items():
        assert field in FIELD_BY_NAME, synonym
        assert synonym.replace(" ", "_") not in keys, synonym  # a key is matched on its own
        for cell in (synonym, synonym.upper(), synonym.replace(" ", "_").title()):
            other = "mg" if field == "id" else "id"
            columns = read_header([other, cell])
            assert columns.used[1] == (1, field), cell


def test_json_keys_stay_exact(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.jsonl",
                   json.dumps({"id": "a", "MG": "0.6 mmol/L", "crcl": "80 mL/min"}) + "\n"
                   + json.dumps({"id": "b", "magnesium": "0.6 mmol/L"}) + "\n")
    result = cli("batch", str(source))
    assert result.exit_code == 1
    assert [line["error"]["field"] for line in out_lines(result.stdout)] == ["MG", "magnesium"]


def test_two_columns_for_one_field_are_refused_naming_both(cli: Cli, tmp_path: Path) -> None:
    target = write(tmp_path / "out.jsonl", "previous\n")
    for header, message in [
        ("id,mg,crcl,Magnesium", "header: columns 'mg' and 'Magnesium' are both the field "
         "'mg'; accepted: one column per field (only meds, conditions and symptoms may take "
         "several)"),
        ("Record ID,mg,crcl,MRN", "header: columns 'Record ID' and 'MRN' are both the field "
         "'id'; accepted: one column per field (only meds, conditions and symptoms may take "
         "several)"),
        ("id,mg,crcl,MG", "header: columns 'mg' and 'MG' have the same name; accepted: each "
         "column once"),
        ("id,mg,crcl,mg", "header: 'mg' appears twice; accepted: each column once"),
    ]:
        source = write(tmp_path / "in.csv", f"{header}\na,0.6 mmol/L,80 mL/min,0.6 mmol/L\n")
        result = cli("batch", str(source), "--output", str(target))
        assert (result.exit_code, result.stdout) == (2, ""), header
        assert result.stderr == f"error: {message}\n", header
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.jsonl"]


def test_several_columns_of_a_list_field_are_joined(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv",
                   "id,mg,crcl,meds,Medications,med\n"
                   'a,0.6 mmol/L,80 mL/min,furosemide,"omeprazole; doxycycline",\n'
                   "b,0.6 mmol/L,80 mL/min,,omeprazole,\n")
    same = write(tmp_path / "same.jsonl", "".join(json.dumps(r) + "\n" for r in [
        {"id": "a", "mg": "0.6 mmol/L", "crcl": "80 mL/min",
         "meds": ["furosemide", "omeprazole", "doxycycline"]},
        {"id": "b", "mg": "0.6 mmol/L", "crcl": "80 mL/min", "meds": "omeprazole"}]))
    lines = out_lines(cli("batch", str(source)).stdout)
    assert [line["inputs"]["meds"] for line in lines] == [
        ["furosemide", "omeprazole", "doxycycline"], "omeprazole"]
    assert without_line(lines) == without_line(out_lines(cli("batch", str(same)).stdout))


# --- 2. other columns: ignored and named once; a near miss is refused ---------------------------

def test_unknown_columns_are_ignored_and_named_once(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv",
                   b"notes,id,Ward,mg,crcl,PID,\n"
                   b"x,a,7,0.6 mmol/L,80 mL/min,1,\n"
                   b"\xff,b,8,0.6 mmol/L,80 mL/min,2,z\n"  # an ignored cell is never read
                   b",c,9,0.6 mmol/L,80 mL/min,3,\n")
    plain = write(tmp_path / "plain.csv", "id,mg,crcl\na,0.6 mmol/L,80 mL/min\n"
                  "b,0.6 mmol/L,80 mL/min\nc,0.6 mmol/L,80 mL/min\n")
    result = cli("batch", str(source))
    assert result.exit_code == 0
    assert out_lines(result.stdout) == out_lines(cli("batch", str(plain)).stdout)
    # 'PID' is close to 'id' (difflib ratio 0.8) but the id is not clinical: ignored, hinted
    assert result.stderr == (
        "note: ignored 4 columns that are not patient fields: 'notes', 'Ward', 'PID' (did you "
        "mean 'id'?), ''\n"
        "batch: 3 records: 3 assessed, 0 with errors; written to standard output\n"
        "batch: by status: supplement 3\n")


def test_the_ignored_columns_are_reported_before_the_first_record() -> None:
    seen: list[Columns] = []
    items = records(io.BytesIO(b"id,mg,ward\na,0.6 mmol/L,7\nb,0.9 mmol/L,8\n"), Format.CSV,
                    on_columns=seen.append)
    assert seen == []  # lazily: nothing read yet
    first = next(items)
    assert len(seen) == 1 and first.raw == {"id": "a", "mg": "0.6 mmol/L"}
    assert seen[0].note() == "note: ignored 1 column that is not a patient field: 'ward'"
    assert [r.raw for r in items] == [{"id": "b", "mg": "0.9 mmol/L"}] and len(seen) == 1
    assert read_header(["id", "mg"]).note() is None


def test_a_misspelt_field_column_is_refused_not_ignored(cli: Cli, tmp_path: Path) -> None:
    """Ignored, a misspelt ``symptoms`` would turn an urgent patient (low magnesium with a
    seizure: step urgent-symptomatic-low-mg) into a plain "supplement"."""
    source = write(tmp_path / "in.csv", "ID,Magnesuim,CrCl,symtoms,Ward\n"
                   "a,0.6 mmol/L,80 mL/min,seizure,7\n")
    target = tmp_path / "out.jsonl"
    result = cli("batch", str(source), "--output", str(target))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "error: header: 'Magnesuim' is not a patient field, but too close to one to ignore "
        "(did you mean 'mg'?); accepted: mg, magnesium, serum magnesium (in any case), or a "
        "name not close to any field to have the column ignored\n"
        "error: header: 'symtoms' is not a patient field, but too close to one to ignore "
        "(did you mean 'symptoms'?); accepted: symptoms, symptom (in any case), or a name not "
        "close to any field to have the column ignored\n")
    assert not target.exists()


@pytest.mark.parametrize(("header", "other"), [("notes,ward", ""), ("nope", ""),
                                               ("ID,notes", " other than the id")])
def test_a_header_without_patient_fields_is_refused(cli: Cli, tmp_path: Path, header: str,
                                                    other: str) -> None:
    source = write(tmp_path / "in.csv", f"{header}\n1,2\n")
    result = cli("batch", str(source))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: header: has no column that is a patient field{other} "
                             f"(read from the first row that is not blank); accepted: "
                             f"{ACCEPTED_COLUMNS}\n")


# --- 3. the summary -------------------------------------------------------------------------

SIX_ROWS = ("ID,Mg,CrCl\n"
            "a,0.6 mmol/L,80 mL/min\n"   # supplement: 0.6 < 0.70 mmol/L, CrCl 80 >= 60
            "b,0.4 mmol/L,80 mL/min\n"   # urgent-severe-mg: 0.4 < 0.50 mmol/L
            "c,0.6 mmol/L,15 mL/min\n"   # renal-contraindication: 15 < 20 mL/min
            "d,0.9 mmol/L,80 mL/min\n"   # mg-normal: do-not-supplement
            "e,0.6,80 mL/min\n"          # an error: no unit
            "f,,80 mL/min\n")            # mg-unknown: insufficient-data
SIX_SUMMARY = ("batch: 6 records: 5 assessed, 1 with errors; written to {}\n"
               "batch: by status: urgent 1, contraindicated 1, insufficient-data 1, "
               "do-not-supplement 1, supplement 1\n")


def test_summary_counts_records_errors_and_statuses(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", SIX_ROWS)
    result = cli("batch", str(source))
    assert result.exit_code == 1
    assert [line.get("status") for line in out_lines(result.stdout)] == [
        "supplement", "urgent", "contraindicated", "do-not-supplement", None,
        "insufficient-data"]
    assert result.stderr == SIX_SUMMARY.format("standard output")
    target = tmp_path / "out.jsonl"
    result = cli("batch", str(source), "-o", str(target))
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == SIX_SUMMARY.format(target)
    assert len(target.read_text().splitlines()) == 6


def test_summary_on_exit_0_and_when_every_record_failed(tmp_path: Path) -> None:
    good = stdin(["batch", "-"], b'{"mg": "0.6 mmol/L", "crcl": "80 mL/min"}\n')
    assert good.exit_code == 0
    assert good.stderr == ("batch: 1 record: 1 assessed, 0 with errors; written to standard "
                           "output\nbatch: by status: supplement 1\n")
    bad = stdin(["batch", "-"], b'{"mg": "0.6"}\n[1]\n')
    assert bad.exit_code == 1
    assert bad.stderr == "batch: 2 records: 0 assessed, 2 with errors; written to standard " \
                         "output\n"


def test_summary_text_orders_statuses_as_the_contract_and_skips_zeros() -> None:
    counts = {Status.MAINTAIN: 2, Status.OUT_OF_SCOPE: 1, Status.SUPPLEMENT: 0}
    assert summary(records=4, failed=1, statuses=counts, output=Path("a b.jsonl")) == (
        "batch: 4 records: 3 assessed, 1 with errors; written to a b.jsonl\n"
        "batch: by status: out-of-scope 1, maintain 2")


# --- 5. an input without records ------------------------------------------------------------

@pytest.mark.parametrize(("name", "data", "problem", "accepted"), [
    ("in.csv", b"", "has no records: it is empty or holds only blank lines", CSV_ACCEPTED),
    ("in.csv", b"\r\n \n,,\n", "has no records: it is empty or holds only blank lines",
     CSV_ACCEPTED),
    ("in.csv", b"id,mg,crcl,ward\n", "has no records, only a header row", CSV_ACCEPTED),
    ("in.csv", b"\xef\xbb\xbfid,mg\n\n , \n", "has no records, only a header row", CSV_ACCEPTED),
    ("in.jsonl", b"", "has no records: it is empty or holds only blank lines", JSONL_ACCEPTED),
    ("in.jsonl", b"\n \r\n\t\n", "has no records: it is empty or holds only blank lines",
     JSONL_ACCEPTED),
])
def test_an_input_without_records_is_refused(cli: Cli, tmp_path: Path, name: str, data: bytes,
                                             problem: str, accepted: str) -> None:
    source = write(tmp_path / name, data)
    target = write(tmp_path / "out.jsonl", "previous\n")
    result = cli("batch", str(source), "--output", str(target))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: input: {str(source)!r} {problem}; accepted: {accepted}\n"
    assert target.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "out.jsonl"])


def test_standard_input_without_records_is_refused() -> None:
    for args, accepted in ((["batch", "-"], CSV_ACCEPTED),  # not '{': read as CSV
                           (["batch", "-", "--input-format", "jsonl"], JSONL_ACCEPTED)):
        result = stdin(args, b"\n\n")
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == ("error: input: '-' has no records: it is empty or holds only "
                                 f"blank lines; accepted: {accepted}\n")


# --- 6. a row of the wrong length keeps its id ------------------------------------------------

def test_short_long_and_unreadable_rows_keep_their_id(cli: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv",
                   b"mg,id,crcl\n"
                   b"0.6 mmol/L,p1\n"                    # short: the id cell is there
                   b"0.6 mmol/L\n"                       # short: no id cell
                   b"0.6 mmol/L,p3,80 mL/min,extra\n"    # long
                   b"0.6 mmol/L, ,80 mL/min,\n"          # long, blank id
                   b"\xff mmol/L,p5,80 mL/min\n"         # not UTF-8, but the id cell is
                   b"0.6 mmol/L,p\xff,80 mL/min,\n")     # long, an unreadable id
    result = cli("batch", str(source))
    assert result.exit_code == 1
    lines = out_lines(result.stdout)
    assert [(x["id"], x["line"], x["error"]["message"]) for x in lines] == [
        ("p1", 2, f"record: has 2 cells; the header has 3; accepted: {WRONG_LENGTH}"),
        (None, 3, f"record: has 1 cells; the header has 3; accepted: {WRONG_LENGTH}"),
        ("p3", 4, f"record: has 4 cells; the header has 3; accepted: {WRONG_LENGTH}"),
        (None, 5, f"record: has 4 cells; the header has 3; accepted: {WRONG_LENGTH}"),
        ("p5", 6, "record: is not valid UTF-8; accepted: UTF-8 text"),
        (None, 7, f"record: has 4 cells; the header has 3; accepted: {WRONG_LENGTH}"),
    ]
    assert result.stderr == "batch: 6 records: 0 assessed, 6 with errors; written to " \
                            "standard output\n"


# --- 4. progress in records ---------------------------------------------------------------------

def test_progress_bar_counts_records_not_bytes() -> None:
    from rich.console import Console

    from mgassist._shell.batch_command import _progress
    from mgassist._shell.render import RecordsProgress

    assert _progress(None) is None and _progress(10) is None  # stdin; a small file
    screen = io.StringIO()
    bar = RecordsProgress(4_000_000, console=Console(file=screen, force_terminal=True,
                                                      width=100, color_system=None))
    bar.update(6144, 1_000_000)
    bar._bar.refresh()
    bar.stop()
    shown = screen.getvalue()
    assert "6,144 records" in shown and "MB" not in shown and "bytes" not in shown, shown


def test_read_header_reports_every_problem_at_once() -> None:
    with pytest.raises(BatchInputError) as info:
        read_header(["mg", "Magnesium", "potasium", "mg"])
    assert [str(e) for e in info.value.errors] == [
        "header: columns 'mg' and 'Magnesium' are both the field 'mg'; accepted: one column "
        "per field (only meds, conditions and symptoms may take several)",
        "header: 'potasium' is not a patient field, but too close to one to ignore (did you "
        "mean 'k'?); accepted: k, potassium, serum potassium (in any case), or a name not "
        "close to any field to have the column ignored",
        "header: 'mg' appears twice; accepted: each column once"]


def test_the_batch_docs_list_every_synonym_and_show_a_real_summary() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "json-output.md").read_text()
    section = doc[doc.index("## 6. Batch output"):doc.index("## 7.")]
    for synonym, field in COLUMN_SYNONYMS.items():
        assert f"`{synonym}`" in section and f"→ `{field}`" in section, synonym
    assert SIX_SUMMARY.format("out.jsonl") in section


def test_a_long_ignored_column_name_is_shortened_in_the_note() -> None:
    columns = read_header(["mg", "x" * 41, "y" * 40])
    assert columns.note() == ("note: ignored 2 columns that are not patient fields: "
                              f"'{'x' * 37}...', '{'y' * 40}'")


@pytest.mark.parametrize(("head", "separator"), [
    (b"ID;Mg;CrCl\n", ";"), (b"\xef\xbb\xbfID\tMg\n", "\t"), (b"ID,Mg\n", ","),
    (b"\tage\n0\t,\n", ","),  # one comma-read column, "age": a tab inside it is not a separator
    (b"notes;more\n", ","),  # no patient field either way: commas, refused as before
    (b"\n\nMg;CrCl\n", ";"),
    (b";;;\r\n ; ;\nMg;CrCl\n", ";")])  # a spreadsheet's empty rows, saved with semicolons
def test_the_separator_is_the_one_that_reads_a_patient_field(head: bytes,
                                                             separator: str) -> None:
    from mgassist._shell.batch_records import _delimiter

    assert _delimiter(io.BufferedReader(io.BytesIO(head))) == separator  # type: ignore[arg-type]
    assert _delimiter(io.BytesIO(head)) == ","  # a stream that cannot be peeked
