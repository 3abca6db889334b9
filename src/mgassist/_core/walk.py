"""The decision walk: the one place that orders the rules and decides.

    decide(rules, numbers, lists, singles, cg_cited, observer=None) -> Outcome

Over a patient's facts it walks, in this order: risk factors; decision steps until the first
true one sets the status; every finding (the deciding step's finding is reported even when its
own condition is not, at the step's severity), with its details; the regimen of the step; the
monitoring plan (its conditional lines, then the reasons to monitor more often); references
numbered by first citation.

An ``observer`` (a callable) receives a ``WalkEvent`` for every rule as the walk meets it:
evaluated or not, fired or not, and what that did. The ``--explain`` trace and the coverage of
``rules test`` are such observers (``trace``), so they cannot disagree with the decision.
Without an observer the walk builds no event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Literal

from msgspec import Struct
from msgspec.structs import replace

from .assessment import Monitoring, ReferenceOut, Regimen
from .conditions import (
    All,
    Any_,
    Condition,
    Empty,
    Evaluator,
    Facts,
    In,
    Is,
    Known,
    Not,
    NumberFact,
    SomeOf,
    compiled,
    evaluate,
)
from .contract import Severity, Status
from .regimen import choose_regimen
from .ruleset import Detail, FindingRule, Reason, RiskFactor, RuleSet, ScheduleItem, Step

__all__ = ["Fired", "Kind", "Observer", "Outcome", "WalkEvent", "decide",
           "detail_id", "monitoring_item_id"]

Kind = Literal["risk-factor", "step", "finding", "detail", "regimen", "monitoring-reason",
               "monitoring-item"]
_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


class WalkEvent(Struct, frozen=True):
    """One rule as the walk met it. ``when`` and ``facts``: the condition it evaluated and over
    what (None: not evaluated); ``fired``: it took effect (a step set the status, a finding or
    detail was reported, a risk factor or a reason applies, a regimen was given); ``effect`` in
    words. ``evaluated``/``result`` are given only for a rule decided without a condition of its
    own (the regimen)."""

    kind: Kind
    id: str
    fired: bool
    effect: str
    when: Condition | None = None
    facts: Facts | None = None
    evaluated: bool = False
    result: bool | None = None


Observer = Callable[[WalkEvent], None]


def detail_id(finding_id: str, index: int) -> str:
    """How a finding's detail is named in the trace and in coverage: ``id.details[N]``."""
    return f"{finding_id}.details[{index}]"


def monitoring_item_id(index: int) -> str:
    """How a conditional line of the monitoring schedule is named in the trace and coverage."""
    return f"schedule[{index}]"


class Fired(Struct, frozen=True):
    """A finding that fired, before its texts are filled for the patient."""

    id: str
    severity: Severity
    message: str
    matched: tuple[str, ...]
    details: tuple[tuple[str, tuple[str, ...]], ...]
    citations: tuple[str, ...]


class Outcome(Struct, frozen=True):
    """What the rules decided, independent of how the patient's values are printed."""

    step: Step | None
    status: Status
    reason_matched: tuple[str, ...]
    risk_labels: tuple[str, ...]
    findings: tuple[Fired, ...]
    regimen: Regimen | None
    monitoring: Monitoring | None
    references: Mapping[str, ReferenceOut]


class _Program(Struct, frozen=True):
    """A rule set's rules in walk order, each beside its compiled condition (built once per
    rule set, so the walk looks nothing up per patient)."""

    risk_factors: tuple[tuple[RiskFactor, Evaluator], ...]
    steps: tuple[tuple[Step, Evaluator], ...]
    findings: tuple[tuple[FindingRule, Evaluator,
                          tuple[tuple[Detail, Evaluator | None], ...]], ...]
    schedule: tuple[tuple[ScheduleItem, Evaluator | None], ...]
    reasons: tuple[tuple[Reason, Evaluator], ...]
    # The predicates whose result cannot change between the walk's phases (they read neither
    # the risk factors nor the status): kept from the phase that first needed them.
    lasting: frozenset[int]
    # Built once and shared (frozen; never changed after): what depends only on these keys.
    references: dict[tuple[str, int], ReferenceOut]  # (id, number) -> as printed
    regimens: dict[tuple[str | None, Status, bool], Regimen | None]  # step, status, alt.
    monitorings: dict[tuple[tuple[int, ...], tuple[str, ...]], Monitoring]  # shown, because


