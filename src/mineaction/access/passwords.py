"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106's second recommendation), and
refusing weak passwords by estimated guesses (zxcvbn: common passwords, names, words, keyboard
patterns, dates, l33t substitutions and the account's own name), not by length alone."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from mineaction.errors import InvalidValue

__all__ = ["MIN_PASSWORD_LENGTH", "MIN_SCORE", "check_password_strength", "dummy_hash", "hash_password", "needs_rehash", "verify_password"]

MIN_PASSWORD_LENGTH = 12
#: zxcvbn's score (0-4) a password must reach: 3 is "safely unguessable" (about 10^8 guesses and more)
MIN_SCORE = 3
#: zxcvbn's cost grows with length; a longer text is a passphrase, and not one it needs to judge
_JUDGED_LENGTH = 100
_HASHER = PasswordHasher()  # Argon2id


@cache
def dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not reveal it.

    Made once, by whatever checks passwords (:class:`AccountStore` on
    creation), not at import: hashing takes 0.1–0.2 s, which every command
    that merely imports the access layer (an export, say) would pay.
    """
    return _HASHER.hash("not a real password, only for constant time")


def check_password_strength(password: str, user_inputs: Sequence[str] = ()) -> None:
    """Refuse a short or guessable password, saying why and what would do."""
    advice = "use a passphrase of four or more unrelated words, or a password manager's random password"
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"password too short: at least {MIN_PASSWORD_LENGTH} characters", hint=advice)
    result = zxcvbn(password[:_JUDGED_LENGTH], user_inputs=[u for u in user_inputs if u])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        why = feedback.get("warning") or "it follows a pattern that is quickly guessed"
        tips = " ".join(feedback.get("suggestions") or [])
        raise InvalidValue(f"password too easy to guess: {why.rstrip('.')}", hint=f"{tips} Please {advice}.".strip())


def hash_password(password: str, user_inputs: Sequence[str] = ()) -> str:
    """The Argon2id hash of a password strong enough (``user_inputs``: the account's names, not to be reused)."""
    check_password_strength(password, user_inputs)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
