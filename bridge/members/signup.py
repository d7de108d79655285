"""A shop account was created or changed: map it to its member, and award the sign-up bonus once."""

from __future__ import annotations

from sqlalchemy import Connection

from bridge.connectors.base import ShopCustomer
from bridge.ledger import service as ledger
from bridge.ledger.model import EntryKind, NewEntry
from bridge.members import name_capture
from bridge.members.service import link_account
from bridge.orders.context import member_context
from bridge.orders.service import ShopContext
from bridge.rules import evaluate_signup
from bridge.storage import life
from bridge.storage.clock import utcnow

CAUSE_SIGNUP = "signup"


def apply_customer(conn: Connection, ctx: ShopContext, customer: ShopCustomer, *, created: bool) -> str:
    # The customer resource carries the account's own e-mail: the one source that may attach a guest member.
    member_id = link_account(conn, ctx.program_id, ctx.shop_id, customer.customer_id, customer.email)
    name_capture.capture(conn, ctx.program_id, [(member_id, name_capture.from_customer(customer))])
    if customer.birthday is not None:  # issue 3: the birthday job reads it from the member's profile
        life.update_profile(conn, ctx.program_id, member_id, utcnow(), birthday=customer.birthday)
    if not created:
        return "linked"
    member = member_context(conn, ctx.rules, member_id, utcnow())
    for award in evaluate_signup(customer, ctx.rules, member):
        # Keyed on the member, not the shop account: one sign-up bonus per person per program.
        ledger.post(
            conn,
            NewEntry(
                program_id=ctx.program_id,
                shop_id=ctx.shop_id,
                member_id=member_id,
                points=award.points,
                kind=EntryKind.EARN,
                idempotency_key=f"{ctx.program_id}:member:{member_id}:signup:{award.rule_id}",
                cause_type=CAUSE_SIGNUP,
                cause_id=customer.customer_id,
                rule_id=award.rule_id,
                note=award.reason,
            ),
        )
    return "signed-up"
