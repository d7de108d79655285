"""Rewards only some tiers may redeem (``rewards[].tiers``)."""

from __future__ import annotations

from sqlalchemy import Connection

from bridge.config import ProgramSettings, RewardSettings
from bridge.errors import TierRequired
from bridge.storage import tiers as store


def check(conn: Connection, program: ProgramSettings, reward: RewardSettings, member_id: int) -> None:
    """Raise ``TierRequired`` (403) unless the member's tier may redeem ``reward``; before anything is written."""
    if not reward.tiers:
        return
    state = store.state(conn, member_id)
    if state is not None and state.tier_id in reward.tiers:
        return
    levels = program.tiers.levels if program.tiers is not None else ()
    names = [str(level.name) for level in levels if level.id in reward.tiers] or list(reward.tiers)
    raise TierRequired(f"{reward.title} is for {' and '.join(names)} members only")
