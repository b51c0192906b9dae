"""Proof of work instead of a CAPTCHA service: each report costs the sender some seconds of hashing.

The server issues a *signed challenge* when the form is loaded: an id, the
time issued, the time it expires and a difficulty, signed with HMAC-SHA256
under a server secret, so the server keeps no state until a report comes
back. The browser finds a nonce such that SHA-256 of ``"<challenge>:<nonce>"``
starts with ``difficulty`` zero bits (hashcash; about 2**difficulty hashes,
WebCrypto in the page). On a report the server checks, in this order: the
signature (constant time), expiry, the minimum fill time (measured from the
signed issue time, so a script cannot claim it waited), the work, and last
that the challenge id was not used before. Single use is the caller's
``consume`` callback: storage inserts the id into a table with a unique key
and says whether the insert took, so two servers cannot both accept it. An
id needs keeping only until its challenge expires.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from mineaction.errors import InvalidValue

__all__ = ["Challenge", "ChallengeRefused", "issue", "solve", "verify"]

_VERSION = "v1"
#: a secret shorter than this is refused: HMAC is only as strong as its key
MIN_SECRET_BYTES = 32


class ChallengeRefused(InvalidValue):
    """The proof of work is missing, forged, expired, too quick, wrong or used before (400/429 at the web)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # forged, expired, too_soon, wrong_work, used, malformed


@dataclass(frozen=True)
class Challenge:
    id: str
    issued: dt.datetime
    expires: dt.datetime
    difficulty: int
    token: str  # what the page gets and sends back, signature included


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(secret: bytes, payload: str) -> str:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the challenge secret needs at least {MIN_SECRET_BYTES} bytes")
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def issue(secret: bytes, *, now: dt.datetime, ttl: dt.timedelta, difficulty: int) -> Challenge:
    """A fresh signed challenge."""
    if not 0 <= difficulty <= 32:
        raise ValueError(f"a proof-of-work difficulty of {difficulty} bits is not between 0 and 32")
    ident = _b64(secrets.token_bytes(16))
    issued, expires = int(now.timestamp()), int((now + ttl).timestamp())
    payload = f"{_VERSION}.{ident}.{issued}.{expires}.{difficulty}"
    return Challenge(ident, dt.datetime.fromtimestamp(issued, dt.UTC), dt.datetime.fromtimestamp(expires, dt.UTC),
                     difficulty, f"{payload}.{_sign(secret, payload)}")


def _leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def _work(token: str, nonce: str) -> int:
    return _leading_zero_bits(hashlib.sha256(f"{token}:{nonce}".encode()).digest())


def solve(token: str, difficulty: int) -> str:
    """The first nonce (decimal) that meets ``difficulty``: what the page's script does, for tests and partners."""
    nonce = 0
    while _work(token, str(nonce)) < difficulty:
        nonce += 1
    return str(nonce)


def verify(
    token: str, nonce: str, secret: bytes, *, now: dt.datetime, min_fill_time: dt.timedelta,
    consume: Callable[[str, dt.datetime], bool],
) -> Challenge:
    """The challenge ``token`` names, if ``nonce`` answers it and it was not used; else :class:`ChallengeRefused`.

    ``consume(id, expires)`` records the id as used and returns False if it
    already was; it is called only once everything else holds, so a forged or
    wrong answer cannot burn someone else's challenge.
    """
    parts = token.split(".") if isinstance(token, str) and len(token) < 200 else []
    if len(parts) != 6 or parts[0] != _VERSION or not all(p.isdigit() for p in parts[2:5]):
        raise ChallengeRefused("the proof of work is missing or not a challenge this server issues", reason="malformed")
    payload, signature = ".".join(parts[:5]), parts[5]
    if not hmac.compare_digest(_sign(secret, payload), signature):
        raise ChallengeRefused("the challenge was not issued by this server", reason="forged")
    ident, issued_s, expires_s, difficulty = parts[1], int(parts[2]), int(parts[3]), int(parts[4])
    issued, expires = dt.datetime.fromtimestamp(issued_s, dt.UTC), dt.datetime.fromtimestamp(expires_s, dt.UTC)
    if now >= expires:
        raise ChallengeRefused("the challenge has expired: reload the page and send the report again", reason="expired")
    if now - issued < min_fill_time:
        raise ChallengeRefused(f"sent {(now - issued).total_seconds():.1f} s after the form was loaded; "
                               f"a person needs at least {min_fill_time.total_seconds():g} s", reason="too_soon")
    if not isinstance(nonce, str) or not nonce.isdigit() or len(nonce) > 20 or _work(token, nonce) < difficulty:
        raise ChallengeRefused(f"the nonce does not give {difficulty} leading zero bits", reason="wrong_work")
    if not consume(ident, expires):
        raise ChallengeRefused("this challenge was used already: each report needs a fresh one", reason="used")
    return Challenge(ident, issued, expires, difficulty, token)
