"""docs/rule-authoring.md, followed literally: every ``$ mgassist ...`` command of its console
blocks is run in order, in a folder holding ``my-rules`` (the ``cp -r rules my-rules`` of the
guide), with the file edits the guide asks for applied where it asks for them. Each command
must exit as the guide says (0 unless ``# exit N``) and print every output line the guide
shows, in that order (``...`` stands for lines left out). The edits are read from the guide
itself: ``<!-- walkthrough: ... -->`` comments say which block goes where.

When this fails after a change to the rules or their vignettes, the guide shows outputs that
are no longer true: update the guide (run its commands and paste the real output).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from mgassist._rulebook.source import bundled_rules_path

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "rule-authoring.md"
ACTION = re.compile(r"<!-- walkthrough: (.*) -->")


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape")


def _run(command: str, expected: list[str], cwd: Path) -> None:
    wanted_exit = 0
    m = re.search(r"#\s*exit (\d+)\s*$", command)
    if m:
        wanted_exit = int(m[1])
    argv = shlex.split(command, comments=True)
    assert argv[0] == "mgassist", command
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-m", "mgassist", *argv[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == wanted_exit, (command, done.returncode, done.stderr[-2000:])
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    position = 0
    for line in expected:
        if line.strip() == "...":
            continue
        try:
            position = lines.index(line.rstrip(), position) + 1
        except ValueError:
            raise AssertionError(f"{command!r} did not print, in order:\n{line}\n"
                                 f"--- it printed:\n{done.stdout[-4000:]}") from None


def test_the_rule_authoring_walkthrough_works_when_followed_literally(tmp_path: Path) -> None:
    text = GUIDE.read_text(encoding="utf-8").splitlines()
    pending: str | None = None
    commands = 0
    i = 0
    while i < len(text):
        line = text[i]
        action = ACTION.search(line)
        if action:
            step = action[1]
            if step == "copy rules my-rules":
                shutil.copytree(bundled_rules_path(), tmp_path / "my-rules",
                                ignore=shutil.ignore_patterns("__pycache__"))
            elif step.startswith("replace "):
                m = re.fullmatch(r'replace "(.*)" with "(.*)" in (\S+)', step)
                assert m, step
                target = tmp_path / m[3]
                body = target.read_text(encoding="utf-8")
                old, new = _unescape(m[1]), _unescape(m[2])
                assert body.count(old) == 1, (step, body.count(old))
                target.write_text(body.replace(old, new), encoding="utf-8")
            else:
                pending = step
            i += 1
            continue
        if line.startswith("```") and line.strip() != "```":
            fence = line.strip()[3:]
            block = []
            i += 1
            while not text[i].startswith("```"):
                block.append(text[i])
                i += 1
            i += 1
            if fence == "console":
                current: str | None = None
                expected: list[str] = []
                for row in [*block, "$ <end>"]:
                    if row.startswith("$ "):
                        if current is not None and current.startswith("mgassist"):
                            _run(current, expected, tmp_path)
                            commands += 1
                        current, expected = row[2:], []
                    else:
                        expected.append(row)
            elif pending is not None:
                content = "\n".join(block) + "\n"
                m = re.fullmatch(r"write (\S+) from the next block", pending)
                if m:
                    (tmp_path / m[1]).write_text(content, encoding="utf-8")
                else:
                    m = re.fullmatch(r'insert the next block before "(.*)" in (\S+)', pending)
                    assert m, pending
                    target = tmp_path / m[2]
                    body = target.read_text(encoding="utf-8")
                    anchor = _unescape(m[1])
                    assert body.count(anchor) == 1, pending
                    target.write_text(body.replace(anchor, content + anchor), encoding="utf-8")
                pending = None
            continue
        i += 1
    assert pending is None, f"a walkthrough edit has no block after it: {pending}"
    assert commands >= 10, commands
