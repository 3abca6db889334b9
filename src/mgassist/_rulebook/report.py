"""What compiling a rule set has found so far: its errors, in the order found, each at its
file:line, and the citations the rules made.

Every compiling stage reports into the one ``Report`` it is given, so that loading lists all
the problems of a rule set at once. The report exists once the files are merged: a section's
errors are located in the file that defines it (``owner``), and a citation is checked against
the bibliography (the ids of the ``references`` section). ``rules validate`` reads ``owner``
and ``cited`` afterwards, to place its warnings and find references no rule cites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from mgassist._core.conditions import Fail
from mgassist._core.errors import RulesError, RulesErrors

from .yaml_source import Located, Path_

__all__ = ["Report"]


@dataclass
class Report:
    """The errors found while compiling a merged rule set, and the reference ids it cites."""

    owner: Mapping[str, Located]  # each section: the file that defines it
    bibliography: frozenset[str]  # the reference ids a rule may cite
    errors: list[RulesError] = field(default_factory=list)
    cited: set[str] = field(default_factory=set)  # every reference id a rule cites

    def fail(self, section: str, where: Path_, message: str) -> None:
        """Report ``message`` at ``where`` inside ``section``, in the file that defines it."""
        self.errors.append(self.owner[section].error((section, *where), message))

    def failer(self, section: str) -> Fail:
        """How the condition parser reports, for a condition of ``section``."""
        def fail(where: Path_, message: str) -> None:
            # Predicates are parsed on first use from whichever section referred to them.
            if where and where[0] == "predicates":
                self.fail("predicates", where[1:], message)
            else:
                self.fail(section, where, message)
        return fail

    def cites(self, section: str, where: Path_, ids: list[str]) -> tuple[str, ...]:
        """The citations at ``where``, each reported unless it is in the bibliography."""
        self.cited.update(ids)
        for i, rid in enumerate(ids):
            if rid not in self.bibliography:
                self.fail(section, (*where, i), f"citation {rid!r} is not in the bibliography "
                                                f"(references.yaml)")
        return tuple(ids)

    def raise_if_failed(self) -> None:
        """Stop loading: raise RulesErrors with every error so far, if there is any."""
        if self.errors:
            raise RulesErrors(self.errors)
