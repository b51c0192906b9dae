"""Accounts and access: who may sign in, see and change what.

Kept apart from the web layer so that exports and reports apply the same
rules: read through :class:`ScopedReader`, write through :class:`ScopedEditor`.
"""

from mineaction.access.accounts import Account, AccountStore, Session
from mineaction.access.editor import ScopedEditor
from mineaction.access.errors import AccessDenied, NotAuthenticated, TooManyAttempts
from mineaction.access.reader import Page, ScopedReader, Shown
from mineaction.access.roles import Grant, Principal, Role

__all__ = [
    "AccessDenied",
    "Account",
    "AccountStore",
    "Grant",
    "NotAuthenticated",
    "Page",
    "Principal",
    "Role",
    "ScopedEditor",
    "ScopedReader",
    "Session",
    "Shown",
    "TooManyAttempts",
]