_PROGRAMS: dict[int, tuple[RuleSet, _Program, bool]] = {}


def _program(rules: RuleSet) -> _Program:
    """The rule set's program. The first patient of a rule set is walked with the reference
    interpreter (``evaluate``): compiling ~900 condition nodes costs more than walking them
    once, and a one-shot ``assess`` has one patient. From the second patient on (a batch), the
    compiled closures. Both give the same results (tests/test_walk.py)."""
    hit = _PROGRAMS.get(id(rules))
    if hit is not None and hit[0] is rules:  # kept alive with it: the id is never reused
        if hit[2]:
            return hit[1]
        built = _build(rules, compiled)
    else:
        if len(_PROGRAMS) >= 64:  # rule sets loaded by one process: a cache only
            _PROGRAMS.clear()
        built = _build(rules, _interpreted)
    _PROGRAMS[id(rules)] = (rules, built, hit is not None)
    return built


def _interpreted(cond: Condition) -> Evaluator:
    return partial(evaluate, cond)


def _build(rules: RuleSet, make: Callable[[Condition], Evaluator]) -> _Program:
    def maybe(cond: Condition | None) -> Evaluator | None:
        return None if cond is None else make(cond)
    return _Program(
        tuple((f, make(f.when)) for f in rules.risk_factors),
        tuple((s, make(s.when)) for s in rules.steps),
        tuple((f, make(f.when), tuple((d, maybe(d.when)) for d in f.details))
              for f in rules.findings.values()),
        tuple((item, maybe(item.when)) for item in rules.monitoring.schedule),
        tuple((r, make(r.when)) for r in rules.monitoring.reasons),
        _lasting(rules.conditions()), {}, {}, {})


_PHASED = ("risk_factors", "status")  # the facts the walk adds as it goes


def _lasting(conditions: Iterable[Condition]) -> frozenset[int]:
    """The predicate bodies (keyed as ``Facts.predicates`` keys them) that read no fact of
    ``_PHASED``, directly or through another predicate: their results hold in every phase."""
    verdicts: dict[int, bool] = {}

    def lasting(cond: Condition) -> bool:
        match cond:
            case SomeOf(fact) | Empty(fact) | In(fact) | Known(fact):
                return fact not in _PHASED
            case All(parts) | Any_(parts):
                verdicts_of_parts = [lasting(part) for part in parts]  # each gets its verdict
                return all(verdicts_of_parts)
            case Not(part):
                return lasting(part)
            case Is(_, part):
                if id(part) not in verdicts:
                    verdicts[id(part)] = lasting(part)
                return verdicts[id(part)]
        return True  # Compare: numbers, all given with the patient
    for cond in conditions:
        lasting(cond)
    return frozenset(key for key, verdict in verdicts.items() if verdict)


