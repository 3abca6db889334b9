"""Medication names as clinicians type them, read against the medication vocabulary.

    read_medication(text, names) -> Medication      # classes found, or a near miss, or neither

A medication list is open (clinical-spec revision 2): a name that maps to a class (a class id,
a generic or brand name, in any case) is used; a name within a close spelling distance of a
known one is a typo to be refused with a suggestion, never dropped; anything else is accepted
and reported as not recognised. Close means within a typo budget of edits (a letter inserted,
deleted or changed, or two neighbours swapped): one for a word of 5 to 7 letters, two from 8;
shorter words are not checked, and numbers (a strength) are skipped.

Names are compared word by word, so the words around a name do not hide it ("furosemide 40
mg", "Lasix tablets", "Tab. Nexium 20mg"), and the longest known name wins where names overlap
("esomeprazole magnesium" is a proton pump inhibitor, not a magnesium salt). Some names contain
a known name without being that medicine ("magnesium stearate", a tablet excipient), or lie
within a typo of one (digitoxin, of digoxin): the vocabulary lists them as not classed, so they
are reported as not recognised.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from msgspec import Struct

__all__ = ["NOT_CLASSED", "MedicationNames", "Medication", "medication_names", "read_medication",
           "words"]

_WORD = re.compile(r"[a-z0-9]+")
SHORTEST_NEAR = 5  # letters: shorter words are not checked for misspelling (too many hits)
NOT_CLASSED = ""  # the class of a name that is known but is no class's medicine
_REMEMBERED = 4096  # misspelling answers kept per name table (a batch repeats its names)


def words(text: str) -> tuple[str, ...]:
    """The words of a name: lower case, accents dropped, anything but letters and digits a
    separator ("Phillips' Milk-of-Magnesia" -> phillips, milk, of, magnesia)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return tuple(_WORD.findall(plain.lower()))


@dataclass(frozen=True)
class MedicationNames:
    """Every accepted name of every medication class, as word tuples (NOT_CLASSED for a name
    known to be no class's medicine)."""

    by_words: Mapping[tuple[str, ...], str]
    longest: int
    spelled: tuple[str, ...] = ()  # each name as one string, for the misspelling search
    _seen: dict[tuple[tuple[str, ...], bool], str | None] = field(
        default_factory=dict, compare=False, repr=False)

    def near_miss(self, typed: list[str], *, whole: bool) -> str | None:
        """A known name that ``typed`` nearly spells: the words that are not numbers taken
        together (when ``whole``), else one of them, each within its typo budget."""
        key = (tuple(typed), whole)
        if key not in self._seen:
            if len(self._seen) >= _REMEMBERED:
                self._seen.clear()
            self._seen[key] = self._closest(typed, whole)
        return self._seen[key]

    def _closest(self, typed: list[str], whole: bool) -> str | None:
        letters = [w for w in typed if not w[0].isdigit()]  # "20 mg Nexum": skip the strength
        candidates = [w for w in letters if len(w) >= SHORTEST_NEAR]
        if whole and len(letters) > 1:
            candidates.insert(0, " ".join(letters))
        for candidate in candidates:
            limit = typo_budget(len(candidate))
            if limit == 0 or tuple(candidate.split(" ")) in self.by_words:
                continue
            best = min(((edit_distance(candidate, name, limit), name) for name in self.spelled
                        if " " in name or " " not in candidate), default=(limit + 1, ""))
            if best[0] <= limit:
                return best[1]
        return None


def medication_names(class_names: Mapping[tuple[str, ...], str],
                     not_classed: Iterable[tuple[str, ...]] = ()) -> MedicationNames:
    """The word table: each class's names (as words -> class id), and the names that belong to
    no class."""
    by_words = {**{key: NOT_CLASSED for key in not_classed if key}, **class_names}
    by_words.pop((), None)
    return MedicationNames(by_words, max((len(k) for k in by_words), default=1),
                           tuple(" ".join(k) for k in by_words))


class Medication(Struct, frozen=True):
    """What one typed medication is: its classes (none: not recognised), or the known name it
    nearly spells (a typo, to be refused)."""

    classes: tuple[str, ...]
    near_miss: str | None = None


def read_medication(text: str, names: MedicationNames) -> Medication:
    """The classes named in ``text`` (longest names first, left to right), or the known name
    a word of it nearly spells. A word left over beside a known name is checked too
    ("Lasix and Nexum": Nexum is refused as a misspelling, not skipped)."""
    typed = words(text)
    found: list[str] = []
    left: list[str] = []  # the words no known name took
    known = False
    i = 0
    while i < len(typed):
        for size in range(min(names.longest, len(typed) - i), 0, -1):
            class_id = names.by_words.get(typed[i:i + size])
            if class_id is not None:
                known = True
                if class_id != NOT_CLASSED:
                    found.append(class_id)
                i += size
                break
        else:
            left.append(typed[i])
            i += 1
    if known:
        return Medication(tuple(dict.fromkeys(found)), names.near_miss(left, whole=False))
    return Medication((), names.near_miss(left, whole=True))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (insertions, deletions, substitutions and swaps of
    two neighbouring letters), or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def typo_budget(length: int) -> int:
    """How many edits still read as a misspelling of a name this long: none below
    SHORTEST_NEAR letters (too many short names lie one edit apart), one up to 7, two from 8."""
    return 0 if length < SHORTEST_NEAR else 1 if length <= 7 else 2
