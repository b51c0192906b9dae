"""Proof of work: a signed, expiring, single-use challenge that costs the sender hashing and time."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from mineaction.domain.public_reports.challenge import ChallengeRefused, issue, solve, verify

SECRET = b"s" * 32
NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
TTL, FILL = dt.timedelta(minutes=30), dt.timedelta(seconds=5)


class UsedIds:
    """What the database table of used challenge ids does: insert once, say whether it took."""

    def __init__(self) -> None:
        self.ids: dict[str, dt.datetime] = {}

    def __call__(self, ident: str, expires: dt.datetime) -> bool:
        if ident in self.ids:
            return False
        self.ids[ident] = expires
        return True


def _answered(difficulty: int = 8) -> tuple[str, str]:
    challenge = issue(SECRET, now=NOW, ttl=TTL, difficulty=difficulty)
    return challenge.token, solve(challenge.token, difficulty)


def test_a_solved_challenge_is_accepted_once() -> None:
    token, nonce = _answered(10)
    used = UsedIds()
    accepted = verify(token, nonce, SECRET, now=NOW + dt.timedelta(seconds=20), min_fill_time=FILL, consume=used)
    assert accepted.difficulty == 10 and list(used.ids) == [accepted.id]
    digest = hashlib.sha256(f"{token}:{nonce}".encode()).digest()
    assert int.from_bytes(digest, "big") >> (256 - 10) == 0  # the work is really there
    with pytest.raises(ChallengeRefused) as again:
        verify(token, nonce, SECRET, now=NOW + dt.timedelta(seconds=21), min_fill_time=FILL, consume=used)
    assert again.value.reason == "used"


@pytest.mark.parametrize(("case", "reason"), [
    ("forged", "forged"), ("harder_claimed", "forged"), ("other_secret", "forged"),
    ("expired", "expired"), ("too_soon", "too_soon"), ("no_work", "wrong_work"), ("garbage", "malformed"),
])
def test_refusals_say_why_and_burn_nothing(case: str, reason: str) -> None:
    token, nonce = _answered()
    when, secret = NOW + dt.timedelta(seconds=20), SECRET
    if case == "forged":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif case == "harder_claimed":  # lowering or raising the difficulty breaks the signature
        parts = token.split(".")
        parts[4] = "1"
        token = ".".join(parts)
    elif case == "other_secret":
        secret = b"t" * 32
    elif case == "expired":
        when = NOW + TTL
    elif case == "too_soon":
        when = NOW + dt.timedelta(seconds=2)
    elif case == "no_work":
        nonce = next(str(k) for k in range(10_000) if hashlib.sha256(f"{token}:{k}".encode()).digest()[0] != 0)
    else:
        token = "not a token"
    used = UsedIds()
    with pytest.raises(ChallengeRefused) as refused:
        verify(token, nonce, secret, now=when, min_fill_time=FILL, consume=used)
    assert refused.value.reason == reason
    assert used.ids == {}


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        issue(b"short", now=NOW, ttl=TTL, difficulty=8)


def test_each_issue_is_a_new_id() -> None:
    ids = {issue(SECRET, now=NOW, ttl=TTL, difficulty=8).id for _ in range(100)}
    assert len(ids) == 100
