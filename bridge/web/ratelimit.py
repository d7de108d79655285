"""Fixed-window rate limits in Redis, for the endpoints a stranger can hammer (redeem, referral claims).

A limit protects the shop's API and the referral budget; it is not what keeps points exact (the ledger's
locks and idempotency keys do that). So when Redis is unreachable the limit fails open and logs it, rather
than taking redemption down with Redis.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis.exceptions import RedisError

from bridge.errors import BridgeError
from bridge.runtime import current_runtime

log = logging.getLogger(__name__)


class RateLimited(BridgeError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def hit(scope: str, subject: str, limit: int, window_seconds: int, now: float | None = None) -> None:
    """Count one request of ``subject`` in ``scope``; raise ``RateLimited`` past ``limit`` per window."""
    current = time.time() if now is None else now
    window = int(current // window_seconds)
    # Subjects may be IPs or e-mails: hash them so Redis never holds raw personal data.
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:24]
    key = f"bridge:rl:{scope}:{digest}:{window}"
    try:
        redis = current_runtime().redis()
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds + 1)
        count = int(pipe.execute()[0])
    except RedisError as exc:
        log.warning("rate limit %s not enforced: redis unreachable (%s)", scope, exc)
        return
    if count > limit:
        retry_after = int((window + 1) * window_seconds - current) + 1
        raise RateLimited(f"too many requests; try again in {retry_after} s", retry_after)
