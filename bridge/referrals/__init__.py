"""Referrals: codes and links, attribution, qualification, fraud checks (issue: referrals)."""
