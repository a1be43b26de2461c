"""Throttling of guessable secrets (login passwords, reset codes): failure counters and temporary locks in
the cache, per account and per client address.

Counters live ZHTJ_LOGIN_LOCK_MINUTES from their first failure (the cache expires them). When a counter
reaches its limit a lock is stored holding its end time, and the counter starts again from zero, so after
the lock the person gets a fresh set of attempts. Account keys are derived from whatever the client typed
(normalised), never from whether that account exists: an unknown ID number locks exactly like a real one,
so a lock reveals nothing the generic failure message does not.

The clock is `_clock()` so tests can move time forward instead of sleeping.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

ACCOUNT = "account"
ADDRESS = "address"


def _clock() -> float:
    return time.time()


@dataclass(frozen=True)
class Lock:
    """A lock in force: which kind (ACCOUNT or ADDRESS) and until when (epoch seconds)."""

    kind: str
    until: float

    def minutes_left(self, now: float | None = None) -> int:
        now = _clock() if now is None else now
        return max(1, math.ceil((self.until - now) / 60))


def _window_seconds() -> int:
    return max(1, settings.ZHTJ_LOGIN_LOCK_MINUTES) * 60


def _account_token(account: str) -> str:
    # Keyed hash: the cache (Redis) never holds ID numbers in the clear.
    return salted_hmac("zhtj.throttle", account).hexdigest()[:32]


def _keys(scope: str, kind: str, ident: str) -> tuple[str, str]:
    token = _account_token(ident) if kind == ACCOUNT else ident
    base = f"zhtj:throttle:{scope}:{kind}:{token}"
    return base + ":count", base + ":lock"


def _limit(kind: str) -> int:
    return settings.ZHTJ_LOGIN_MAX_FAILURES if kind == ACCOUNT else settings.ZHTJ_LOGIN_MAX_FAILURES_PER_IP


def _idents(account: str, ip: str | None) -> list[tuple[str, str]]:
    idents = [(ACCOUNT, account)]
    if ip:
        idents.append((ADDRESS, ip))
    return idents


def current_lock(scope: str, *, account: str, ip: str | None, now: float | None = None) -> Lock | None:
    """The lock in force for this account or this address, if any (the account's first)."""
    now = _clock() if now is None else now
    for kind, ident in _idents(account, ip):
        _, lock_key = _keys(scope, kind, ident)
        until = cache.get(lock_key)
        if until is not None and float(until) > now:
            return Lock(kind=kind, until=float(until))
    return None


def register_failure(scope: str, *, account: str, ip: str | None, now: float | None = None) -> Lock | None:
    """Count one failure; return the lock this failure starts, if it reaches a limit."""
    now = _clock() if now is None else now
    window = _window_seconds()
    started: Lock | None = None
    for kind, ident in _idents(account, ip):
        count_key, lock_key = _keys(scope, kind, ident)
        cache.add(count_key, 0, timeout=window)
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=window)
            count = 1
        if count >= _limit(kind):
            until = now + window
            cache.set(lock_key, until, timeout=window)
            cache.delete(count_key)
            started = started or Lock(kind=kind, until=until)
    return started


def register_success(scope: str, *, account: str) -> None:
    """A right answer clears the account's counter (the address keeps its count: it may be guessing many)."""
    count_key, _ = _keys(scope, ACCOUNT, account)
    cache.delete(count_key)


def failures(scope: str, *, kind: str, ident: str) -> int:
    """The current failure count (for tests and diagnostics)."""
    count_key, _ = _keys(scope, kind, ident)
    return int(cache.get(count_key) or 0)


def clear(scope: str, *, account: str | None = None, ip: str | None = None) -> None:
    """Lift the lock and reset the counter of an account and/or an address (operators' unlock)."""
    for kind, ident in ((ACCOUNT, account), (ADDRESS, ip)):
        if ident:
            cache.delete_many(list(_keys(scope, kind, ident)))
