"""Connecting shops and never missing an order: connect, webhook health, reconciliation, backfill (issue 7)."""
