"""Messages to members and to the owner's systems (issue 17).

* ``outbox``: domain events, written in the same transaction as the change that causes them (one ``add`` call).
* ``dispatcher``: a periodic job that fans events out to deliveries (one row per event, channel and target) and
  sends them: claimed in one transaction, sent with none open (ADR 0009), the outcome recorded in another.
* ``channels``: e-mail (SMTP), SMS providers, the owner's webhooks (Standard Webhooks signatures).
* ``templates``: Jinja2, sandboxed, per event x channel x locale, owner overrides in ``data_dir/templates``.

This package's ``settings`` module imports nothing of ours, so ``bridge.config`` may use it.
"""
