"""THE POINTS LEDGER: the only code that writes points. Append-only; every entry has an idempotency key."""
