"""What the brief and the full report share: the decision box, styles, reference lines."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from typing import Any

from mgassist._core.assessment import Assessment, Finding, ReferenceOut
from mgassist._core.contract import Severity, Status

__all__ = ["HEADLINES", "SEVERITY_STYLE", "STYLE", "cites", "decision_panel", "first_actions",
           "footer", "hanging", "identity", "link", "linked", "numbering", "reference_lines"]

HEADLINES: dict[Status, tuple[str, str]] = {
    Status.URGENT: ("URGENT", "assess now - this is not an oral-supplement decision"),
    Status.CONTRAINDICATED: ("CONTRAINDICATED", "do not give oral magnesium"),
    Status.INSUFFICIENT_DATA: ("INSUFFICIENT DATA", "no recommendation until the missing "
                                                    "information is known"),
    Status.DO_NOT_SUPPLEMENT: ("DO NOT SUPPLEMENT", "oral magnesium is not indicated"),
    Status.SUPPLEMENT_WITH_CAUTION: ("SUPPLEMENT WITH CAUTION", "oral magnesium, reduced, with "
                                                               "close monitoring"),
    Status.SUPPLEMENT: ("SUPPLEMENT", "oral magnesium at the dose below"),
    Status.MAINTAIN: ("MAINTAIN", "continue the current magnesium dose, recheck every 3 months"),
    Status.OUT_OF_SCOPE: ("OUT OF SCOPE", "not a decision mgassist makes - see why below"),
}
STYLE = {
    Status.URGENT: "bold white on red",
    Status.CONTRAINDICATED: "bold red",
    Status.INSUFFICIENT_DATA: "bold yellow",
    Status.DO_NOT_SUPPLEMENT: "bold blue",
    Status.SUPPLEMENT_WITH_CAUTION: "bold yellow",
    Status.SUPPLEMENT: "bold green",
    Status.MAINTAIN: "bold cyan",
    Status.OUT_OF_SCOPE: "bold magenta",
}
SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow",
                  Severity.INFO: "cyan"}
_URL = re.compile(r"https?://\S+")
_BOX_SIDES = 4  # a panel's border and padding, left and right
_NARROWEST = 24  # columns of text after an indent, however narrow the terminal



def cites(ids: Iterable[str], numbers: dict[str, int]) -> str:
    """``[1, 2]`` for the references ``ids``, in the report's numbering."""
    shown = [str(numbers[i]) for i in ids if i in numbers]
    return "[" + ", ".join(shown) + "]" if shown else ""


def numbering(assessment: Assessment) -> dict[str, int]:
    """Reference id -> its number in this assessment."""
    return {rid: ref.number for rid, ref in assessment.references.items()}


def decision_panel(assessment: Assessment, findings: Iterable[Finding], width: int) -> Any:
    """The decision in words, its reason, and the first actions of ``findings`` (each wrapped
    under its own text, inside a box ``width`` columns wide)."""
    from rich.panel import Panel
    from rich.text import Text

    word, meaning = HEADLINES[assessment.status]
    text = Text()
    text.append(f"DECISION: {word}", style=STYLE[assessment.status])
    text.append(f" - {meaning}\n", style="bold")
    text.append(assessment.status_reason)
    actions = first_actions(findings)
    if actions:
        text.append("\nFirst:", style="bold")
        for action in actions:
            text.append("\n" + "\n".join(hanging(" - ", action, width - _BOX_SIDES, 3)))
    title = "mgassist" + (f" - patient {assessment.id}" if assessment.id else "")
    return Panel(text, title=title, title_align="left", border_style=STYLE[assessment.status],
                 subtitle=identity(assessment), subtitle_align="right")


def identity(assessment: Assessment) -> str:
    """Which rules decided: version, source and the start of their sha256."""
    rules = assessment.rules
    return f"rules {rules.version} ({rules.source}), sha256 {rules.sha256[:16]}"


def first_actions(findings: Iterable[Finding]) -> list[str]:
    """The actions of the findings, most severe first, each once."""
    return list(dict.fromkeys(f.action for f in findings if f.action))


def link(ref: ReferenceOut) -> str:
    """Where to read a reference: its DOI as a link, else its URL, else its PMID."""
    if ref.doi:
        return f"https://doi.org/{ref.doi}"
    if ref.url:
        return ref.url
    return f"PMID {ref.pmid}" if ref.pmid else ""


def hanging(first: str, text: str, width: int, indent: int) -> list[str]:
    """``text`` wrapped to ``width`` after ``first``, continuation lines indented ``indent``
    columns; a word longer than the line (a URL) is kept whole, never split."""
    return textwrap.wrap(text, width=max(width, indent + _NARROWEST), initial_indent=first,
                         subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False) or [first.rstrip()]


def reference_lines(ref: ReferenceOut, width: int, *, brief: bool) -> list[str]:
    """One reference: brief, its short form; full, the citation and PMID with a hanging indent,
    and any caveat. The link follows on the same line when it fits, else on its own line:
    a URL is never split."""
    number = f"  [{ref.number}] "
    indent = len(number)
    where = link(ref)
    if brief:
        text = ref.short or " ".join(ref.citation.split())
    else:
        text = ref.citation + (f" PMID {ref.pmid}" if ref.pmid and where != f"PMID {ref.pmid}"
                               else "")
    lines = hanging(number, text, width, indent)
    if where and len(lines[-1]) + 1 + len(where) <= width:
        lines[-1] += " " + where
    elif where:
        lines.append(" " * indent + where)
    if ref.caveat and not brief:
        lines += hanging(" " * indent + "Note: ", ref.caveat, width, indent)
    return lines


def linked(line: str) -> Any:
    """``line`` as rich text whose web address is a hyperlink (clickable in a terminal that
    supports links; plain text elsewhere)."""
    from rich.style import Style
    from rich.text import Text

    text = Text(line)
    for match in _URL.finditer(line):
        text.stylize(Style(link=match[0]), match.start(), match.end())
    return text


def footer(assessment: Assessment, more: str | None, width: int) -> list[Any]:
    """How to see more, and the disclaimer (the rules' identity is on the decision box)."""
    from rich.text import Text

    text = (f"{more} " if more else "") + assessment.disclaimer
    return [Text(line, style="italic") for line in hanging("", text, width, 0)]

