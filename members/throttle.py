"""Throttling of guessable secrets (login passwords, reset codes): failure counters and temporary locks in
the cache, per account and per client address.

Counters live ZHTJ_LOGIN_LOCK_MINUTES from their first failure (the cache expires them). When a counter
reaches its limit a lock is stored holding its end time, and the counter starts again from zero, so after
the lock the person gets a fresh set of attempts. Account keys are derived from whatever the client typed
(normalised), never from whether that account exists: an unknown ID number locks exactly like a real one,
so a lock reveals nothing the generic failure message does not.

Logins count first: attempt_begin counts the attempt as a failure (an atomic increment) before the slow
password check and refuses it unchecked once a count is over its limit, so concurrent guesses cannot all pass
before the lock; attempt_failed starts the lock, attempt_succeeded takes the count back.

The clock is `_clock()` so tests can move time forward instead of sleeping.
"""

import contextlib
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


def _limit(kind: str, account_limit: int | None = None) -> int:
    if kind == ACCOUNT:
        return settings.ZHTJ_LOGIN_MAX_FAILURES if account_limit is None else account_limit
    return settings.ZHTJ_LOGIN_MAX_FAILURES_PER_IP


def _incr(count_key: str) -> int:
    cache.add(count_key, 0, timeout=_window_seconds())
    try:
        return cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, timeout=_window_seconds())
        return 1


def _start_lock(scope: str, kind: str, ident: str, now: float) -> Lock:
    count_key, lock_key = _keys(scope, kind, ident)
    until = now + _window_seconds()
    cache.set(lock_key, until, timeout=_window_seconds())
    cache.delete(count_key)
    return Lock(kind=kind, until=until)


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


def register_failure(
    scope: str, *, account: str, ip: str | None, now: float | None = None, account_limit: int | None = None
) -> Lock | None:
    """Count one failure; return the lock this failure starts, if it reaches a limit.

    account_limit replaces ZHTJ_LOGIN_MAX_FAILURES for the account key (a shared ceiling, say).
    """
    now = _clock() if now is None else now
    started: Lock | None = None
    for kind, ident in _idents(account, ip):
        count_key, _ = _keys(scope, kind, ident)
        if _incr(count_key) >= _limit(kind, account_limit):
            lock = _start_lock(scope, kind, ident, now)
            started = started or lock
    return started


@dataclass(frozen=True)
class Attempt:
    """An attempt already counted as a failure (attempt_begin); lock is set when it is refused unchecked."""

    scope: str
    account: str
    ip: str | None
    counts: tuple[tuple[str, str, int], ...]  # (kind, ident, count including this attempt)
    lock: Lock | None


def attempt_begin(scope: str, *, account: str, ip: str | None, now: float | None = None) -> Attempt:
    """Count the attempt before checking it; refuse it (Attempt.lock) under a lock or over a limit.

    A count over its limit means that many attempts were counted while none had finished: the one that
    reached the limit starts the lock when it fails, and every attempt after it is refused unchecked.
    """
    now = _clock() if now is None else now
    lock = current_lock(scope, account=account, ip=ip, now=now)
    if lock is not None:
        return Attempt(scope=scope, account=account, ip=ip, counts=(), lock=lock)
    counts = tuple((kind, ident, _incr(_keys(scope, kind, ident)[0])) for kind, ident in _idents(account, ip))
    # A lock started by a concurrent attempt between the check above and the counting.
    lock = current_lock(scope, account=account, ip=ip, now=now)
    if lock is None:
        over = [kind for kind, _ident, count in counts if count > _limit(kind)]
        if over:
            lock = Lock(kind=over[0], until=now + _window_seconds())
    return Attempt(scope=scope, account=account, ip=ip, counts=counts, lock=lock)


def attempt_failed(attempt: Attempt, *, now: float | None = None) -> Lock | None:
    """The checked attempt was wrong (already counted); return the lock it starts by reaching a limit."""
    now = _clock() if now is None else now
    started: Lock | None = None
    for kind, ident, count in attempt.counts:
        if count >= _limit(kind):
            lock = _start_lock(attempt.scope, kind, ident, now)
            started = started or lock
    return started


def attempt_succeeded(attempt: Attempt) -> None:
    """The checked attempt was right: clear the account's counter and take back the address's count."""
    register_success(attempt.scope, account=attempt.account)
    for kind, ident, _count in attempt.counts:
        if kind == ADDRESS:
            # ValueError: expired or cleared by a lock meanwhile, nothing to take back.
            with contextlib.suppress(ValueError):
                cache.decr(_keys(attempt.scope, kind, ident)[0])


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
