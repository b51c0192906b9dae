"""mineaction: open information management for humanitarian mine action.

The public surface is small: open or create a :class:`Register`, write to it
in a unit of work, read it now or as of a past time.

>>> import mineaction
>>> sorted(mineaction.__all__)[:3]
['CRSRequired', 'ConflictError', 'Extent']
"""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("mineaction")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = sorted(
    [
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
)
