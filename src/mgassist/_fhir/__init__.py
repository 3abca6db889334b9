"""FHIR R4 input: a patient read from a Bundle (or one resource) into the record ``mgassist
batch`` reads, with the sources of every value (docs/fhir.md).

    read_fhir(document, rules, as_of=date) -> FhirInput      # .record, .sources, .skipped
    bundle_of(resources) -> dict                             # loose resources as a Bundle

A layer of its own, above ``_rulebook`` (it reads a compiled RuleSet's ``fhir`` tables) and
below ``_authoring`` and ``_shell``. Resources are plain dicts (parsed JSON): the few fields
read are checked where they are read, so one odd resource is skipped with a reason instead of
failing the document.
"""

from __future__ import annotations

from mgassist._core.errors import FhirError

from .bundle import bundle_of
from .model import FhirInput, Overridden, Skipped, Source, Sources
from .reader import read_fhir

__all__ = ["FhirError", "FhirInput", "Overridden", "Skipped", "Source", "Sources", "bundle_of",
           "read_fhir"]
