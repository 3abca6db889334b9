"""An Assessment as CDS Hooks cards (CDS Hooks 2.0, "Card Attributes").

    assessment_cards(assessment, ...) -> [card, ...]   the decision, then one card per
                                                        critical or warning finding
    order_cards(assessment, draft_orders, ...)         a critical card per magnesium product
                                                        ordered for an urgent or
                                                        contraindicated patient
    compact(value)                                     no null or empty value anywhere

Each card has a ``uuid``, a one-sentence ``summary`` under 140 characters, an ``indicator``
(critical for urgent and contraindicated, warning for supplement-with-caution and
insufficient-data, else info; a finding's card carries the finding's severity), a ``source``
naming the rule set, a Markdown ``detail`` with the reasoning, the values used and the
references, ``links`` (type absolute) to the references, and ``overrideReasons``. Information
findings are folded into the decision card's detail. A ``supplement`` decision suggests the
MedicationRequest of its regimen (``selectionBehavior`` at-most-one).

The specification forbids null and empty values ("Use of JSON"): optional fields are left
out, and ``compact`` removes whatever is still empty before a card leaves the service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mgassist._core.assessment import Assessment, Finding, ReferenceOut, Regimen
from mgassist._core.contract import MedRole, Severity, Status
from mgassist._core.medications import read_medication
from mgassist._core.ruleset import RuleSet
from mgassist._fhir.bundle import References
from mgassist._shell.render_parts import HEADLINES, first_actions, link

__all__ = ["INDICATOR", "OVERRIDE_REASONS", "SUMMARY_LIMIT", "assessment_cards", "compact",
           "magnesium_orders", "order_cards", "summary"]

SUMMARY_LIMIT = 140  # "One-sentence, <140-character summary"
INDICATOR: Mapping[Status, str] = {
    Status.URGENT: "critical", Status.CONTRAINDICATED: "critical",
    Status.SUPPLEMENT_WITH_CAUTION: "warning", Status.INSUFFICIENT_DATA: "warning",
    Status.SUPPLEMENT: "info", Status.MAINTAIN: "info", Status.DO_NOT_SUPPLEMENT: "info",
    Status.OUT_OF_SCOPE: "info",
}
_ORDER_ALERT = (Status.URGENT, Status.CONTRAINDICATED)
# The specification prescribes no override reasons; these are mgassist's own codes.
OVERRIDE_SYSTEM = "urn:mgassist:cds-hooks:override-reason"
OVERRIDE_REASONS = (
    ("clinical-judgement", "Clinical judgement: the advice does not fit this patient"),
    ("data-not-current", "The values used are not current"),
    ("already-addressed", "Already addressed (ordered, stopped or planned)"),
    ("patient-declined", "Patient declined"),
)
_UCUM = "http://unitsofmeasure.org"


def assessment_cards(assessment: Assessment, *, patient_id: str, source_url: str,
                     values: Sequence[str] = (), notes: Sequence[str] = ()
                     ) -> list[dict[str, Any]]:
    """The decision card, then a card per critical or warning finding (``values``: the
    values used, with their dates, one Markdown line each; ``notes``: how the data were
    obtained, such as an OperationOutcome read as no data)."""
    shown = [f for f in assessment.findings if f.severity is not Severity.INFO]
    cards = [_decision_card(assessment, shown, patient_id, source_url, values, notes)]
    cards += [_finding_card(assessment, finding, source_url) for finding in shown]
    return cards


def summary(text: str) -> str:
    """``text`` as one line under SUMMARY_LIMIT characters, cut at a word (with an ellipsis)
    when longer, ending with a full stop."""
    line = " ".join(text.split()).rstrip()
    if line and line[-1] not in ".!?":
        line += "."
    if len(line) < SUMMARY_LIMIT:
        return line
    cut = line[: SUMMARY_LIMIT - 2].rsplit(" ", 1)[0].rstrip(",;:-")
    return cut + "…"


def _source(assessment: Assessment, url: str) -> dict[str, Any]:
    return {"label": f"mgassist rules {assessment.rules.version}", "url": url}


def _card(summary_text: str, indicator: str, source: dict[str, Any], detail: str,
          links: list[dict[str, Any]]) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid4()), "summary": summary(summary_text), "indicator": indicator,
            "detail": detail, "source": source, "links": links,
            "overrideReasons": [{"code": code, "system": OVERRIDE_SYSTEM, "display": display}
                                for code, display in OVERRIDE_REASONS]}


def _decision_summary(assessment: Assessment) -> str:
    word, meaning = HEADLINES[assessment.status]
    regimen = assessment.regimen
    if assessment.status is Status.SUPPLEMENT and regimen and regimen.product_mg_per_day:
        text = (f"Supplement oral magnesium: {regimen.product} about "
                f"{regimen.product_mg_per_day:.0f} mg/day (elemental magnesium "
                f"{regimen.elemental_mmol_per_day:g} mmol/day)")
        if len(text) < SUMMARY_LIMIT - 1:
            return text
    return f"Magnesium: {word.lower()} - {meaning}"


def _decision_card(assessment: Assessment, shown: list[Finding], patient_id: str,
                   source_url: str, values: Sequence[str], notes: Sequence[str]
                   ) -> dict[str, Any]:
    word, meaning = HEADLINES[assessment.status]
    parts = [f"**{word}** - {meaning}.", assessment.status_reason]
    actions = first_actions(shown)
    if actions:
        parts.append("**First:**\n" + _bullets(actions))
    cited: list[str] = []
    if assessment.regimen is not None:
        parts.append(_regimen_text(assessment.regimen))
        cited += assessment.regimen.citations
    if assessment.monitoring is not None:
        monitoring = assessment.monitoring
        lines = list(monitoring.schedule)
        if monitoring.more_often_because:
            lines.append(f"{monitoring.more_often_text.rstrip(': ')}: "
                         f"{'; '.join(monitoring.more_often_because)}.")
        parts.append("**Monitoring:**\n" + _bullets(lines))
        cited += monitoring.citations
    info = [f for f in assessment.findings if f.severity is Severity.INFO]
    if info:
        parts.append("**Also noted:**\n" + _bullets(_titled(f) for f in info))
        cited += [rid for f in info for rid in f.citations]
    decided = next((f for f in assessment.findings if f.id == assessment.decided_by), None)
    if decided is not None:
        cited += decided.citations
    used = list(values) or [f"{row.label}: {row.used} (entered {row.entered})"
                            for row in assessment.inputs_used]
    if used:
        parts.append("**Values used:**\n" + _bullets(used))
    if notes:
        parts.append("**About the data:**\n" + _bullets(notes))
    parts.append(_references(assessment, cited))
    parts.append(f"*{assessment.disclaimer}*")
    card = _card(_decision_summary(assessment), INDICATOR[assessment.status],
                 _source(assessment, source_url), "\n\n".join(p for p in parts if p),
                 _links(assessment, cited))
    suggestion = _regimen_suggestion(assessment, patient_id)
    if suggestion is not None:
        card["suggestions"] = [suggestion]
        card["selectionBehavior"] = "at-most-one"
    return card


def _finding_card(assessment: Assessment, finding: Finding, source_url: str) -> dict[str, Any]:
    parts = [finding.message]
    if finding.details:
        parts.append(_bullets(finding.details))
    if finding.action:
        parts.append(f"**First:** {finding.action}")
    parts.append(_references(assessment, finding.citations))
    return _card(finding.title, str(finding.severity), _source(assessment, source_url),
                 "\n\n".join(p for p in parts if p), _links(assessment, finding.citations))


def _regimen_text(regimen: Regimen) -> str:
    if regimen.product_mg_per_day is not None:
        dose = (f"{regimen.product} about {regimen.product_mg_per_day:g} mg/day = elemental "
                f"magnesium {regimen.elemental_mmol_per_day:g} mmol/day "
                f"({regimen.elemental_mg_per_day:g} mg), {regimen.timing}")
    else:
        dose = f"{regimen.product}: no dose figure ({regimen.dose_basis}), {regimen.timing}"
    lines = [dose, f"Never above {regimen.max_product_mg_per_day:g} mg/day of the salt "
                   f"(elemental {regimen.max_elemental_mmol_per_day:g} mmol)."]
    if regimen.note:
        lines.append(regimen.note)
    if regimen.alternative is not None:
        alt = regimen.alternative
        lines.append(f"Alternative: {alt.product} {alt.product_mg_per_day_min:g}-"
                     f"{alt.product_mg_per_day_max:g} mg/day. {alt.note}")
    lines.append(f"Side effects: {', '.join(regimen.side_effects)}. "
                 f"{regimen.side_effects_advice}")
    return f"**Regimen ({regimen.dose_basis}):**\n" + _bullets(lines)


def _regimen_suggestion(assessment: Assessment, patient_id: str) -> dict[str, Any] | None:
    """For ``supplement``: create the MedicationRequest of the regimen, as a proposal (the
    clinician orders it); the product is named in text, since no verified product code is
    in the rules."""
    regimen = assessment.regimen
    if assessment.status is not Status.SUPPLEMENT or regimen is None \
            or regimen.product_mg_per_day is None:
        return None
    text = (f"{regimen.product} about {regimen.product_mg_per_day:g} mg once a day "
            f"({regimen.timing}): elemental magnesium {regimen.elemental_mmol_per_day:g} "
            f"mmol ({regimen.elemental_mg_per_day:g} mg) a day; never above "
            f"{regimen.max_product_mg_per_day:g} mg/day of the salt")
    request = {
        "resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {"text": regimen.product},
        "dosageInstruction": [{
            "text": text,
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {
                "value": regimen.product_mg_per_day, "unit": "mg", "system": _UCUM,
                "code": "mg"}}],
            "maxDosePerPeriod": {
                "numerator": {"value": regimen.max_product_mg_per_day, "unit": "mg",
                              "system": _UCUM, "code": "mg"},
                "denominator": {"value": 1, "unit": "d", "system": _UCUM, "code": "d"}},
        }],
    }
    label = summary(f"Order {regimen.product} about {regimen.product_mg_per_day:.0f} mg "
                    f"once a day")
    return {"label": label, "uuid": str(uuid.uuid4()), "isRecommended": True,
            "actions": [{"type": "create", "description": f"Create a draft order: {text}.",
                         "resource": request}]}


def magnesium_orders(draft_orders: Mapping[str, Any], rules: RuleSet,
                     selections: Sequence[str] | None = None
                     ) -> list[tuple[str | None, str]]:
    """The draft MedicationRequests that order a magnesium product, as (id, name as the
    order names it); ``selections``: only those (``MedicationRequest/id``), for order-select.
    A name is read as the CLI reads a medication, against the vocabulary's classes whose
    role is a source of magnesium."""
    sources = {cls for cls, role in rules.vocabulary.roles.items()
               if role is MedRole.MAGNESIUM_SOURCE}
    found: list[tuple[str | None, str]] = []
    entries = draft_orders.get("entry", [])
    for entry in entries if isinstance(entries, list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != "MedicationRequest":
            continue
        order_id = resource.get("id") if isinstance(resource.get("id"), str) else None
        if selections is not None and f"MedicationRequest/{order_id}" not in selections:
            continue
        for name in _medication_names(resource):
            if sources & set(read_medication(name, rules.vocabulary.medications).classes):
                found.append((order_id, name))
                break
    return found


_CONTAINED = References(())  # resolves only "#id" references, within the order itself


def _medication_names(request: Mapping[str, Any]) -> list[str]:
    """The texts that name what a MedicationRequest orders: its concept's text and codings'
    displays, or the referenced (contained) Medication's, or the reference's display."""
    concepts: list[Any] = [request.get("medicationCodeableConcept")]
    reference = request.get("medicationReference")
    if isinstance(reference, dict):
        contained = _CONTAINED.resolve(reference, request)  # "#id": a contained Medication
        if contained is not None:
            concepts.append(contained.get("code"))
        if isinstance(reference.get("display"), str):
            concepts.append({"text": reference["display"]})
    names: list[str] = []
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        if isinstance(concept.get("text"), str):
            names.append(concept["text"])
        for coding in concept.get("coding", []) or []:
            if isinstance(coding, dict) and isinstance(coding.get("display"), str):
                names.append(coding["display"])
    return [name for name in names if name.strip()]


def order_cards(assessment: Assessment, orders: Iterable[tuple[str | None, str]], *,
                source_url: str) -> list[dict[str, Any]]:
    """A critical card per magnesium order when the patient is urgent or contraindicated,
    naming the order, with a suggestion to remove it."""
    if assessment.status not in _ORDER_ALERT:
        return []
    word, meaning = HEADLINES[assessment.status]
    critical = [f for f in assessment.findings if f.severity is Severity.CRITICAL]
    cards = []
    for order_id, name in orders:
        short = name if len(name) <= 60 else name[:57].rstrip() + "..."
        parts = [f"**{name}** is being ordered, and the magnesium decision for this patient "
                 f"is **{word}** - {meaning}.", assessment.status_reason]
        if critical:
            parts.append("**Why:**\n" + _bullets(_titled(f) for f in critical))
        cited = [rid for f in critical for rid in f.citations]
        parts.append(_references(assessment, cited))
        card = _card(f"Magnesium ordered ({short}) but the decision is {word.lower()}",
                     "critical", _source(assessment, source_url),
                     "\n\n".join(p for p in parts if p), _links(assessment, cited))
        if order_id is not None:
            card["suggestions"] = [{
                "label": summary(f"Remove the order for {short}"), "uuid": str(uuid.uuid4()),
                "isRecommended": True,
                "actions": [{"type": "delete", "description": summary(
                    f"Remove the draft order for {short}"),
                    "resourceId": f"MedicationRequest/{order_id}"}]}]
            card["selectionBehavior"] = "at-most-one"
        cards.append(card)
    return cards


def _titled(finding: Finding) -> str:
    """A finding as one line: its title in bold, then its message (once, when the message
    already starts with the title) and details."""
    message = finding.message
    if message.lower().startswith(finding.title.lower()):
        message = message[len(finding.title):].lstrip(" :-")
    return f"**{finding.title}**: {message}" + "".join(f" {d}" for d in finding.details)


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {' '.join(line.split())}" for line in lines if line.strip())


def _cited(assessment: Assessment, cited: Iterable[str]) -> list[ReferenceOut]:
    """The references of ``cited`` (ids), each once, in the assessment's numbering."""
    found = {rid: assessment.references[rid] for rid in cited if rid in assessment.references}
    return sorted(found.values(), key=lambda ref: ref.number)


def _references(assessment: Assessment, cited: Iterable[str]) -> str:
    lines = []
    for ref in _cited(assessment, cited):
        where = link(ref)
        lines.append(f"[{ref.number}] {ref.citation}" + (f" <{where}>" if where.startswith(
            "http") else f" ({where})" if where else ""))
    return "**References:**\n" + _bullets(lines) if lines else ""


def _links(assessment: Assessment, cited: Iterable[str]) -> list[dict[str, Any]]:
    links = []
    for ref in _cited(assessment, cited):
        url = link(ref)
        if url.startswith("http"):
            label = ref.short or ref.citation
            links.append({"label": f"[{ref.number}] {label}", "url": url, "type": "absolute"})
    return links


def compact(value: Any) -> Any:
    """``value`` without null, empty strings, empty arrays and empty objects, at any depth
    (the specification's "Use of JSON"). Booleans and zeros are values and stay."""
    if isinstance(value, dict):
        kept = {k: compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if not _empty(v)}
    if isinstance(value, list):
        return [item for item in (compact(v) for v in value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)
