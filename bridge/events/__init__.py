"""Custom events: things the shop does not send as webhooks (a review, a social follow, an in-store visit), posted by
the owner's systems to ``POST /admin/v1/events`` and awarded by ``event`` rules or by explicit points (issue 19)."""
