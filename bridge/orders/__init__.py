"""Orders: turning each snapshot of a shop order into exactly the ledger entries it implies."""
