"""The release of mineaction that is running, read from the installed package's metadata.

``pyproject.toml`` is the one place a release number is written; the
package, ``mineaction --version``, exports, reports and the styles the
register carries all read it from here. A module of its own, below every
layer, so that storage can name the release without importing the package's
front (which imports storage).
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("mineaction")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+source"
