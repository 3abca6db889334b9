"""The ids fixed by the clinical contract (clinical-spec.md): statuses, severities, vocabularies.

These are interface, not clinical knowledge: they name things; the rules say what they mean.
The rules' vocabulary must list exactly these ids (checked when the rules load), so an input
id, a rule condition and the JSON output always speak the same language. Add ids, never rename.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Condition",
    "CrclMethod",
    "DoseBasis",
    "Indication",
    "LabFlag",
    "MedClass",
    "MedRole",
    "Severity",
    "Sex",
    "Status",
    "Symptom",
    "VOCABULARIES",
    "WeightBasis",
]


class Status(StrEnum):
    """The decision: what to do about oral magnesium."""

    OUT_OF_SCOPE = "out-of-scope"
    URGENT = "urgent"
    CONTRAINDICATED = "contraindicated"
    INSUFFICIENT_DATA = "insufficient-data"
    DO_NOT_SUPPLEMENT = "do-not-supplement"
    SUPPLEMENT_WITH_CAUTION = "supplement-with-caution"
    SUPPLEMENT = "supplement"
    MAINTAIN = "maintain"

    @property
    def gives_regimen(self) -> bool:
        """Whether this status comes with a regimen (a dose to give)."""
        return self in (Status.SUPPLEMENT, Status.SUPPLEMENT_WITH_CAUTION)

    @property
    def gives_monitoring(self) -> bool:
        """Whether this status comes with a monitoring plan (magnesium given or continued)."""
        return self.gives_regimen or self is Status.MAINTAIN


class Severity(StrEnum):
    """How much a finding matters."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Sex(StrEnum):
    """Sex as used by Cockcroft-Gault and the Devine ideal body weight."""

    FEMALE = "female"
    MALE = "male"


class WeightBasis(StrEnum):
    """Which body weight Cockcroft-Gault uses (``auto`` chooses by BMI)."""

    AUTO = "auto"
    ACTUAL = "actual"
    IDEAL = "ideal"
    ADJUSTED = "adjusted"


class CrclMethod(StrEnum):
    """Where the creatinine clearance used came from."""

    REPORTED = "reported"
    COCKCROFT_GAULT = "cockcroft-gault"
    EGFR = "egfr"


class DoseBasis(StrEnum):
    """Why the regimen has the dose it has."""

    STANDARD_START = "standard-start"
    STEP_UP = "step-up"
    REDUCED = "reduced"
    REGIMEN_MAXIMUM = "regimen-maximum"


class MedClass(StrEnum):
    """Medication classes that matter to magnesium."""

    LOOP_DIURETIC = "loop-diuretic"
    THIAZIDE_DIURETIC = "thiazide-diuretic"
    PPI = "ppi"
    AMINOGLYCOSIDE = "aminoglycoside"
    CALCINEURIN_INHIBITOR = "calcineurin-inhibitor"
    TETRACYCLINE = "tetracycline"
    FLUOROQUINOLONE = "fluoroquinolone"
    BISPHOSPHONATE = "bisphosphonate"
    PLATINUM_CHEMOTHERAPY = "platinum-chemotherapy"
    EGFR_ANTIBODY = "egfr-antibody"
    AMPHOTERICIN = "amphotericin"
    FOSCARNET = "foscarnet"
    PENTAMIDINE = "pentamidine"
    DIGOXIN = "digoxin"
    MAGNESIUM_CONTAINING = "magnesium-containing"
    INTEGRASE_INHIBITOR = "integrase-inhibitor"
    ELTROMBOPAG = "eltrombopag"
    IRON = "iron"


class MedRole(StrEnum):
    """Why a medication class matters to magnesium (each class of the vocabulary has one)."""

    RISK_FACTOR = "risk-factor"
    INTERACTION = "interaction"
    MAGNESIUM_SOURCE = "magnesium-source"
    DIGOXIN = "digoxin"


class Condition(StrEnum):
    """Conditions that matter to magnesium."""

    CHRONIC_DIARRHEA = "chronic-diarrhea"
    SHORT_BOWEL_SYNDROME = "short-bowel-syndrome"
    MALABSORPTION = "malabsorption"
    HIGH_OUTPUT_STOMA = "high-output-stoma"
    ALCOHOL_USE_DISORDER = "alcohol-use-disorder"
    DIABETES = "diabetes"
    INFLAMMATORY_BOWEL_DISEASE = "inflammatory-bowel-disease"
    HYPERTHYROIDISM = "hyperthyroidism"
    VOLUME_DEPLETION = "volume-depletion"
    ACUTE_KIDNEY_INJURY = "acute-kidney-injury"
    DIALYSIS = "dialysis"
    PREGNANCY = "pregnancy"
    PRE_ECLAMPSIA = "pre-eclampsia"


class Symptom(StrEnum):
    """Symptoms and signs."""

    TETANY = "tetany"
    SEIZURE = "seizure"
    ARRHYTHMIA = "arrhythmia"
    CRAMPS = "cramps"
    SPASM = "spasm"
    TWITCHING = "twitching"
    PARESTHESIA = "paresthesia"
    FATIGUE = "fatigue"
    WEAKNESS = "weakness"
    HYPOREFLEXIA = "hyporeflexia"
    HYPOTENSION = "hypotension"
    RESPIRATORY_DEPRESSION = "respiratory-depression"
    CONFUSION = "confusion"
    NAUSEA = "nausea"
    TREMOR = "tremor"
    ATRIAL_FIBRILLATION = "atrial-fibrillation"


class Indication(StrEnum):
    """Why supplementation is being considered."""

    NECK_SPASM = "neck-spasm"
    MUSCLE_CRAMPS = "muscle-cramps"
    BACK_PAIN = "back-pain"
    NEUROPATHIC_PAIN = "neuropathic-pain"
    MIGRAINE = "migraine"
    DOCUMENTED_HYPOMAGNESEMIA = "documented-hypomagnesemia"
    OTHER = "other"


class LabFlag(StrEnum):
    """What a laboratory document says about its own results (FHIR input, docs/fhir.md): the
    fact ``lab_flags`` of the conditions. Flags never come from a typed value."""

    RESULT_OLD = "lab-result-old"  # a result used is older than its freshness window
    MG_LAB_LOW = "mg-lab-low"  # the magnesium's own referenceRange calls it low
    MG_LAB_NORMAL = "mg-lab-normal"  # ... within range
    MG_LAB_HIGH = "mg-lab-high"  # ... high


VOCABULARIES: dict[str, type[StrEnum]] = {
    "meds": MedClass,
    "conditions": Condition,
    "symptoms": Symptom,
    "indications": Indication,
}
"""Each rules vocabulary section and the contract enum whose ids it must list exactly."""
