"""Sign-in throttling, kept in the register's database so every worker and server shares it.

Two counters, each blocking with a back-off that doubles every time its limit
is reached again (up to ``max_block``):

* per **source** (the client address; a trusted proxy's ``X-Forwarded-For``
  only when the connection comes from that proxy): a source that fails
  ``source_limit`` times within a minute must wait, whichever accounts it
  tried. Its refusal is a 429 that names no account.
* per **account from a source**: after ``account_limit`` failures on one
  account from one source, that account cannot sign in *from that source*
  for ``lockout``. Other sources are not affected, so an attacker failing
  on an administrator's name cannot keep the administrator out; the refusal
  looks exactly like a wrong password.

A success clears the account's counter from that source (never the
source's: one valid account must not reset a guessing source). An
administrator can clear an account's or a source's counters (:meth:`unlock`).
A counter quiet for ``max_block`` after its last failure or block forgets its strikes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mineaction.access.errors import TooManyAttempts
from mineaction.storage import Register, utcnow
from mineaction.storage import accounts as stored

__all__ = ["LoginThrottle", "Rule"]


@dataclass(frozen=True)
class Rule:
    """``limit`` failures within ``window`` block for ``block``, doubling per strike up to ``max_block``."""

    limit: int
    window: dt.timedelta
    block: dt.timedelta
    max_block: dt.timedelta

    def step(self, counter: stored.Counter | None, now: dt.datetime) -> stored.Counter:
        """The counter after one more failure at ``now``."""
        if counter is not None and counter.blocked_until is not None and counter.blocked_until > now:
            return counter  # tries while blocked were refused unchecked; they do not lengthen the block
        if counter is None or now - max(counter.last_failure_at, counter.blocked_until or counter.last_failure_at) > self.max_block:
            counter = stored.Counter(0, now, 0, now, None)
        failures, start = counter.failures, counter.window_start
        if now - start > self.window:
            failures, start = 0, now
        failures += 1
        if failures < self.limit:
            return stored.Counter(failures, start, counter.strikes, now, None)
        strikes = counter.strikes + 1
        block = min(self.block * 2 ** min(strikes - 1, 30), self.max_block)
        return stored.Counter(0, now, strikes, now, now + block)


def _source_key(source: str) -> str:
    return f"source {source}"


def _account_key(account_id: str, source: str) -> str:
    return f"account {account_id} {source}"


class LoginThrottle:
    """Failed sign-ins counted in the register's ``login_throttle`` table."""

    def __init__(
        self,
        register: Register,
        *,
        source_limit: int = 20,
        account_limit: int = 5,
        lockout: dt.timedelta = dt.timedelta(minutes=15),
        max_block: dt.timedelta = dt.timedelta(days=1),
    ) -> None:
        self.register = register
        self.source_rule = Rule(source_limit, dt.timedelta(minutes=1), dt.timedelta(minutes=1), max_block)
        self.account_rule = Rule(account_limit, lockout, lockout, max_block)

    def check_source(self, source: str) -> None:
        """Raise :class:`TooManyAttempts` while ``source`` must wait (before any password is checked)."""
        now = utcnow()
        blocked = stored.throttle_blocks(self.register, [_source_key(source)], now)
        if blocked:
            retry = int((min(blocked.values()) - now).total_seconds()) + 1
            raise TooManyAttempts("too many failed sign-ins from this address", retry_after_s=retry)

    def account_blocked(self, account_id: str, source: str) -> bool:
        """Is this account locked from this source?"""
        return bool(stored.throttle_blocks(self.register, [_account_key(account_id, source)], utcnow()))

    def failed(self, source: str, account_id: str | None) -> None:
        """Count a failed sign-in from ``source``, on an existing account or not, in one transaction."""
        now = utcnow()
        keys: dict[str, tuple[str, str | None]] = {_source_key(source): (source, None)}
        if account_id is not None:
            keys[_account_key(account_id, source)] = (source, account_id)
        source_key = _source_key(source)
        rules = {key: self.source_rule if key == source_key else self.account_rule for key in keys}
        stored.count_failures(self.register, keys, lambda key, counter: rules[key].step(counter, now),
                              forget_before=now - self.source_rule.max_block)

    def succeeded(self, account_id: str, source: str) -> None:
        stored.clear_throttles(self.register, keys=[_account_key(account_id, source)])

    def unlock(self, *, account_id: str | None = None, source: str | None = None) -> int:
        """Clear an account's counters from every source, and/or a source's; returns how many were cleared."""
        return stored.clear_throttles(self.register, account_id=account_id, source=source)
