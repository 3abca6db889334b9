"""The interview loop: ask each question, explain a bad answer and ask again, summarise, let
the clinician correct one answer, then hand back a validated Patient.

What to ask and how to check an answer is in ``questions`` (no I/O); this module only talks,
through a ``Prompter``: the terminal in real use, a script in tests. Questions and messages go
to stderr, so ``--json`` output on stdout stays clean even when it is redirected.
Ctrl-C (KeyboardInterrupt) and Ctrl-D (EOFError) propagate to the caller, which leaves cleanly,
after the answers given so far are printed as the equivalent ``mgassist assess`` command; at or
after the summary, Ctrl-C first asks whether to leave, and No returns to the summary.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mgassist._core.errors import InputError, InputErrors
from mgassist._core.fields import field_label
from mgassist._core.patient import Patient, parse_patient, split_items
from mgassist._core.ruleset import RuleSet

from .questions import (
    ITEM_NOUNS,
    Checked,
    Question,
    assess_command,
    check,
    explain_not_needed,
    join_items,
    listing,
    misplaced,
    patient_inputs,
    pending,
    questions,
    summary,
)

__all__ = [
    "Interview",
    "Prompter",
    "TerminalPrompter",
    "run_interview",
    "stdin_is_terminal",
    "wants_full",
]

INTRO = (
    "mgassist interview: a few questions about one patient, then the assessment.\n"
    "Type a value with its unit. Enter skips an optional question, ? lists what is accepted,\n"
    "Ctrl-C or Ctrl-D leaves. Nothing is written anywhere unless you asked for --save."
)
_KEEP_OR_CLEAR = "Enter keeps it, - clears it."
SUMMARY_PROMPT = "Enter to assess, or the number of an answer to change: "
LEAVE_PROMPT = "Leave without assessing? Nothing will be saved. [y/N] "
LEFT = "Your answers as one command, to assess them later:"
LEFT_PARTIAL = "Your answers so far as one command (questions not reached are left out):"


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
        # A byte that is not UTF-8 (a Latin-1 terminal's "é") must reach the answer's check as
        # a surrogate, refused there and asked again, not raise UnicodeDecodeError in input()
        # under a strict UTF-8 locale (input() decodes with sys.stdin's error handler).
        reconfigure = getattr(sys.stdin, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="surrogateescape")
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


def run_interview(rules: RuleSet, prompter: Prompter, *,
                  command_extra: Sequence[str] = ()) -> Interview:
    """Ask until every applicable question has an answer and the clinician confirms them.

    Leaving (Ctrl-C, Ctrl-D) raises KeyboardInterrupt or EOFError after printing the answers
    given so far as an ``mgassist assess`` command (with ``command_extra`` appended, e.g.
    ``--json``), so nothing typed is lost; at or after the summary, Ctrl-C first asks.
    """
    session = _Session(questions(rules), rules, prompter, tuple(command_extra))
    prompter.say(INTRO)
    try:
        session.fill()
    except (KeyboardInterrupt, EOFError):
        session.say_command(partial=True, new_line=True)
        raise
    return session.confirm()


class _Session:
    """One interview in progress: the answers so far, and the items typed at one list question
    that belong to another still to come (a symptom typed as a condition)."""

    def __init__(self, asked: tuple[Question, ...], rules: RuleSet, prompter: Prompter,
                 extra: tuple[str, ...]) -> None:
        self.asked = asked
        self.rules = rules
        self.prompter = prompter
        self.extra = extra
        self.answers: dict[str, Checked] = {}
        self.carried: dict[str, list[str]] = {}
        self.by_field = {q.field: q for q in asked}
        self.number = {q.field: n for n, q in enumerate(asked, start=1)}

    def fill(self) -> None:
        while (question := pending(self.asked, self.answers)) is not None:
            self.answers[question.field] = self.ask(question)

    def confirm(self) -> Interview:
        """The summary loop: Enter assesses, a number corrects that answer."""
        while True:
            self.show_summary()
            try:
                choice = self.prompter.ask(SUMMARY_PROMPT, ()).strip().lower()
            except KeyboardInterrupt:
                if self.leave():
                    raise
                continue
            except EOFError:
                self.say_command(partial=False, new_line=True)
                raise
            if choice == "":
                try:
                    patient = parse_patient(patient_inputs(self.asked, self.answers),
                                            self.rules)
                except InputErrors as exc:  # fields that are fine alone but not together
                    for error in exc.errors:
                        self.prompter.say(f"error: {_in_words(error, self.rules)}")
                    continue
                return Interview(self.asked, dict(self.answers), patient)
            rows = summary(self.asked, self.answers)
            row = next((r for r in rows if choice in (str(r.number), r.field)), None)
            if row is None:
                self.prompter.say(f"{choice!r} is not an answer number; type 1 to {len(rows)}, "
                                  "or press Enter to assess.")
            elif row.not_needed:
                self.prompter.say(explain_not_needed(self.asked, row.field))
            else:
                self.correct(row.field)

    def correct(self, field: str) -> None:
        """Ask one answer again, then any question that now applies (CrCl cleared: creatinine,
        age...). Leaving half-way restores the answers the summary showed."""
        shown = dict(self.answers)
        try:
            self.answers[field] = self.ask(self.by_field[field], current=self.answers[field])
            self.fill()
        except KeyboardInterrupt:
            self.answers = shown
            if self.leave():
                raise
        except EOFError:
            self.answers = shown
            self.say_command(partial=False, new_line=True)
            raise

    def leave(self) -> bool:
        """Ctrl-C at or after the summary: whether the clinician confirms leaving (then the
        command is printed). A second Ctrl-C, or Ctrl-D, at the question confirms it."""
        self.prompter.say()
        while True:
            try:
                reply = self.prompter.ask(LEAVE_PROMPT, ("y", "n")).strip().lower()
            except (KeyboardInterrupt, EOFError):
                self.say_command(partial=False, new_line=True)
                return True
            if reply in ("y", "yes"):
                self.say_command(partial=False, new_line=False)
                return True
            if reply in ("", "n", "no"):
                return False
            self.prompter.say("Please answer y or n.")

    def say_command(self, *, partial: bool, new_line: bool) -> None:
        """The answers so far as one ``mgassist assess`` command, on leaving (only when there
        is something to carry over, before the summary)."""
        answers = dict(self.answers)
        for field, items in self.carried.items():  # typed, waiting for their question
            answers[field] = Checked(join_items(items), "")
        if partial and not patient_inputs(self.asked, answers):
            return
        if new_line:  # the terminal's cursor is still after the prompt, beside ^C
            self.prompter.say()
        self.prompter.say(LEFT_PARTIAL if partial else LEFT)
        self.prompter.say("  " + assess_command(self.asked, answers, self.extra))

    def ask(self, question: Question, *, current: Checked | None = None) -> Checked:
        prompter = self.prompter
        carried = self.carried.get(question.field, [])
        prompter.say()
        prompter.say(question.title + (" (required)" if question.required else ""))
        prompter.say(f"  accepts: {question.accepts}")
        if carried:  # instead of "Enter for none."
            prompter.say(f"  From an earlier answer: {', '.join(carried)}. Type any others, "
                         "or Enter for just these.")
        elif question.note:
            prompter.say(f"  {question.note}")
        if current is not None:
            prompter.say(f"  now: {current.typed or '-'}. {_KEEP_OR_CLEAR}")
        while True:
            text = prompter.ask("> ", question.completions).strip()
            if text == "?":
                for line in listing(question, self.rules):
                    prompter.say(f"  {line}")
                continue
            if current is not None and text == "":
                return current
            if current is not None and text == "-":
                text = ""
            kept, moved = misplaced(question, text, self.rules)
            if carried:
                kept = join_items([*carried, *split_items(kept)])
            result = check(question, kept, self.rules)
            if isinstance(result, Checked):
                added = self.added(moved)
                if isinstance(added, dict):
                    self.carried.pop(question.field, None)
                    self.move(question, moved, added)
                    return result
                result = added
            for error in result:
                prompter.say(f"error: {_in_words(error, self.rules)}")
            prompter.say("  Please answer again (? lists what is accepted).")

    def added(self, moved: dict[str, tuple[str, ...]]
              ) -> dict[str, Checked] | tuple[InputError, ...]:
        """The answers already given with the moved items added, checked before anything is
        moved (an item is only moved where it is accepted, so this refuses nothing in practice:
        but nothing typed may be dropped on the way)."""
        added: dict[str, Checked] = {}
        for field, items in moved.items():
            if field in self.answers:
                given = split_items(self.answers[field].typed)
                result = check(self.by_field[field], join_items([*given, *items]), self.rules)
                if not isinstance(result, Checked):
                    return result
                added[field] = result
        return added

    def move(self, source: Question, moved: dict[str, tuple[str, ...]],
             added: dict[str, Checked]) -> None:
        """Put items typed at ``source`` where they belong, saying so: into that answer if it
        is given, else to its question, asked later with them."""
        for field, items in moved.items():
            target = self.by_field[field]
            if field in added:
                self.answers[field] = added[field]
                done = f"added to the {target.label} answer ({self.number[field]})"
            else:
                self.carried.setdefault(field, []).extend(items)
                done = f"moved to the {target.label} question ({self.number[field]})"
            for item in items:
                self.prompter.say(f"note: {item!r} is a {ITEM_NOUNS[field]}, not a "
                                  f"{ITEM_NOUNS[source.field]}: {done}.")

    def show_summary(self) -> None:
        rows = summary(self.asked, self.answers)
        label_width = max(len(r.label) for r in rows)
        typed_width = max(len(r.typed) for r in rows)
        say = self.prompter.say
        say()
        say("Your answers (as typed -> as used):")
        for r in rows:
            if r.not_needed:
                say(f"  {r.number:>2}  {r.label:<{label_width}}  ({r.not_needed})")
                continue
            used = "" if r.used.lower() in (r.typed.lower(), "not given") else f"  -> {r.used}"
            say(f"  {r.number:>2}  {r.label:<{label_width}}  {r.typed:<{typed_width}}{used}"
                .rstrip())


FULL_PROMPT = "Show the full report (every finding, the inputs as used, the references)? [y/N] "


def wants_full(prompter: Prompter) -> bool:
    """After the brief report: whether the clinician asks for the full one (Ctrl-C or Ctrl-D
    here mean no: the assessment is already on the screen)."""
    try:
        answer = prompter.ask(FULL_PROMPT, ("y", "n")).strip().lower()
    except (KeyboardInterrupt, EOFError):
        prompter.say()
        return False
    return answer in ("y", "yes")


def _in_words(error: InputError, rules: RuleSet) -> str:
    """An error as the interview says it: the field named in words, as its question does
    (``serum magnesium: '1.5' has no unit``), never by its JSON key ("mg" reads as milligrams)."""
    return error.message(name=error.label or field_label(error.field, rules).replace("_", " "))
