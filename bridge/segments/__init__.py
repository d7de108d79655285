"""Segments (issue 16): nightly RFM scores with named segments, and owner-defined segments from simple conditions."""
