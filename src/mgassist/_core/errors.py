"""Errors are values with a location.

    MgassistError                 base of everything mgassist raises on purpose
    ├── InputError                a patient field is unusable (names field, value, what is accepted)
    │   ├── InputErrors           several InputError at once (all the fields that were wrong)
    │   └── FhirError             a FHIR document that is no Bundle or resource, or has no Patient
    └── RulesError                a rule set is unusable (names file:line and what is wrong)
        └── RulesErrors           several RulesError at once (every problem found while loading)

The CLI maps InputError to exit 2 and RulesError to exit 2 (for ``assess``) or 1 (for
``rules validate``). Nothing here ever carries a whole patient record: an InputError holds the
one field and the one value that was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FhirError", "InputError", "InputErrors", "MgassistError", "RulesError", "RulesErrors",
           "pydantic_message"]


class MgassistError(Exception):
    """Base class of the errors mgassist raises deliberately."""


@dataclass(frozen=True)
class InputError(MgassistError):
    """One patient field that cannot be used, with its value and what would be accepted.

    ``label``: the quantity in words (``serum magnesium``), when the field's name does not say
    it; ``parse_patient`` fills it from the rules. ``str()`` names the field by its JSON key;
    the command line names it by its flag instead (``message(name="--mg")``)."""

    field: str
    value: str
    problem: str
    accepted: str = ""
    label: str = ""

    def message(self, *, name: str | None = None) -> str:
        """The error as one line, naming the field as ``name`` (default: its JSON key), then
        the quantity in words: ``--mg (serum magnesium): '0.6' has no unit; ...``."""
        named = name or self.field
        if self.label and self.label != named:
            named += f" ({self.label})"
        shown = f" {self.value!r}" if self.value != "" else ""
        text = f"{named}:{shown} {self.problem}"
        if self.accepted:
            text += f"; accepted: {self.accepted}"
        return text

    def __str__(self) -> str:
        return self.message()

    def __reduce__(self) -> tuple[Any, ...]:
        # An exception pickles its attributes by setting them after creation, which a frozen
        # dataclass refuses: rebuild it from its fields instead (batch --jobs sends errors
        # between processes).
        return (type(self), (self.field, self.value, self.problem, self.accepted, self.label))

    def as_json(self) -> dict[str, str]:
        """The ``{"field": ..., "message": ...}`` object of the JSON error contract: the field
        is the JSON key, whatever the command line called it."""
        return {"field": self.field, "message": self.message()}


class InputErrors(MgassistError):
    """Every unusable field of one patient, in field order."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors: tuple[InputError, ...] = tuple(errors)


@dataclass(frozen=True)
class FhirError(InputError):
    """A FHIR document that cannot be read at all (not JSON, not a FHIR Bundle or resource, no
    Patient, or two): ``field`` names the document (``--fhir``), ``value`` what it holds."""


@dataclass(frozen=True)
class RulesError(MgassistError):
    """One problem in a rule file, at a file and line."""

    path: Path | str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.message}"


class RulesErrors(MgassistError):
    """Every problem found while loading a rule set; nothing of that rule set is used."""

    def __init__(self, errors: Sequence[RulesError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors: tuple[RulesError, ...] = tuple(errors)


def pydantic_message(err: Any) -> str:
    """One pydantic validation error of a YAML file (rules, vignettes) as a readable line."""
    loc = ".".join(str(part) for part in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown field {err['loc'][-1]!r} (check the spelling; the file's " \
               f"header comment shows the allowed fields)"
    if err["type"] == "missing":
        return f"{loc}: required field is missing"
    shown = err.get("input")
    value = f" (got {shown!r})" if isinstance(shown, str | int | float | bool) else ""
    return f"{loc}: {err['msg']}{value}"
