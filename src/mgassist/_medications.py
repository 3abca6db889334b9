"""Medication names as clinicians type them, read against the medication vocabulary.

    read_medication(text, names) -> Medication      # classes found, or a near miss, or neither

A medication list is open (clinical-spec revision 2): a name that maps to a class (a class id,
a generic or brand name, in any case) is used; a name within a close spelling distance of a
known one is a typo to be refused with a suggestion, never dropped; anything else is accepted
and reported as not recognised. Names are compared word by word, so the words around a name
do not hide it ("furosemide 40 mg", "Lasix tablets", "Tab. Nexium 20mg"), and the longest
known name wins where names overlap ("esomeprazole magnesium" is a proton pump inhibitor, not
a magnesium salt). Some names contain a known name without being that medicine ("magnesium
stearate", a tablet excipient): the vocabulary lists them as not classed, so they are read
whole and reported as not recognised.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["NOT_CLASSED", "MedicationNames", "Medication", "medication_names", "read_medication",
           "words"]

_WORD = re.compile(r"[a-z0-9]+")
_NEAR = 0.8  # difflib ratio from which an unknown word is read as a misspelling
_SHORTEST_NEAR = 5  # words shorter than this are not checked for misspelling (too many hits)
NOT_CLASSED = ""  # the class of a name that is known but is no class's medicine


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

    def spelled(self) -> dict[str, tuple[str, ...]]:
        """Each name as one string, for looking up misspellings."""
        return {" ".join(name): name for name in self.by_words}


def medication_names(lookup: Mapping[str, str],
                     not_classed: Iterable[str] = ()) -> MedicationNames:
    """The word table of a vocabulary lookup (normalized name -> class id) and of the names
    that belong to no class."""
    by_words: dict[tuple[str, ...], str] = {}
    for name in not_classed:
        if key := words(name):
            by_words[key] = NOT_CLASSED
    for name, class_id in lookup.items():
        if key := words(name):
            by_words.setdefault(key, class_id)
    return MedicationNames(by_words, max((len(k) for k in by_words), default=1))


@dataclass(frozen=True)
class Medication:
    """What one typed medication is: its classes (none: not recognised), or the known name it
    nearly spells (a typo, to be refused)."""

    classes: tuple[str, ...]
    near_miss: str | None = None


def read_medication(text: str, names: MedicationNames) -> Medication:
    """The classes named in ``text`` (longest names first, left to right)."""
    typed = words(text)
    found: list[str] = []
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
            i += 1
    if known:
        return Medication(tuple(dict.fromkeys(found)))
    return Medication((), _near_miss(typed, names))


def _near_miss(typed: tuple[str, ...], names: MedicationNames) -> str | None:
    """A known name that the typed name (before any number: a strength) nearly spells."""
    name_words: list[str] = []
    for word in typed:
        if word[0].isdigit():
            break
        name_words.append(word)
    spelled = names.spelled()
    candidates = [" ".join(name_words)] + [w for w in name_words if len(w) >= _SHORTEST_NEAR]
    for candidate in candidates:
        if len(candidate) < _SHORTEST_NEAR:
            continue
        close = difflib.get_close_matches(candidate, list(spelled), n=1, cutoff=_NEAR)
        if close:
            return close[0]
    return None
