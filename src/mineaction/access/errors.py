"""Errors of accounts and access, in the library's one error tree.

::

    MineActionError
    ├── NotAuthenticated        no valid session, token or password
    ├── AccessDenied (PermissionError)
    └── TooManyAttempts         login rate limit or account lock-out
"""

from __future__ import annotations

from mineaction.errors import MineActionError

__all__ = ["AccessDenied", "NotAuthenticated", "TooManyAttempts"]


class NotAuthenticated(MineActionError):
    """The request carries no valid credentials."""

    hint = "sign in, or send an API token as 'Authorization: Bearer <token>'"


class AccessDenied(MineActionError, PermissionError):
    """The account is signed in but its roles do not allow this."""

    hint = "ask an administrator of the organisation for the role this needs"


class TooManyAttempts(MineActionError):
    """Too many failed sign-ins: wait before trying again."""

    def __init__(self, message: str, *, retry_after_s: int, hint: str = "") -> None:
        super().__init__(message, hint=hint or f"wait {retry_after_s} s, then try again")
        self.retry_after_s = retry_after_s
