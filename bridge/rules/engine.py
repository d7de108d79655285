"""The rule set and its one evaluation path, used by the worker, ``bridge rules explain`` and the preview API.

Order of application (ADR 0008, docs/adr/0008-rules-engine.md):

1. **Membership**: in a ``closed`` or ``invite_only`` program a shopper who is not in yet earns nothing (a
   closed program's qualifying order lets them in and earns).
2. **Line weights**: exclusions (multiplier 0) win, else the highest matching product/SKU/category multiplier.
3. **Amount rules** (``per_amount``): weighted base x rate x active campaign multipliers x tier multiplier,
   rounded once per award.
4. **Bonuses** in configuration order: first order, n-th order, active campaigns' fixed points, custom rules.
   Tier multipliers do not apply to fixed bonuses (a bonus is a promise of an exact number).
5. **Caps** last, in configuration order of the awards: each award is cut to what is left under every cap
   covering it (per rule, then overall); an award cut to zero is dropped but still explained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from bridge.connectors.base import ShopCustomer, ShopOrder
from bridge.rules.base import Award, MemberContext, OrderContext, OrderRule, SignupRule, in_segments
from bridge.rules.campaign import Campaign
from bridge.rules.caps import Cap
from bridge.rules.events import EventRule
from bridge.rules.lines import ONE, LineRule
from bridge.rules.membership import Membership
from bridge.rules.per_amount import Boost, PerAmountRule
from bridge.rules.signup import BirthdayRule

UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class RuleSet:
    order_rules: tuple[OrderRule, ...] = ()  # amount rules, bonuses and custom rules, in configuration order
    signup_rules: tuple[SignupRule, ...] = ()
    line_rules: tuple[LineRule, ...] = ()
    campaigns: tuple[Campaign, ...] = ()
    caps: tuple[Cap, ...] = ()
    birthday_rules: tuple[BirthdayRule, ...] = ()
    event_rules: tuple[EventRule, ...] = ()  # issue 19: custom events (POST /admin/v1/events)
    tier_multipliers: Mapping[str, Decimal] = field(default_factory=dict)
    membership: Membership = field(default_factory=Membership)
    timezone: tzinfo = UTC_ZONE

    @property
    def needs_member_history(self) -> bool:
        """Whether a rule reads the member's past orders (first / n-th order bonuses, custom rules): when none
        does, the worker skips that query (one round trip per order)."""
        return any(not isinstance(rule, PerAmountRule) for rule in self.order_rules)

    @property
    def needs_profile(self) -> bool:
        """Whether the member's profile (joined, tier) can change an award."""
        return self.membership.policy != "open" or bool(self.tier_multipliers) or self.needs_member_history

    @property
    def needs_segments(self) -> bool:
        """Whether some rule is for some segments only (``segments: [at_risk]``): then the worker, the birthday job
        and the events API read the member's segments (one query); otherwise nobody does."""
        rules: tuple[Any, ...] = (
            *self.campaigns,
            *self.order_rules,
            *self.line_rules,
            *self.birthday_rules,
            *self.event_rules,
        )
        return any(rule_segments(rule) for rule in rules)

    @property
    def needs_categories(self) -> bool:
        """Whether the worker must look up product categories (an HTTP call when not cached) for this program."""
        return any(r.needs_categories for r in self.line_rules)


class RuleOutcome(NamedTuple):
    """One line of an explanation: what a rule did to this order (a tuple: built for every rule of every order)."""

    rule_id: str
    type: str
    points: int
    base: str | None = None
    multiplier: str | None = None
    caps_hit: tuple[str, ...] = ()
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "type": self.type,
            "points": self.points,
            "base": self.base,
            "multiplier": self.multiplier,
            "caps_hit": list(self.caps_hit),
            "note": self.note,
        }


@dataclass(frozen=True)
class Evaluation:
    awards: tuple[Award, ...]
    outcomes: tuple[RuleOutcome, ...]
    admitted: bool
    joins: bool  # a closed program's qualifying order: the member is in from now on

    @property
    def points(self) -> int:
        return sum(a.points for a in self.awards)

    def as_dict(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "admitted": self.admitted,
            "joins": self.joins,
            "awards": [{"rule_id": a.rule_id, "points": a.points, "reason": a.reason} for a in self.awards],
            "rules": [o.as_dict() for o in self.outcomes],
        }


