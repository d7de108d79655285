"""Members: the points of a shop account or of a guest e-mail (docs/adr/0007-members-are-keyed-on-accounts.md)."""
