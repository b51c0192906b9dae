"""Load a hazard GeoPackage into a new register (the measured part of W1, W2, W3).

Streams the source in chunks with pyogrio and writes everything in one
transaction through ``Writer.add_many``. Usage: ``load_hazards.py SOURCE TARGET
[PEAK_JSON]``; with PEAK_JSON it writes its own peak memory there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely

from common import own_peak_mib
from mineaction.demo.fictional_programme import DEMO_CRS, _gazetteer, demo_programme
from mineaction.storage.register import Register

CHUNK = 5_000


def load(source: str, target: str) -> Register:
    register = Register.create(target, demo_programme())
    with register.write("benchmark", "gazetteer and operator", "benchmark") as w:
        for values, geometry in _gazetteer(np.random.default_rng(1)):
            w.add("admin_area", values, geometry, crs=DEMO_CRS)
        operator = w.add("organisation", {"name": "Benchmark operator", "organisation_type": "ngo"})
    total = pyogrio.read_info(source)["features"]
    with register.write("benchmark", f"bulk load of {source}", "import") as w:
        for start in range(0, total, CHUNK):
            meta, _fids, wkb, fields = pyogrio.raw.read(source, skip_features=start, max_features=CHUNK)
            rows = [dict(zip(meta["fields"], values), organisation_id=operator.id) for values in zip(*fields)]
            w.add_many("hazard", rows, shapely.from_wkb(wkb), crs=meta["crs"])
    return register


if __name__ == "__main__":
    load(sys.argv[1], sys.argv[2]).close()
    if len(sys.argv) > 3:
        Path(sys.argv[3]).write_text(json.dumps({"peak_mib": own_peak_mib()}))