def explain_order(order: ShopOrder, rules: RuleSet, ctx: OrderContext) -> Evaluation:
    """Every rule's verdict on a paid order, and the awards that result. The worker posts exactly these awards."""
    admitted, why = rules.membership.admits(order, ctx.member)
    if not admitted:
        return Evaluation((), (RuleOutcome("membership", rules.membership.policy, 0, note=why),), False, False)
    active = [c for c in rules.campaigns if c.active(ctx.at, rules.timezone) and c.applies_to(ctx.member.segments)]
    boosts = tuple(Boost(f"campaign:{c.id}", c.multiplier) for c in active if c.multiplier != ONE)
    tier = ctx.member.tier
    tier_multiplier = rules.tier_multipliers.get(tier, ONE) if tier else ONE
    if tier_multiplier != ONE:
        boosts += (Boost(f"tier:{tier}", tier_multiplier),)

    awards: list[Award] = []
    outcomes: list[RuleOutcome] = []
    for rule in rules.order_rules:
        wanted = rule_segments(rule)
        if wanted and not in_segments(wanted, ctx.member.segments):
            outcomes.append(_not_for_segments(rule.id, type(rule).__name__, wanted))
            continue
        if isinstance(rule, PerAmountRule):
            award = rule.award_for_order(order, ctx, boosts)
        else:
            award = rule.award_for_order(order, ctx)
        _collect(awards, outcomes, rule.id, type(rule).__name__, award)
    for campaign in active:
        _collect(awards, outcomes, campaign.id, "Campaign", campaign.bonus())
    for campaign in rules.campaigns:  # in its window, but for other members: said so, as for every other rule
        if campaign.segments and campaign not in active and campaign.active(ctx.at, rules.timezone):
            outcomes.append(_not_for_segments(campaign.id, "Campaign", campaign.segments))
    if rules.caps:
        awards, outcomes = _apply_caps(awards, outcomes, rules.caps, ctx.member)
    return Evaluation(tuple(awards), tuple(outcomes), True, rules.membership.joins_on(order, ctx.member))


def evaluate_order(order: ShopOrder, rules: RuleSet, ctx: OrderContext) -> list[Award]:
    """Awards for a paid order, one per rule that grants anything."""
    return list(explain_order(order, rules, ctx).awards)


def evaluate_signup(customer: ShopCustomer, rules: RuleSet, member: MemberContext | None = None) -> list[Award]:
    if member is not None and not rules.membership.earns_without_order(member):
        return []
    awards = (rule.award_for_signup(customer) for rule in rules.signup_rules)
    return [a for a in awards if a is not None]


def evaluate_birthday(rules: RuleSet, member: MemberContext, today: date) -> list[Award]:
    """Birthday bonuses due ``today`` (the program's local date); the caller keys them by year: once a year."""
    if not rules.membership.earns_without_order(member):
        return []
    awards = (
        rule.award_for_birthday(member.birthday, today)
        for rule in rules.birthday_rules
        if in_segments(rule.segments, member.segments)
    )
    return [a for a in awards if a is not None]


def rule_segments(rule: object) -> frozenset[str]:
    """A rule's ``segments`` condition (issue 16), empty for none; a plug-in's rule may carry one too."""
    segments = getattr(rule, "segments", None)
    return segments if isinstance(segments, frozenset) else frozenset()


def _not_for_segments(rule_id: str, kind: str, segments: frozenset[str]) -> RuleOutcome:
    return RuleOutcome(rule_id, kind, 0, note=f"only for members in {' or '.join(sorted(segments))}")


def _collect(awards: list[Award], outcomes: list[RuleOutcome], rule_id: str, kind: str, award: Award | None) -> None:
    if award is None:
        outcomes.append(RuleOutcome(rule_id, kind, 0, note="does not apply"))
        return
    awards.append(award)
    detail = award.detail
    outcomes.append(
        RuleOutcome(
            rule_id,
            kind,
            award.points,
            base=detail.get("base"),
            multiplier=detail.get("multiplier"),
            note=award.reason,
        )
    )


def _apply_caps(
    awards: list[Award], outcomes: list[RuleOutcome], caps: tuple[Cap, ...], member: MemberContext
) -> tuple[list[Award], list[RuleOutcome]]:
    left = {cap.id: max(cap.max_points - member.earned.get(cap.id, 0), 0) for cap in caps}
    # per-rule caps before overall ones, so an overall cap sees what the rule caps let through
    ordered = sorted(caps, key=lambda c: not c.rule_ids)
    kept: list[Award] = []
    by_rule = {o.rule_id: i for i, o in enumerate(outcomes)}
    for award in awards:
        points = award.points
        hit: list[str] = []
        for cap in ordered:
            if cap.covers(award.rule_id) and points > left[cap.id]:
                points = left[cap.id]
                hit.append(cap.id)
        for cap in ordered:
            if cap.covers(award.rule_id):
                left[cap.id] -= points
        index = by_rule[award.rule_id]
        if hit:
            outcomes[index] = outcomes[index]._replace(points=points, caps_hit=tuple(hit))
            detail = {**award.detail, "capped_from": award.points, "caps_hit": hit}
            award = replace(award, points=points, detail=detail, reason=f"{award.reason} (capped)")
        if points > 0:
            kept.append(award)
    return kept, outcomes
