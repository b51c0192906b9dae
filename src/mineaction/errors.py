"""Errors raised by mineaction.

One root, so callers can catch everything the library means to raise; builtin
mix-ins where a Python convention already exists. Each boundary (storage, CLI,
web) translates into or out of this tree exactly once.

::

    MineActionError
    ├── InvalidGeometry (ValueError)
    │   ├── SwappedAxes
    │   └── OutsideProgrammeExtent
    ├── CRSRequired (ValueError)
    ├── InvalidValue (ValueError)          unknown vocabulary code, bad field
    ├── RecordNotFound (LookupError)
    ├── ConflictError
    │   └── StaleEdit                      edit based on an outdated version
    ├── LedgerViolation                    a release breaks the land-release rules
    └── StorageError                       the database failed or is unusable
"""

from __future__ import annotations

__all__ = [
    "CRSRequired",
    "ConflictError",
    "InvalidGeometry",
    "InvalidValue",
    "LedgerViolation",
    "MineActionError",
    "OutsideProgrammeExtent",
    "RecordNotFound",
    "StaleEdit",
    "StorageError",
    "SwappedAxes",
]


class MineActionError(Exception):
    """Root of every error mineaction raises on purpose."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({self.hint})" if self.hint else text


class InvalidGeometry(MineActionError, ValueError):
    """A geometry cannot enter the register as it is."""

    hint = "fix the geometry in the source, or pass repair=True to repair it and see the area change"

    def __init__(
        self,
        message: str,
        *,
        location: tuple[float, float] | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.location = location


class SwappedAxes(InvalidGeometry):
    """Coordinates look like latitude/longitude given in the wrong order."""

    hint = "swap the coordinate order (x = longitude/easting, y = latitude/northing)"


class OutsideProgrammeExtent(InvalidGeometry):
    """Coordinates fall outside the programme's configured extent."""

    hint = "check the CRS of the source and the coordinates, or widen the programme extent"


class CRSRequired(MineActionError, ValueError):
    """Input coordinates came without a CRS."""

    hint = "give the EPSG code of the source, e.g. --crs EPSG:32636"


class InvalidValue(MineActionError, ValueError):
    """A field value is missing, of the wrong type or not in its vocabulary."""


class RecordNotFound(MineActionError, LookupError):
    """No record with that identifier exists (or it is not visible to you)."""


class ConflictError(MineActionError):
    """The write conflicts with the register's current state."""


class StaleEdit(ConflictError):
    """The edit was based on a version that is no longer the latest."""

    hint = "reload the record, reapply your change on the latest version and save again"


class LedgerViolation(ConflictError):
    """A released part breaks a land-release rule (overlap, outside the hazard)."""


class StorageError(MineActionError):
    """The database failed, or is not a mineaction register."""
