"""RQ job functions and the machinery around them: small, idempotent, take ids, enqueued after commit."""
