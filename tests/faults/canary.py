"""Canary values in personal fields, and scans of any output for them.

Plant a unique canary in every personal field that can carry one, push the
record through a path (an export, an API response, a tile, a log, a
backup), then count the canary in what came out. A field-specific suffix
says which field leaked.

Free-text personal fields carry the canary. Coded and numeric personal
fields (a victim's ``sex``, ``age``) cannot hold a unique string; a test
checks those by value, :meth:`Canary.uncarried` lists them.

For the web and export tests (the function to call over every output path)::

    canary = Canary.new()
    victim = plant_victim(register, canary)  # or canary.plant("victim", values) in your own write
    ... produce the output ...
    canary.assert_absent(response.content, export_path, caplog.text)

:meth:`Canary.count` looks inside what an export may wrap the value in: UTF-8
and UTF-16 text, zip archives (XLSX, KMZ, zipped Shapefiles, nested), gzip
streams, PDF content streams and ``pg_dump`` archives (through
``pg_restore``). Text a PDF draws as glyphs (matplotlib's Type 3 fonts) is
out of its reach. The token is upper-case letters and digits only, so JSON, CSV,
XML and URL encoding leave it intact, and its first ``HEAD`` characters are
searched, so a field an export truncates still counts.

>>> canary = Canary("CNRYTESTTOKEN0001")
>>> canary.plant("victim", {"sex": "female"})["name"]
'CNRYTESTTOKEN0001-name'
>>> canary.count("… CNRYTESTTOKEN0001-notes …".encode("utf-16-le"))
1
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import re
import secrets
import string
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mineaction.domain.entities import Kind, Sensitivity, entity
from mineaction.storage.records import Record
from mineaction.storage.register import Register
from tests.common import square_m

__all__ = ["HEAD", "Canary", "Output", "plant_victim"]

HEAD = 12  # characters of the token searched for: unique, and short enough to survive truncation
_ALPHABET = string.ascii_uppercase + string.digits
_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")

#: what a scan accepts: raw bytes, text, or a file or folder (every file under it)
Output = bytes | str | Path


@dataclass(frozen=True)
class Canary:
    token: str

    @classmethod
    def new(cls) -> Canary:
        return cls("CNRY" + "".join(secrets.choice(_ALPHABET) for _ in range(13)))

    def plant(self, entity_name: str, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with every free-text personal field set to a canary naming the field."""
        carried = {f.name: f"{self.token}-{f.name}" for f in self._personal(entity_name) if _carries(f)}
        return {**values, **carried}

    def uncarried(self, entity_name: str) -> list[str]:
        """Personal fields that cannot hold the canary (codes, numbers): check them by value."""
        return [f.name for f in self._personal(entity_name) if not _carries(f)]

    @staticmethod
    def _personal(entity_name: str) -> list[Any]:
        return [f for f in entity(entity_name).fields if f.sensitivity is Sensitivity.PERSONAL]

    def count(self, data: bytes | str) -> int:
        """Occurrences in ``data``, looking inside zip and gzip containers."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        # a UTF-16-LE match also matches the BE pattern one byte on: count the best encoding only
        found = max(raw.count(self.token[:HEAD].encode(e)) for e in _ENCODINGS)
        if raw[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                found += sum(self.count(archive.read(member)) for member in archive.namelist())
        elif raw[:2] == b"\x1f\x8b":
            found += self.count(gzip.decompress(raw))
        elif raw[:5] == b"%PDF-":
            for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.DOTALL):
                with contextlib.suppress(zlib.error):
                    found += self.count(zlib.decompress(stream))
        elif raw[:5] == b"PGDMP":  # pg_dump custom format compresses table data: read it as SQL
            found += self.count(subprocess.run(["pg_restore", "--file=-"], input=raw, capture_output=True,
                                               check=True).stdout)
        return found

    def scan(self, *outputs: Output) -> dict[str, int]:
        """Occurrences in each output that holds the canary; empty when none does."""
        found: dict[str, int] = {}
        for i, output in enumerate(outputs):
            if isinstance(output, Path):
                files = sorted(p for p in output.rglob("*") if p.is_file()) if output.is_dir() else [output]
                for path in files:
                    found[str(path)] = self.count(path.read_bytes())
            else:
                found[f"output {i}"] = self.count(output)
        return {where: n for where, n in found.items() if n}

    def assert_absent(self, *outputs: Output) -> None:
        """Fail naming every output that holds the canary."""
        found = self.scan(*outputs)
        assert not found, f"personal data canary {self.token} found: {found}"


def plant_victim(register: Register, canary: Canary) -> Record:
    """An accident and its victim, the canary in two versions of the victim's personal fields."""
    with register.write("im.officer", "accident report 2025-031") as w:
        org = w.add("organisation", {"name": "Canary Operator", "organisation_type": "ngo"})
        accident = w.add("accident", {"occurred_on": dt.date(2025, 5, 2), "accident_type": "mine",
                                      "organisation_id": org.id}, square_m(50, 50, 10).centroid)
        victim = w.add("victim", canary.plant("victim", {
            "accident_id": accident.id, "age": 34, "sex": "female", "victim_group": "civilian",
            "outcome": "injured", "activity_at_time": "farming", "organisation_id": org.id}))
    with register.write("im.officer", "hospital follow-up") as w:
        w.update("victim", victim.id, base_version=1, values={"notes": f"{canary.token}-notes-v2"})
    return register.get("victim", victim.id)


def _carries(f: Any) -> bool:
    return f.kind is Kind.TEXT and f.vocabulary is None
