"""The interview loop: ask each question, explain a bad answer and ask again, summarise, let
the clinician correct one answer, then hand back a validated Patient.

What to ask and how to check an answer is in ``_questions`` (no I/O); this module only talks,
through a ``Prompter``: the terminal in real use, a script in tests. Questions and messages go
to stderr, so ``--json`` output on stdout stays clean even when it is redirected.
Ctrl-C (KeyboardInterrupt) and Ctrl-D (EOFError) propagate to the caller, which leaves cleanly.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ._errors import InputErrors
from ._patient import Patient, parse_patient
from ._questions import (
    Checked,
    Question,
    assess_command,
    check,
    listing,
    patient_inputs,
    pending,
    questions,
    summary,
)
from ._ruleset import RuleSet

__all__ = ["Interview", "Prompter", "TerminalPrompter", "run_interview", "stdin_is_terminal"]

INTRO = (
    "mgassist interview: a few questions about one patient, then the assessment.\n"
    "Type a value with its unit. Enter skips an optional question, ? lists what is accepted,\n"
    "Ctrl-C or Ctrl-D leaves. Nothing is written anywhere unless you asked for --save."
)
_KEEP_OR_CLEAR = "Enter keeps it, - clears it."


class Prompter(Protocol):
    """Where the interview reads answers from and writes questions to."""

    def ask(self, prompt: str, completions: Sequence[str]) -> str:
        """Read one line (raises EOFError at end of input, KeyboardInterrupt on Ctrl-C)."""

    def say(self, text: str = "") -> None:
        """Show one message."""


def stdin_is_terminal() -> bool:
    """Whether a person can answer: the interview refuses to read questions from a pipe."""
    return sys.stdin is not None and sys.stdin.isatty()


class TerminalPrompter:
    """The real terminal: messages on stderr; line editing and Tab completion when possible."""

    def __init__(self) -> None:
        self._readline: Any = None
        if stdin_is_terminal():
            try:
                import readline

                self._readline = readline
            except ImportError:  # some platforms build Python without it; input() still works
                pass

    def say(self, text: str = "") -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def ask(self, prompt: str, completions: Sequence[str]) -> str:
        sys.stdout.flush()
        if self._readline is not None:
            self._readline.set_completer(_completer(completions))
            self._readline.set_completer_delims(" ,;\t\n")
            self._readline.parse_and_bind("tab: complete")
        if sys.stdout.isatty():
            return input(prompt)
        sys.stderr.write(prompt)  # stdout is a file or a pipe: keep it for the result
        sys.stderr.flush()
        return input()


def _completer(words: Sequence[str]) -> Callable[[str, int], str | None]:
    def complete(text: str, state: int) -> str | None:
        matches = [w for w in words if w.lower().startswith(text.lower())]
        return matches[state] if state < len(matches) else None
    return complete


@dataclass(frozen=True)
class Interview:
    """A finished interview: the questions, the answers and the patient they describe."""

    questions: tuple[Question, ...]
    answers: dict[str, Checked]
    patient: Patient

    def command(self, extra: Sequence[str] = ()) -> str:
        """The one-shot ``mgassist assess`` command that assesses the same patient."""
        return assess_command(self.questions, self.answers, extra)


def run_interview(rules: RuleSet, prompter: Prompter) -> Interview:
    """Ask until every applicable question has an answer and the clinician confirms them."""
    asked = questions(rules)
    answers: dict[str, Checked] = {}
    prompter.say(INTRO)
    _fill(asked, answers, rules, prompter)
    while True:
        _show_summary(asked, answers, prompter)
        choice = prompter.ask("Enter to assess, or the number of an answer to change: ",
                              ()).strip().lower()
        rows = summary(asked, answers)
        if choice == "":
            try:
                patient = parse_patient(patient_inputs(asked, answers), rules)
            except InputErrors as exc:  # fields that are fine alone but not together
                for error in exc.errors:
                    prompter.say(f"error: {error}")
                continue
            return Interview(asked, answers, patient)
        row = next((r for r in rows if choice in (str(r.number), r.field)), None)
        if row is None:
            prompter.say(f"{choice!r} is not an answer number; type 1 to {len(rows)}, "
                         "or press Enter to assess.")
            continue
        question = next(q for q in asked if q.field == row.field)
        answers[row.field] = _ask(question, rules, prompter, current=answers[row.field])
        _fill(asked, answers, rules, prompter)  # e.g. CrCl cleared: ask for creatinine...


def _fill(asked: Sequence[Question], answers: dict[str, Checked], rules: RuleSet,
          prompter: Prompter) -> None:
    while (question := pending(asked, answers)) is not None:
        answers[question.field] = _ask(question, rules, prompter)


def _ask(question: Question, rules: RuleSet, prompter: Prompter, *,
         current: Checked | None = None) -> Checked:
    prompter.say()
    prompter.say(question.title + (" (required)" if question.required else ""))
    prompter.say(f"  accepts: {question.accepts}")
    if question.note:
        prompter.say(f"  {question.note}")
    if current is not None:
        prompter.say(f"  now: {current.typed or '-'}. {_KEEP_OR_CLEAR}")
    while True:
        text = prompter.ask("> ", question.completions).strip()
        if text == "?":
            for line in listing(question, rules):
                prompter.say(f"  {line}")
            continue
        if current is not None and text == "":
            return current
        if current is not None and text == "-":
            text = ""
        result = check(question, text, rules)
        if isinstance(result, Checked):
            return result
        for error in result:
            prompter.say(f"error: {error}")
        prompter.say("  Please answer again (? lists what is accepted).")


def _show_summary(asked: Sequence[Question], answers: dict[str, Checked],
                  prompter: Prompter) -> None:
    rows = summary(asked, answers)
    label_width = max(len(r.label) for r in rows)
    typed_width = max(len(r.typed) for r in rows)
    prompter.say()
    prompter.say("Your answers (as typed -> as used):")
    for r in rows:
        used = "" if r.used.lower() in (r.typed.lower(), "not given") else f"  -> {r.used}"
        prompter.say(f"  {r.number:>2}  {r.label:<{label_width}}  {r.typed:<{typed_width}}{used}"
                     .rstrip())
