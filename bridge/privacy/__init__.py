"""GDPR: everything held about a person as JSON (export), and erase = pseudonymise (issue 19).

``export`` reads every table that can hold a member's data; ``erase`` removes or blanks the personal data and keeps
the ledger (amounts, keys, causes) under the same member row, now shown under an opaque pseudonym, so balances and
reports stay exact. ``hooks`` applies WooCommerce's ``customer.deleted`` in the worker's drain.
"""