def decide(rules: RuleSet, numbers: Mapping[str, NumberFact],
           lists: Mapping[str, frozenset[str]], singles: Mapping[str, str | None],
           cg_cited: bool, observer: Observer | None = None) -> Outcome:
    """Walk the rules over one patient's facts (see the module docstring)."""
    program = _program(rules)
    base = Facts(numbers, {**lists, "risk_factors": frozenset()}, singles)
    risk_labels: list[str] = []
    present: set[str] = set()
    for factor, test in program.risk_factors:
        matched: list[str] = []
        applies = test(base, matched) is True
        if applies:
            present.add(factor.id)
            risk_labels.append(with_matched(factor.label, matched, rules))
        if observer is not None:
            observer(WalkEvent("risk-factor", factor.id, applies,
                               "present: listed by {risk_factors}" if applies else "not present",
                               factor.when, base))
    lasting = program.lasting
    facts = Facts(numbers, {**lists, "risk_factors": frozenset(present)}, singles,
                  {key: known for key, known in base.predicates.items() if key in lasting})
    risk_cites = tuple(dict.fromkeys(c for factor in rules.risk_factors if factor.id in present
                                     for c in factor.cite))

    step = _first_true_step(program.steps, facts, observer)
    status = step.status if step else Status.INSUFFICIENT_DATA
    decided = Facts(numbers, facts.lists, {**singles, "status": status.value},
                    {key: known for key, known in facts.predicates.items() if key in lasting})
    findings = _findings(program, decided, step, risk_cites, observer)
    if step is not None and step.finding not in {f.id for f in findings}:
        rule = rules.findings[step.finding]
        findings.append(Fired(rule.id, rule.severity, rule.message, (), (), rule.cite))
    if step is not None and step.severity is not None:
        # A step may escalate its finding: "Mg unknown" is a warning, but critical when urgent.
        findings = [replace(f, severity=step.severity) if f.id == step.finding
                    else f for f in findings]
    findings.sort(key=lambda f: _SEVERITY_ORDER[f.severity])
    fired = {f.id for f in findings}

    step_id = step.id if step else None
    regimen_key = (step_id, status, rules.regimen.alternative_finding in fired)
    if regimen_key in program.regimens:  # it reads nothing else of the patient
        regimen = program.regimens[regimen_key]
    else:
        regimen = choose_regimen(rules.regimen, status=status, step=step_id, fired=fired)
        program.regimens[regimen_key] = regimen
    if observer is not None:
        observer(WalkEvent("regimen", regimen.dose_basis.value if regimen else "none",
                           regimen is not None, _regimen_effect(status, step, regimen),
                           evaluated=True, result=regimen is not None))
    monitoring = _monitoring(rules, program, decided, status, observer)
    cited = [c for f in findings for c in f.citations]
    if regimen is not None:
        cited += regimen.citations + (regimen.alternative.citations if regimen.alternative
                                      else [])
    if monitoring is not None:
        cited += monitoring.citations
    if cg_cited:
        cited += list(rules.cockcroft_gault.cite)
    if "ca_adjusted" in numbers:  # the adjustment that produced a value the report shows
        cited += list(rules.calcium_adjustment.cite)
    return Outcome(step, status, tuple(_step_matched(step, decided)) if step else (),
                   tuple(risk_labels), tuple(findings), regimen, monitoring,
                   _references(rules, program.references, cited))


def _first_true_step(steps: tuple[tuple[Step, Evaluator], ...], facts: Facts,
                     observer: Observer | None) -> Step | None:
    chosen: Step | None = None
    for step, test in steps:
        if chosen is not None:
            if observer is None:
                break
            observer(WalkEvent("step", step.id, False,
                               f"not consulted: step {chosen.id} set the status first"))
        elif test(facts, None) is True:
            chosen = step
            if observer is not None:
                observer(WalkEvent("step", step.id, True, f"set the status: "
                                   f"{step.status.value} (the first true step)", step.when, facts))
        elif observer is not None:
            observer(WalkEvent("step", step.id, False, "not true: the next step is consulted",
                               step.when, facts))
    if chosen is None and observer is not None:
        observer(WalkEvent("step", "none", True, "no step was true: status insufficient-data "
                           "(a gap in the rule set)"))
    return chosen


def _step_matched(step: Step, facts: Facts) -> list[str]:
    matched: list[str] = []
    compiled(step.when)(facts, matched)
    return matched


def _findings(program: _Program, facts: Facts, step: Step | None, risk_cites: Sequence[str],
              observer: Observer | None) -> list[Fired]:
    """The findings that fire, with their details; a finding that names the risk factors
    ({risk_factors}) cites the sources of the ones present. The deciding step's finding, when
    its own condition is not true, is added by ``decide`` (without details)."""
    out = []
    for rule, test, details_of in program.findings:
        matched: list[str] = []
        true = test(facts, matched) is True
        forced = step is not None and step.finding == rule.id
        if observer is not None:
            severity = (step.severity or rule.severity).value if forced and step else \
                rule.severity.value
            effect = f"reported ({severity})" if true else (
                f"reported ({severity}) because step {step.id} set the status, though its own "
                "condition is not true" if forced and step else "not reported")
            observer(WalkEvent("finding", rule.id, true or forced, effect, rule.when, facts))
        if not true:
            if observer is not None:
                why = ("not evaluated: its finding is reported for its step, without details"
                       if forced else "not evaluated: its finding is not reported")
                for index in range(len(rule.details)):
                    observer(WalkEvent("detail", detail_id(rule.id, index), False, why))
            continue
        details = []
        cites = list(rule.cite)
        if rule.names_risk_factors:
            cites += [c for c in risk_cites if c not in cites]
        for index, (detail, shown_when) in enumerate(details_of):
            detail_matched: list[str] = []
            shows = shown_when is None or shown_when(facts, detail_matched) is True
            if shows:
                details.append((detail.text, tuple(detail_matched)))
                cites += [c for c in detail.cite if c not in cites]
            if observer is not None:
                effect = "shown (no condition of its own)" if detail.when is None else \
                    "shown" if shows else "not shown"
                observer(WalkEvent("detail", detail_id(rule.id, index), shows, effect,
                                   detail.when, facts if detail.when is not None else None))
        out.append(Fired(rule.id, rule.severity, rule.message, tuple(matched), tuple(details),
                         tuple(cites)))
    return out


