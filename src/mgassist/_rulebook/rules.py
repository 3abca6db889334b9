"""The rules proper: findings, decision steps, risk factors and monitoring, each compiled with
its conditions, texts and citations.

    compile_findings(specs, conditions, report) -> {id: FindingRule}
    compile_steps(specs, finding_ids, conditions, report) -> (Step, ...)
    compile_risk_factors(specs, conditions, report) -> (RiskFactor, ...)
    compile_monitoring(spec, conditions, report) -> MonitoringRules

A rule whose condition failed is reported and left out; the load stops before the rule set is
built. The order of the calls matters: it is the order conditions are counted in (see
``conditions.Expansion``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mgassist._core.ruleset import (
    Detail,
    FindingRule,
    MonitoringRules,
    Reason,
    RiskFactor,
    ScheduleItem,
    Step,
)

from .conditions import Conditions
from .report import Report
from .schema import FindingSpec, MonitoringSpec, RiskFactorSpec, StepSpec

__all__ = ["compile_findings", "compile_monitoring", "compile_risk_factors", "compile_steps"]


def compile_findings(specs: Mapping[str, FindingSpec], conditions: Conditions,
                     report: Report) -> dict[str, FindingRule]:
    """Each finding: when it applies, its message, details, title and action."""
    out = {}
    for fid, spec in specs.items():
        when = conditions.condition("findings", (fid, "when"), spec.when, allow_status=True)
        details = tuple(
            Detail(conditions.text("findings", (fid, "details", i), d.text),
                   None if d.when is None else
                   conditions.condition("findings", (fid, "details", i, "when"), d.when,
                                        allow_status=True),
                   report.cites("findings", (fid, "details", i, "cite"), d.cite))
            for i, d in enumerate(spec.details))
        message = conditions.text("findings", (fid, "message"), spec.message)
        cite = report.cites("findings", (fid, "cite"), spec.cite)
        title = " ".join((spec.title or "").split())
        if "{" in title or "}" in title:
            report.fail("findings", (fid, "title"), f"finding {fid}: a title is shown as "
                                                    "written; it takes no placeholders")
        action = None if spec.action is None else \
            conditions.text("findings", (fid, "action"), spec.action)
        if when is not None:
            out[fid] = FindingRule(fid, spec.severity, when, message, details, cite,
                                   title=title, action=action)
    return out


def compile_steps(specs: Sequence[StepSpec], finding_ids: frozenset[str],
                  conditions: Conditions, report: Report) -> tuple[Step, ...]:
    """The decision steps, in order; each names a finding of ``finding_ids``."""
    out, seen = [], set()
    for i, spec in enumerate(specs):
        if spec.id in seen:
            report.fail("steps", (i, "id"), f"step id {spec.id!r} is used twice")
        seen.add(spec.id)
        if spec.finding not in finding_ids:
            report.fail("steps", (i, "finding"), f"step {spec.id}: finding {spec.finding!r} "
                                                 "is not defined in findings")
        when = conditions.condition("steps", (i, "when"), spec.when)
        reason = conditions.text("steps", (i, "reason"), spec.reason)
        if when is not None:
            out.append(Step(spec.id, when, spec.status, spec.finding, reason, spec.severity))
    return tuple(out)


def compile_risk_factors(specs: Sequence[RiskFactorSpec], conditions: Conditions,
                         report: Report) -> tuple[RiskFactor, ...]:
    """The risk factors, in order."""
    out = []
    for i, spec in enumerate(specs):
        when = conditions.condition("risk_factors", (i, "when"), spec.when)
        cite = report.cites("risk_factors", (i, "cite"), spec.cite)
        if when is not None:
            out.append(RiskFactor(spec.id, spec.label, when, cite))
    return tuple(out)


def compile_monitoring(spec: MonitoringSpec, conditions: Conditions,
                       report: Report) -> MonitoringRules:
    """The monitoring schedule, and the reasons to monitor more often."""
    schedule = []
    for i, item in enumerate(spec.schedule):
        when = None if item.when is None else conditions.condition(
            "monitoring", ("schedule", i, "when"), item.when, allow_status=True)
        schedule.append(ScheduleItem(
            " ".join(item.text.split()),
            report.cites("monitoring", ("schedule", i, "cite"), item.cite), item.basis, when))
    reasons = []
    for i, reason in enumerate(spec.more_often.reasons):
        when = conditions.condition("monitoring", ("more_often", "reasons", i, "when"),
                                    reason.when)
        if when is not None:
            reasons.append(Reason(reason.label, when))
    return MonitoringRules(tuple(schedule), spec.more_often.text, tuple(reasons),
                           report.cites("monitoring", ("more_often", "cite"),
                                        spec.more_often.cite))
