"""Members: one person per normalised email in a program, whatever shop accounts they have."""
