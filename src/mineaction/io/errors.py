"""Errors of reading field data, in the library's one error tree.

::

    MineActionError
    └── SourceError (ValueError)        the file cannot be read as it is
        └── UnsafeSource                refused as hostile: XML entities, path traversal, zip bomb
"""

from __future__ import annotations

from mineaction.errors import MineActionError

__all__ = ["SourceError", "UnsafeSource"]


class SourceError(MineActionError, ValueError):
    """A source file is damaged, truncated, or not in a format it claims to be."""

    hint = "check the file opens in QGIS; export it again from the field tool if it does not"


class UnsafeSource(SourceError):
    """A source file was refused before reading because it is built to harm the reader."""

    hint = "do not import this file; ask the sender for a clean export from their field tool"
