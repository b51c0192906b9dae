"""mineaction: open information management for humanitarian mine action.

The public surface is small: open or create a :class:`Register`, write to it
in a unit of work, read it now or as of a past time.

>>> import mineaction
>>> sorted(mineaction.__all__)[:3]
['CRSRequired', 'ConflictError', 'Extent']
"""

from mineaction.domain.geometry import Extent
from mineaction.domain.programme import Programme
from mineaction.errors import (
    ConflictError,
    CRSRequired,
    InvalidGeometry,
    InvalidValue,
    LedgerViolation,
    MineActionError,
    OutsideProgrammeExtent,
    RecordNotFound,
    StaleEdit,
    StorageError,
    SwappedAxes,
)
from mineaction.storage import Record, Register
from mineaction.version import __version__

__all__ = [
    "CRSRequired",
    "ConflictError",
    "Extent",
    "InvalidGeometry",
    "InvalidValue",
    "LedgerViolation",
    "MineActionError",
    "OutsideProgrammeExtent",
    "Programme",
    "Record",
    "RecordNotFound",
    "Register",
    "StaleEdit",
    "StorageError",
    "SwappedAxes",
    "__version__",
]
