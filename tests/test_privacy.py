"""Privacy: mgassist writes no patient data unless asked, connects to no network, and never
echoes a whole patient record in an error.

Each command runs in a subprocess under a Python audit hook (PEP 578) that records every file
opened for writing, every file-system change, every socket or HTTP call and every process
started, and reports them in a file outside the folders watched. The hook sees what
Python does, including what the libraries we use do; it is checked against the files actually
found on disk afterwards. HOME, the working folder and TMPDIR are fresh folders of the test.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

# Runs mgassist's console entry point with an audit hook installed first. Event names are those
# CPython documents in its audit events table; a write is an open with a writing mode or flags.
_WATCHED = r"""
import os, sys
REPORT = sys.argv.pop(1)
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
CHANGES = {"os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link",
           "os.truncate", "os.chmod", "os.chown", "os.utime", "shutil.copyfile", "shutil.move",
           "shutil.rmtree", "tempfile.mkstemp", "tempfile.mkdtemp"}
PROCESSES = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
             "os.fork", "os.forkpty", "pty.spawn"}
events = []

def paths(args):
    return [os.fsdecode(a) for a in args if isinstance(a, (str, bytes, os.PathLike))]

def hook(event, args):
    if event == "open":
        path, mode, flags = (list(args) + [None, None, None])[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
                 (isinstance(flags, int) and flags & WRITE)
        if writes and isinstance(path, (str, bytes, os.PathLike)):
            events.append(["write", os.fsdecode(path)])
    elif event in CHANGES:
        events.append(["change", event, *paths(args)])
    elif event.startswith(("socket.", "http.client.", "urllib.", "ftplib.", "smtplib.",
                           "webbrowser.")):
        events.append(["network", event, repr(args)[:200]])
    elif event in PROCESSES:
        events.append(["process", event, repr(args)[:200]])

sys.addaudithook(hook)
sys.argv[0] = "mgassist"
code = 0
try:
    from mgassist._shell.entry import main
    main()
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
finally:
    import json
    report = json.dumps(events)  # before the report's own write, which the hook also sees
    with open(REPORT, "w") as stream:
        stream.write(report)
sys.exit(code)
"""

# Revision 2's inputs: a calcium with its albumin, and an eGFR given as a bound.
REVISION_2 = ["--ca", "2.41 mmol/L", "--albumin", "41 g/L", "--egfr", ">63 mL/min/1.73m2"]
PATIENT = ["assess", "--mg", "1.5 mg/dL", "--creatinine", "1.4 mg/dL", "--age", "72",
           "--sex", "female", "--weight", "60 kg", "--height", "165 cm", "--k", "3.2 mmol/L",
           "--med", "furosemide", "--med", "omeprazole",
           "--indication", "documented-hypomagnesemia", *REVISION_2]
# A record whose every field is distinctive, so an echo of any of them is visible (and none is
# part of an example the messages give: "45 mL/min" is in the eGFR example "45 mL/min/1.73m2").
SECRET = "Zebediah-Quartermain-1931"
RECORD = {"id": "ward7-bed3", "mg": "0.6 mmol/L", "crcl": "43 mL/min", "age": 67, "sex": "male",
          "meds": ["furosemide"], "indication": "documented-hypomagnesemia"}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    events: list[list[str]]
    created: set[Path]


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    folders = {name: tmp_path / name for name in ("home", "work", "tmp")}
    for folder in folders.values():
        folder.mkdir()
    return folders


def run(place: dict[str, Path], *args: str, cache: bool = True, stdin: str = "") -> Run:
    env = _environment(place, cache=cache)
    before = _files(place)
    report = place["work"].parent / "events.json"
    done = subprocess.run([sys.executable, "-c", _WATCHED, str(report), *args],
                          input=stdin, capture_output=True, text=True, env=env,
                          cwd=place["work"], timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr, _events(report),
               _files(place) - before)


def _environment(place: dict[str, Path], *, cache: bool) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(place["home"]), "TMPDIR": str(place["tmp"]),
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"}
    if not cache:
        env["MGASSIST_NO_CACHE"] = "1"
    return env


def _events(report: Path) -> list[list[str]]:
    events: list[list[str]] = json.loads(report.read_text())
    report.unlink()
    return events


def _files(place: dict[str, Path]) -> set[Path]:
    return {p for folder in place.values() for p in folder.rglob("*")}


def cache_folder(place: dict[str, Path]) -> Path:
    return place["home"] / ".cache" / "mgassist"


COMMANDS = {  # name: (arguments, exit code)
    "assess text": ([*PATIENT], 0),
    "assess json": ([*PATIENT, "--json"], 0),
    "assess explain": ([*PATIENT, "--json", "--explain"], 0),
    "assess bad value": ([*PATIENT, "--mg", "lots", "--json"], 2),
    "rules validate": (["rules", "validate"], 0),
    "rules show": (["rules", "show"], 0),
    "rules test": (["rules", "test", "--coverage"], 0),
    "schema": (["schema", "output"], 0),
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_run_writes_nothing_and_connects_nowhere_without_the_cache(
        place: dict[str, Path], name: str) -> None:
    args, code = COMMANDS[name]
    result = run(place, *args, cache=False)
    assert result.code == code, result.stdout + result.stderr
    assert result.events == []
    assert result.created == set()


@pytest.mark.parametrize("name", ["assess json", "rules test"])  # both compile the rules
def test_with_the_cache_only_the_user_cache_folder_is_written(
        place: dict[str, Path], name: str) -> None:
    args, code = COMMANDS[name]
    result = run(place, *args)
    assert result.code == code, result.stdout + result.stderr
    cache = cache_folder(place)
    for kind, *what in result.events:
        assert kind in ("write", "change"), what
        touched = what if kind == "write" else what[1:]
        assert touched, what
        for path in map(Path, touched):  # the cache folder, its parent (mkdir -p), its entries
            assert path in (cache, cache.parent) or path.parent == cache, what
    for path in result.created:
        assert path in (cache, cache.parent) or cache in path.parents, path
    for entry in result.created - {cache, cache.parent}:
        assert entry.name.startswith("rules-"), entry  # compiled rules, never a patient
        assert SECRET.encode() not in entry.read_bytes()


def test_the_cache_never_holds_a_patient(place: dict[str, Path]) -> None:
    from mgassist._rulebook.loader import bundled_rules_path

    values = ["0.57 mmol/L", "43 mL/min", *REVISION_2[1::2]]
    rules_text = "".join(path.read_text(encoding="utf-8")  # what the cache is compiled from
                         for path in bundled_rules_path().glob("*.yaml"))
    for value in values:  # else finding it in the cache would prove nothing
        assert value not in rules_text, value
    result = run(place, "assess", "--mg", values[0], "--crcl", values[1], *REVISION_2,
                 "--indication", "other", "--med", "furosemide", "--json")
    assert result.code == 0
    entries = [p for p in result.created if p.is_file()]
    assert entries, "the first run compiles the rules into the cache"
    for entry in entries:
        data = entry.read_bytes()
        for value in values:
            assert value.encode() not in data, value


def test_batch_writes_only_the_output_asked_for(place: dict[str, Path]) -> None:
    source = place["work"] / "ward.jsonl"
    source.write_text(json.dumps(RECORD) + "\n" + json.dumps({**RECORD, "id": "x2"}) + "\n")
    before = _files(place)
    result = run(place, "batch", "ward.jsonl", "--output", "out.jsonl", cache=False)
    assert result.code == 0, result.stderr
    assert result.created - before == {place["work"] / "out.jsonl"}
    written = {Path(path).name for kind, path, *_ in result.events if kind == "write"}
    # the atomic writer's temporary file, renamed onto out.jsonl; nothing else
    assert all(name == "out.jsonl" or name.startswith(".out.jsonl") for name in written), written
    assert {kind for kind, *_ in result.events} <= {"write", "change"}
    assert len((place["work"] / "out.jsonl").read_text().splitlines()) == 2


def test_batch_to_stdout_writes_no_file(place: dict[str, Path]) -> None:
    source = place["work"] / "ward.jsonl"
    source.write_text(json.dumps(RECORD) + "\n")
    before = _files(place)
    result = run(place, "batch", "ward.jsonl", cache=False)
    assert result.code == 0
    assert result.events == []
    assert result.created - before == set()
    assert json.loads(result.stdout)["id"] == "ward7-bed3"


def interview(place: dict[str, Path], *args: str) -> Run:
    """The questionnaire in a pseudo-terminal: Mg and CrCl answered, the rest left blank."""
    env = {**_environment(place, cache=False), "NO_COLOR": "1", "TERM": "xterm"}
    report = place["work"].parent / "events.json"
    before = _files(place)
    child = pexpect.spawn(sys.executable, ["-c", _WATCHED, str(report), "interview", *args],
                          cwd=str(place["work"]), env=env, encoding="utf-8", timeout=60,
                          dimensions=(50, 100))
    transcript = io.StringIO()
    child.logfile_read = transcript
    for question, reply in [("Serum magnesium", "0.6 mmol/L"),
                            ("Creatinine clearance", "45 mL/min")]:
        child.expect_exact(question)
        child.expect_exact("> ")
        child.sendline(reply)
    while child.expect_exact(["> ", "Enter to assess"]) == 0:
        child.sendline("")
    child.sendline("")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in transcript.getvalue(), \
        transcript.getvalue()
    return Run(0, transcript.getvalue(), "", _events(report), _files(place) - before)


def test_interview_writes_only_when_asked_to_save(place: dict[str, Path]) -> None:
    unsaved = interview(place)
    assert "SUPPLEMENT WITH CAUTION" in unsaved.stdout
    assert unsaved.events == [] and unsaved.created == set()
    saved = interview(place, "--save", "a.json")
    assert saved.created == {place["work"] / "a.json"}
    assert json.loads((place["work"] / "a.json").read_text())["status"] == \
        "supplement-with-caution"
    assert {kind for kind, *_ in saved.events} == {"write", "change"}


# ---------------------------------------------------------------------------------------------
# Errors never echo a whole record
# ---------------------------------------------------------------------------------------------

def _echoes(text: str, record: dict[str, object]) -> list[str]:
    """The record's values (other than the id, which is echoed by design) found in ``text``."""
    found = []
    for key, value in record.items():
        if key == "id":
            continue
        for item in value if isinstance(value, list) else [value]:
            if str(item) in text:
                found.append(f"{key}={item}")
    return found


@pytest.mark.parametrize("broken", [
    {"mg": f"0.6 {SECRET}"},                # a bad unit: the field's own value may be named
    {"age": SECRET},
    {"meds": ["furosemide", "furosemid"]},  # a misspelling (any other name is accepted)
    {"sex": SECRET, "crcl": "12 kg"},
    {SECRET: "x"},                          # an unknown key
    # a bound with a bad unit, and bounds where none is accepted
    {"egfr": f">63 {SECRET}", "albumin": "<41 g/L", "mg": "<0.6 mmol/L"},
])
def test_a_batch_error_names_the_field_not_the_record(place: dict[str, Path],
                                                      broken: dict[str, object]) -> None:
    record = {**RECORD, "k": "3.17 mmol/L", "weight": "81.3 kg", "conditions": ["diabetes"],
              "ca": "2.41 mmol/L", "albumin": "41 g/L", "egfr": ">63 mL/min/1.73m2", **broken}
    (place["work"] / "in.jsonl").write_text(json.dumps(record) + "\n")
    result = run(place, "batch", "in.jsonl", cache=False)
    assert result.code == 1
    line = json.loads(result.stdout)
    assert line["id"] == "ward7-bed3" and line["error"]["field"]
    others = {k: v for k, v in record.items() if k not in broken}
    assert _echoes(result.stdout + result.stderr, others) == []


def test_an_unreadable_batch_line_is_not_echoed(place: dict[str, Path]) -> None:
    text = json.dumps(RECORD)[:-1] + f', "note": "{SECRET}"'  # truncated JSON
    (place["work"] / "in.jsonl").write_text(text + "\n")
    result = run(place, "batch", "in.jsonl", cache=False)
    assert result.code == 1
    assert SECRET not in result.stdout + result.stderr
    assert _echoes(result.stdout + result.stderr, RECORD) == []
    assert json.loads(result.stdout)["error"]["field"] == "record"


def test_an_assess_error_names_only_the_bad_field(place: dict[str, Path]) -> None:
    result = run(place, "assess", "--mg", "0.6", "--crcl", "45 mL/min", "--k", "3.17 mmol/L",
                 "--weight", "81.3 kg", "--json", cache=False)
    assert result.code == 2
    error = json.loads(result.stdout or result.stderr)
    assert "mg" in json.dumps(error)
    assert _echoes(result.stdout + result.stderr, {"crcl": "45 mL/min", "k": "3.17 mmol/L",
                                                   "weight": "81.3 kg"}) == []


def test_the_hook_sees_writes_and_connections(place: dict[str, Path]) -> None:
    """The watcher is not blind: a program that writes and connects is caught."""
    probe = _WATCHED.replace(
        "from mgassist._shell.entry import main\n    main()",
        "open('x.txt', 'w').close()\n    import socket\n"
        "    try:\n        socket.create_connection(('127.0.0.1', 9), timeout=0.2)\n"
        "    except OSError:\n        pass")
    assert probe != _WATCHED
    report = place["work"].parent / "events.json"
    subprocess.run([sys.executable, "-c", probe, str(report)], cwd=place["work"],
                   capture_output=True, timeout=60, check=True)
    events = _events(report)
    assert ["write", "x.txt"] in events
    assert any(kind == "network" for kind, *_ in events), events
