"""The text report: the only module that imports rich, and only when a report is printed.

The report reads top to bottom the way a clinician decides: the decision (colour AND words, so
it survives NO_COLOR and a black-and-white printout), the findings by severity, the regimen with
elemental and salt amounts side by side, monitoring, the inputs as used, numbered references,
the rule set's identity and the disclaimer. It renders an Assessment and nothing else, so the
text and the JSON can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from ._assessment import Assessment, Regimen
from ._contract import Severity, Status
from ._fields import field_label
from ._ruleset import RuleSet

__all__ = ["HEADLINES", "progress_bar", "render_report"]

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
_STYLE = {
    Status.URGENT: "bold white on red",
    Status.CONTRAINDICATED: "bold red",
    Status.INSUFFICIENT_DATA: "bold yellow",
    Status.DO_NOT_SUPPLEMENT: "bold blue",
    Status.SUPPLEMENT_WITH_CAUTION: "bold yellow",
    Status.SUPPLEMENT: "bold green",
    Status.MAINTAIN: "bold cyan",
    Status.OUT_OF_SCOPE: "bold magenta",
}
_SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.WARNING: "yellow",
                   Severity.INFO: "cyan"}


def render_report(
    assessment: Assessment, rules: RuleSet, *, file: IO[str] | None = None,
    width: int | None = None, color: bool | None = None,
) -> None:
    """Print the report for ``assessment`` (``color=None``: decide from the terminal)."""
    from rich.console import Console

    console = Console(file=file, width=width, no_color=None if color is None else not color,
                      force_terminal=True if color else None, highlight=False,
                      emoji=False, soft_wrap=False)
    numbers = {rid: ref.number for rid, ref in assessment.references.items()}
    for block in (_decision(assessment), _findings(assessment, numbers),
                  _regimen(assessment.regimen, numbers),
                  _monitoring(assessment, numbers), _inputs(assessment, rules, numbers),
                  _references(assessment), _footer(assessment)):
        if block is not None:
            console.print(block)
            console.print()


def _cites(ids: list[str], numbers: dict[str, int]) -> str:
    return "[" + ", ".join(str(numbers[i]) for i in ids if i in numbers) + "]" if ids else ""


def _decision(assessment: Assessment) -> Any:
    from rich.panel import Panel
    from rich.text import Text

    word, meaning = HEADLINES[assessment.status]
    text = Text()
    text.append(f"DECISION: {word}", style=_STYLE[assessment.status])
    text.append(f" - {meaning}\n", style="bold")
    text.append(assessment.status_reason)
    title = "mgassist" + (f" - patient {assessment.id}" if assessment.id else "")
    return Panel(text, title=title, title_align="left", border_style=_STYLE[assessment.status])


def _findings(assessment: Assessment, numbers: dict[str, int]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Findings (most severe first)", title_justify="left", show_lines=False,
                  expand=True, title_style="bold")
    table.add_column("Severity", no_wrap=True)
    table.add_column("Finding", ratio=1)
    table.add_column("Refs", no_wrap=True)
    for finding in assessment.findings:
        body = Text()
        body.append(finding.id, style="bold")
        body.append("\n" + finding.message)
        for detail in finding.details:
            body.append("\n  - " + detail)
        table.add_row(Text(finding.severity.value.upper(), style=_SEVERITY_STYLE[finding.severity]),
                      body, _cites(finding.citations, numbers))
    return table


def _regimen(regimen: Regimen | None, numbers: dict[str, int]) -> Any:
    from rich.table import Table

    if regimen is None:
        return None
    title = f"Regimen ({regimen.dose_basis.value}) {_cites(regimen.citations, numbers)}"
    table = Table(title=title, title_justify="left", show_header=False, expand=True,
                  title_style="bold")
    table.add_column("What", no_wrap=True, style="bold")
    table.add_column("Amount", ratio=1)
    table.add_row("Product", regimen.product)
    if regimen.elemental_mmol_per_day is None:
        table.add_row("Dose", regimen.note or "")
        table.add_row("Do not exceed",
                      f"elemental magnesium {regimen.max_elemental_mmol_per_day:g} mmol/day = "
                      f"{regimen.max_elemental_mg_per_day:g} mg/day | {regimen.product} "
                      f"{regimen.max_product_mg_per_day:.0f} mg/day")
    else:
        table.add_row("Elemental magnesium",
                      f"{regimen.elemental_mmol_per_day:g} mmol/day = "
                      f"{regimen.elemental_mg_per_day:g} mg/day")
        product_mg = regimen.product_mg_per_day or 0.0
        table.add_row("As the salt", f"{regimen.product} about {product_mg:.0f} mg/day "
                                     f"({product_mg:g} mg)")
        basis = f" - {regimen.max_basis}" if regimen.max_basis else ""
        table.add_row("Never above", f"{regimen.product} {regimen.max_product_mg_per_day:.0f} "
                      f"mg/day (elemental {regimen.max_elemental_mmol_per_day:g} mmol = "
                      f"{regimen.max_elemental_mg_per_day:g} mg){basis}")
    table.add_row("When", regimen.timing)
    alt = regimen.alternative
    if alt is not None:
        table.add_row("Alternative",
                      f"{alt.product}: elemental magnesium {alt.elemental_mg_per_day_min:g}-"
                      f"{alt.elemental_mg_per_day_max:g} mg/day "
                      f"({alt.elemental_mmol_per_day_min:g}-{alt.elemental_mmol_per_day_max:g} "
                      f"mmol) = salt about {alt.product_mg_per_day_min:.0f}-"
                      f"{alt.product_mg_per_day_max:.0f} mg/day. {alt.note} "
                      f"{_cites(alt.citations, numbers)}")
    table.add_row("Side effects", ", ".join(regimen.side_effects) + ". "
                  + regimen.side_effects_advice)
    return table


def _monitoring(assessment: Assessment, numbers: dict[str, int]) -> Any:
    from rich.text import Text

    plan = assessment.monitoring
    if plan is None:
        return None
    text = Text()
    text.append(f"Monitoring {_cites(plan.citations, numbers)}\n", style="bold")
    for item in plan.schedule:
        text.append(f"  - {item}\n")
    if plan.more_often_because:
        text.append(f"  {plan.more_often_text}\n")
        for reason in plan.more_often_because:
            text.append(f"    * {reason}\n")
    else:
        text.append("  No reason to monitor more often was identified from the inputs.\n")
    for note in plan.basis_notes:
        text.append(f"  Basis: {note}\n", style="italic")
    text.rstrip()
    return text


def _inputs(assessment: Assessment, rules: RuleSet, numbers: dict[str, int]) -> Any:
    from rich.table import Table
    from rich.text import Text  # what was typed is shown as typed, never read as markup

    derived = assessment.derived
    table = Table(title="Inputs as used", title_justify="left", expand=True, title_style="bold")
    table.add_column("Field", width=17)
    table.add_column("As entered", ratio=3)
    table.add_column("As used", ratio=5)
    used = {"mg": derived.mg_mmol_l, "k": derived.k_mmol_l, "ca": derived.ca_mmol_l,
            "albumin": derived.albumin_g_l, "creatinine": derived.creatinine_mg_dl,
            "egfr": derived.egfr_ml_min_173, "age": derived.age_years,
            "weight": derived.weight_kg, "height": derived.height_cm,
            "current_dose": derived.current_dose_mmol_per_day}
    for name, value in assessment.inputs.items():
        if name == "crcl":
            continue
        rule = rules.quantities.get(name)
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        number = used.get(name)
        bound = (derived.egfr_comparator or "") if name == "egfr" else ""
        as_used = bound + rule.as_used(number) if rule is not None and number is not None else ""
        if name == "meds":
            as_used = _meds_as_used(derived, rules)
        table.add_row(field_label(name, rules), Text(shown), Text(as_used))
    if derived.ca_adjusted_mmol_l is not None:
        table.add_row("adjusted calcium", "-", f"{derived.ca_adjusted_mmol_l:.2f} mmol/L "
                      f"(for albumin {derived.albumin_g_l:g} g/L)")
    cg_cite = rules.cockcroft_gault.cite
    method = derived.crcl_method.value if derived.crcl_method is not None else None
    if derived.crcl_ml_min is not None:
        if method == "cockcroft-gault":
            how = "Cockcroft-Gault" + _cg_basis(assessment, numbers, cg_cite)
        else:
            how = "eGFR, in place of creatinine clearance" if method == "egfr" else "reported"
        bound = derived.crcl_comparator or ""
        table.add_row("renal function used", Text(str(assessment.inputs.get("crcl", "-"))),
                      f"{bound}{derived.crcl_ml_min:g} mL/min ({how})")
    if method != "cockcroft-gault" and derived.crcl_cockcroft_gault_ml_min is not None:
        table.add_row("Cockcroft-Gault", "-",
                      f"{derived.crcl_cockcroft_gault_ml_min:g} mL/min, for comparison"
                      + _cg_basis(assessment, numbers, cg_cite))
    for note in derived.notes:
        table.add_row("note", "", Text(note))
    return table


def _meds_as_used(derived: Any, rules: RuleSet) -> str:
    """The classes read from the medication names, then the names not recognised."""
    parts = [rules.vocabulary.label("meds", c) for c in derived.med_classes]
    if derived.meds_not_recognised:
        parts.append("not recognised: " + ", ".join(derived.meds_not_recognised))
    return "; ".join(parts)


def _cg_basis(assessment: Assessment, numbers: dict[str, int],
              cite: tuple[str, ...]) -> str:
    derived = assessment.derived
    basis = derived.crcl_weight_basis.value if derived.crcl_weight_basis else "actual"
    text = f": {basis} weight {derived.crcl_weight_kg:g} kg"
    if derived.bmi is not None and derived.ideal_body_weight_kg is not None:
        text += f", BMI {derived.bmi:g}, ideal {derived.ideal_body_weight_kg:g} kg"
    return text + (" " + _cites(list(cite), numbers) if cite else "")


def _references(assessment: Assessment) -> Any:
    from rich.text import Text

    text = Text()
    text.append("References\n", style="bold")
    for ref in assessment.references.values():
        ids = [f"doi:{ref.doi}" if ref.doi else "", f"PMID {ref.pmid}" if ref.pmid else "",
               ref.url or "" if not ref.doi else ""]
        text.append(f"  [{ref.number}] {ref.citation} {' '.join(i for i in ids if i)}\n")
        if ref.caveat:
            text.append(f"      Note: {ref.caveat}\n", style="italic")
    return text


def _footer(assessment: Assessment) -> Any:
    from rich.text import Text

    rules = assessment.rules
    text = Text()
    text.append(f"Rules {rules.version} ({rules.source}), sha256 {rules.sha256[:16]}...\n",
                style="dim")
    text.append(assessment.disclaimer, style="italic")
    return text


def progress_bar(total_bytes: int) -> Callable[[int | None], None]:
    """A progress bar on stderr; call it with the bytes read so far, and with None to end."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    progress = Progress("assessing", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                        console=Console(stderr=True), transient=True)
    task = progress.add_task("batch", total=total_bytes)
    progress.start()

    def update(done: int | None) -> None:
        if done is None:
            progress.stop()
        else:
            progress.update(task, completed=done)
    return update
