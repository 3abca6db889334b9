"""The services mgassist offers, as the discovery endpoint lists them (CDS Hooks 2.0,
"Discovery"), and the context fields each hook sends ("Hooks": patient-view 1.1,
order-select 1.0, order-sign 1.0).

Every service asks for the same prefetch: the Patient, the latest Observations of each
analyte by its LOINC codes (the FHIR reader's own code table, so the two cannot drift), the
active MedicationRequests and the active Conditions. Each template uses only what the
specification's "Prefetch query restrictions" recommend: a read, type-level searches with a
patient reference, token equality, ``_sort`` and ``_count``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["HOOKS", "ContextField", "Service", "services", "prefetch_url"]

LOINC = "http://loinc.org"
PATIENT_TOKEN = "{{context.patientId}}"
# The newest few results of an analyte: more than one, so that a newest result the reader
# cannot use (entered in error, no unit) does not hide the one before it.
OBSERVATIONS_PER_ANALYTE = 5


@dataclass(frozen=True)
class ContextField:
    """A field of a hook's ``context``: its JSON type and whether the hook requires it."""

    name: str
    kind: type
    required: bool


_USER = ContextField("userId", str, True)
_PATIENT = ContextField("patientId", str, True)
_ENCOUNTER = ContextField("encounterId", str, False)
_DRAFT_ORDERS = ContextField("draftOrders", dict, True)
HOOKS: Mapping[str, tuple[ContextField, ...]] = {
    "patient-view": (_USER, _PATIENT, _ENCOUNTER),
    "order-select": (_USER, _PATIENT, _ENCOUNTER, ContextField("selections", list, True),
                     _DRAFT_ORDERS),
    "order-sign": (_USER, _PATIENT, _ENCOUNTER, _DRAFT_ORDERS),
}
_DESCRIPTIONS = {
    "patient-view": "When a patient's record is opened: whether to give oral magnesium, how "
                    "much, what to correct first and what to monitor, from cited rules.",
    "order-select": "When orders are selected: the magnesium decision for this patient, and "
                    "a critical card when a magnesium product is ordered for a patient in "
                    "whom it is contraindicated or who needs urgent assessment.",
    "order-sign": "Before orders are signed: the magnesium decision for this patient, and a "
                  "critical card when a magnesium product is ordered for a patient in whom "
                  "it is contraindicated or who needs urgent assessment.",
}


@dataclass(frozen=True)
class Service:
    """One CDS Service: its id (the URL's last segment), hook and prefetch templates."""

    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]

    def discovery(self) -> dict[str, Any]:
        """The service as the discovery response describes it."""
        return {"hook": self.hook, "title": self.title, "description": self.description,
                "id": self.id, "prefetch": dict(self.prefetch),
                "usageRequirements": "Needs the prefetch above, or fhirServer and "
                                     "fhirAuthorization to read what is missing from the "
                                     "FHIR server; otherwise it answers 412."}


def prefetch_templates(observation_codes: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The prefetch keys and templates: ``observation_codes`` maps each analyte (the
    reader's record key, such as ``mg``) to its LOINC codes."""
    templates = {"patient": f"Patient/{PATIENT_TOKEN}"}
    for analyte, codes in observation_codes.items():
        coded = ",".join(f"{LOINC}|{code}" for code in codes)
        templates[analyte] = (f"Observation?patient={PATIENT_TOKEN}&code={coded}"
                              f"&_sort=-date&_count={OBSERVATIONS_PER_ANALYTE}")
    templates["medications"] = f"MedicationRequest?patient={PATIENT_TOKEN}&status=active"
    templates["conditions"] = f"Condition?patient={PATIENT_TOKEN}&clinical-status=active"
    return templates


def services(observation_codes: Mapping[str, Sequence[str]]) -> dict[str, Service]:
    """The services by id, one per hook."""
    prefetch = prefetch_templates(observation_codes)
    return {f"mgassist-{hook}": Service(f"mgassist-{hook}", hook,
                                        f"mgassist: oral magnesium ({hook})",
                                        _DESCRIPTIONS[hook], prefetch)
            for hook in HOOKS}


def prefetch_url(template: str, context: Mapping[str, Any]) -> str:
    """A template with its tokens replaced from ``context`` (only ``context.patientId`` is
    used), as a URL relative to the FHIR server's base."""
    return template.replace(PATIENT_TOKEN, str(context["patientId"]))
