"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mineaction.errors import InvalidValue

__all__ = ["MIN_PASSWORD_LENGTH", "check_password_strength", "dummy_hash", "hash_password", "needs_rehash", "verify_password"]

MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()  # Argon2id


@cache
def dummy_hash() -> str:
    """Verified against when the account does not exist, so timing does not reveal it.

    Made once, by whatever checks passwords (:class:`AccountStore` on
    creation), not at import: hashing takes 0.1–0.2 s, which every command
    that merely imports the access layer (an export, say) would pay.
    """
    return _HASHER.hash("not a real password, only for constant time")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
