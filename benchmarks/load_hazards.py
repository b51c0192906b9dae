"""Load a hazard GeoPackage into a new register (the measured part of W1, W2, W3).

Streams the source in one pass, in Arrow batches of 5,000 features (pyogrio
``open_arrow``, as ``mineaction import`` reads files), and writes their
columns in one transaction through ``Writer.add_stream`` (which reads and checks the next
batch while the current one is written). Like the ``mineaction`` command,
it first freezes what its imports made out of the cyclic collector, which
would otherwise walk all of it again at the interpreter's exit (0.25 s).
Usage: ``load_hazards.py SOURCE TARGET
[PEAK_JSON]``; with PEAK_JSON it writes its own peak memory there.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import open_arrow

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
    # one sequential pass: chunks by skip_features reopened the file and stepped past every earlier feature
    with register.write("benchmark", f"bulk load of {source}", "import") as w, \
            open_arrow(source, batch_size=CHUNK, use_pyarrow=True) as (meta, reader):
        w.add_stream("hazard", _batches(meta, reader, operator.id), crs=meta["crs"])
    return register


def _batches(meta: dict, reader: Iterable, organisation_id: str) -> Iterator[tuple[dict[str, list], np.ndarray]]:
    """The columns and geometries of each Arrow batch, as the register takes them."""
    for batch in reader:
        columns = {name: batch.column(name).to_pylist() for name in batch.schema.names if name != meta["geometry_name"]}
        columns["organisation_id"] = [organisation_id] * batch.num_rows
        yield columns, shapely.from_wkb(batch.column(meta["geometry_name"]).to_numpy(zero_copy_only=False))


if __name__ == "__main__":
    gc.freeze()
    load(sys.argv[1], sys.argv[2]).close()
    if len(sys.argv) > 3:
        Path(sys.argv[3]).write_text(json.dumps({"peak_mib": own_peak_mib()}))
