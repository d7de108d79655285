"""Thin Flask blueprints: authenticate, validate, call one service, dump the result."""