def _monitoring(rules: RuleSet, program: _Program, facts: Facts, status: Status,
                observer: Observer | None) -> Monitoring | None:
    """The monitoring plan of a status that gives one: its conditional lines, then the reasons
    to monitor this patient more often."""
    plan = rules.monitoring
    if not status.gives_monitoring:
        if observer is not None:
            why = f"not evaluated: status {status.value} gives no monitoring plan"
            for index, item in enumerate(plan.schedule):
                if item.when is not None:
                    observer(WalkEvent("monitoring-item", monitoring_item_id(index), False, why))
            for reason in plan.reasons:
                observer(WalkEvent("monitoring-reason", reason.label, False, why))
        return None
    items, shown_at = [], []
    for index, (item, shown_when) in enumerate(program.schedule):
        if shown_when is None:
            items.append(item)
            shown_at.append(index)
            continue
        shown = shown_when(facts, None) is True
        if shown:
            items.append(item)
            shown_at.append(index)
        if observer is not None:
            observer(WalkEvent("monitoring-item", monitoring_item_id(index), shown,
                               "shown" if shown else "not shown", item.when, facts))
    because = []
    for reason, test in program.reasons:
        matched: list[str] = []
        applies = test(facts, matched) is True
        if applies:
            because.append(with_matched(reason.label, matched, rules))
        if observer is not None:
            observer(WalkEvent("monitoring-reason", reason.label, applies,
                               "monitor more often" if applies else "not a reason here",
                               reason.when, facts))
    key = (tuple(shown_at), tuple(because))
    built = program.monitorings.get(key)
    if built is None:
        if len(program.monitorings) >= 4096:  # reasons name matched items: keep it bounded
            program.monitorings.clear()
        cites = [c for item in items for c in item.cite]
        built = Monitoring(schedule=[item.text for item in items], more_often_because=because,
                           more_often_text=plan.more_often_text,
                           citations=list(dict.fromkeys([*cites, *plan.more_often_cite])),
                           basis_notes=[f"{item.text} - {item.basis}" for item in items
                                        if item.basis])
        program.monitorings[key] = built
    return built


def _regimen_effect(status: Status, step: Step | None, regimen: Regimen | None) -> str:
    if regimen is None or step is None:
        return f"no regimen: status {status.value} does not give one"
    dose = "no dose figure" if regimen.elemental_mmol_per_day is None else \
        f"{regimen.elemental_mmol_per_day:g} mmol/day"
    return (f"step {step.id} decided: its {regimen.dose_basis.value} regimen ({dose}, at most "
            f"{regimen.max_elemental_mmol_per_day:g} mmol/day)")


def with_matched(label: str, matched: list[str], rules: RuleSet) -> str:
    """A label with the vocabulary items that matched it, when they add something."""
    names = [rules.vocabulary.label_of(m) for m in dict.fromkeys(matched)]
    return f"{label} ({', '.join(names)})" if names and names != [label] else label


def _references(rules: RuleSet, built: dict[tuple[str, int], ReferenceOut],
                cited: list[str]) -> dict[str, ReferenceOut]:
    out = {}
    for number, rid in enumerate(dict.fromkeys(cited), start=1):
        ref = built.get((rid, number))
        if ref is None:
            source = rules.references[rid]
            ref = ReferenceOut(number=number, citation=" ".join(source.citation.split()),
                               short=source.short, doi=source.doi, pmid=source.pmid,
                               pmcid=source.pmcid, url=source.url, caveat=source.caveat)
            built[(rid, number)] = ref
        out[rid] = ref
    return out
