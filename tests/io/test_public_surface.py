"""mineaction.io exposes a small, sorted public surface."""

import mineaction.io


def test_exported_members() -> None:
    assert mineaction.io.__all__ == sorted(mineaction.io.__all__)
    assert all(hasattr(mineaction.io, name) for name in mineaction.io.__all__)
    assert {"import_file", "import_submissions", "export", "write_forms"} <= set(mineaction.io.__all__)
