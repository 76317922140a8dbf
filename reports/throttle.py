"""Login throttling against password guessing, in the cache (CACHE_URL: Redis in production, so all
web processes share the counters).

Two fixed-window counters: failures of one username from one address (stops guessing one account
without letting anyone lock a colleague out from elsewhere), and failures from one address whatever
the username (stops spraying many accounts). Past either limit, the login form refuses before even
checking the password, until the window ends.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def max_failures_per_account() -> int:
    return settings.IPEP_LOGIN_MAX_FAILURES


def max_failures_per_address() -> int:
    return settings.IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS


def lockout_seconds() -> int:
    return settings.IPEP_LOGIN_LOCKOUT_SECONDS


def client_address(request) -> str:
    """The client's address. Behind N trusted reverse proxies (IPEP_TRUSTED_PROXIES = N), the N-th
    X-Forwarded-For entry from the right, the one the outermost trusted proxy saw; the entries left of
    it are written by the client and never trusted. Without proxies, REMOTE_ADDR."""
    if request is None:
        return "unknown"
    proxies = settings.IPEP_TRUSTED_PROXIES
    if proxies:
        forwarded = [
            entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _keys(username: str, address: str) -> tuple[str, str]:
    account = hashlib.sha256(f"{username.strip().lower()}|{address}".encode()).hexdigest()[:32]
    return f"ipep:login-failures:account:{account}", f"ipep:login-failures:address:{address}"


def is_locked(username: str, address: str) -> bool:
    account_key, address_key = _keys(username, address)
    counts = cache.get_many([account_key, address_key])
    return (
        counts.get(account_key, 0) >= max_failures_per_account()
        or counts.get(address_key, 0) >= max_failures_per_address()
    )


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        cache.add(key, 0, timeout=lockout_seconds())
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=lockout_seconds())
    if is_locked(username, address):
        logger.warning("login locked for %r from %s after repeated failures", username, address)


def record_success(username: str, address: str) -> None:
    account_key, _address_key = _keys(username, address)
    cache.delete(account_key)
