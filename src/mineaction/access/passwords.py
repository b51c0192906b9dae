"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mineaction.errors import InvalidValue

__all__ = ["MIN_PASSWORD_LENGTH", "check_password_strength", "hash_password", "needs_rehash", "verify_password"]

MIN_PASSWORD_LENGTH = 12
_HASHER = PasswordHasher()  # Argon2id
#: verified against when the account does not exist, so timing does not reveal it
_DUMMY = _HASHER.hash("not a real password, only for constant time")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidValue(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
