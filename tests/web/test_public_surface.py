"""The public names of the access and web packages, kept small and sorted on purpose."""

from __future__ import annotations

import mineaction.access
import mineaction.web


def _check(module: object, expected: list[str]) -> None:
    exported = module.__all__  # type: ignore[attr-defined]
    assert exported == sorted(exported)
    assert exported == expected
    for name in exported:
        assert getattr(module, name) is not None


def test_access_exports() -> None:
    _check(mineaction.access, [
        "AccessDenied", "Account", "AccountStore", "Grant", "NotAuthenticated", "Page", "Principal", "Role",
        "ScopedEditor", "ScopedReader", "ScopedReviewQueue", "Session", "Shown", "ShownReport", "TooManyAttempts",
        "local_operator", "public_scope",
    ])


def test_web_exports() -> None:
    _check(mineaction.web, ["Settings", "create_app"])
