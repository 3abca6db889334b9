"""The vocabulary: the contract's ids with their labels and every accepted spelling.

    compile_vocabulary(spec, report) -> Vocabulary

Each vocabulary lists exactly the ids of its contract enum; a spelling (an id or a synonym)
means one id only, and a medicine name read as words means one class only.
"""

from __future__ import annotations

from collections.abc import Mapping

from mgassist._core.contract import VOCABULARIES
from mgassist._core.medications import medication_names, words
from mgassist._core.ruleset import Vocabulary, normalize_term

from .report import Report
from .schema import VocabEntrySpec, VocabularySpec

__all__ = ["compile_vocabulary"]


def compile_vocabulary(spec: VocabularySpec, report: Report) -> Vocabulary:
    """Labels and spellings of every vocabulary, checked against the contract, and the word
    table medicine names are read with."""
    labels: dict[str, dict[str, str]] = {}
    lookup: dict[str, dict[str, str]] = {}
    for kind, enum in VOCABULARIES.items():
        entries: Mapping[str, VocabEntrySpec] = getattr(spec, kind)
        contract = {m.value for m in enum}
        for missing in sorted(contract - set(entries)):
            report.fail("vocabulary", (kind,), f"{kind}: id {missing!r} of the contract is "
                                               "missing")
        for extra in sorted(set(entries) - contract):
            report.fail("vocabulary", (kind, extra), f"{kind}: {extra!r} is not an id of the "
                        "contract (add it to the contract first; synonyms can be added here)")
        labels[kind] = {item: entry.label for item, entry in entries.items()}
        spellings: dict[str, str] = {}
        for item, entry in entries.items():
            for i, name in enumerate([item, *entry.synonyms]):
                key = normalize_term(name)
                if key in spellings and spellings[key] != item:
                    report.fail("vocabulary", (kind, item, "synonyms", i - 1),
                                f"{kind}: {name!r} already means {spellings[key]!r}")
                spellings[key] = item
        lookup[kind] = spellings
    by_words: dict[tuple[str, ...], str] = {}
    for name, class_id in lookup["meds"].items():
        other = by_words.setdefault(words(name), class_id)
        if other != class_id:
            report.fail("vocabulary", ("meds", class_id), f"meds: {name!r} reads as the same "
                        f"words as a name of {other!r}; a name may mean one class only")
    not_classed = []
    for i, unclassed in enumerate(spec.meds_not_classed):
        report.cites("vocabulary", ("meds_not_classed", i, "cite"), unclassed.cite)
        for j, name in enumerate(unclassed.names):
            not_classed.append(words(name))
            if not_classed[-1] in by_words:
                report.fail("vocabulary", ("meds_not_classed", i, "names", j),
                            f"meds_not_classed: {name!r} is a name of "
                            f"{by_words[not_classed[-1]]!r}")
    medications = medication_names(by_words, not_classed)
    roles = {item: med.role for item, med in spec.meds.items()}
    names = {item: tuple(med.synonyms) for item, med in spec.meds.items()}
    role_words = {role.value: " ".join(text.split()) for role, text in spec.med_roles.items()}
    return Vocabulary(labels, lookup, roles, medications, names, role_words)
