"""W10 OGC API items: pages of 100 features in a bbox, mineaction vs pygeoapi on the same GeoPackage.

Workload: a register of N hazards (default 20,000; star polygons with ~40
vertices, from ``common.write_hazard_gpkg``, loaded by ``load_hazards.load``).
200 seeded bboxes, each holding well over 100 hazards;
``GET /collections/hazard/items?bbox=...&limit=100`` (GeoJSON, 100 features a
page), 8 client threads on loopback, 600 requests per round after 40 warm-up
requests, two interleaved rounds per server, best round kept.

Ours: ``mineaction serve`` (uvicorn, one worker) with an API token (so its
figure includes authentication, organisation scope and the personal-data
rules). Anchor: pygeoapi (its Starlette app under uvicorn, one worker) with its
OGR provider reading the same GeoPackage file, in a separate virtual
environment (``benchmarks/results/pygeoapi-venv``, made on first run from
Debian's python3 with ``--system-site-packages`` for python3-gdal, then
``pip install pygeoapi starlette uvicorn``). Goal: ≥ 2× pygeoapi's requests per second.

Run: ``.venv/bin/python benchmarks/bench_w10_ogc_items.py [N]``
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, save, write_hazard_gpkg
from load_hazards import load

from mineaction.access import AccountStore, Grant, Role

PYGEOAPI_VENV = RESULTS / "pygeoapi-venv"
THREADS, REQUESTS, WARMUP, PAGE = 8, 600, 40, 100


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(args: list[str], url: str, env: dict[str, str]) -> Iterator[str]:
    """Run a server process until ``url`` answers; stop it afterwards."""
    process = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(url, timeout=5).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {args[:3]} did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def pygeoapi_python() -> str:
    python = PYGEOAPI_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(PYGEOAPI_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pygeoapi", "starlette", "uvicorn"], check=True)
    return str(python)


def pygeoapi_config(folder: Path, gpkg_path: str, port: int) -> dict[str, str]:
    """A minimal pygeoapi configuration with one collection on the register's hazard table."""
    contact = {k: "x" for k in ("name", "position", "address", "city", "stateorprovince", "postalcode", "country",
                                "phone", "fax", "email", "url", "hours", "instructions")}
    config = {
        "server": {"bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
                   "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "language": "en-US",
                   "limits": {"default_items": 10, "max_items": 1000}, "map": {"url": "", "attribution": ""}},
        "logging": {"level": "ERROR"},
        "metadata": {"identification": {"title": "W10", "description": "W10", "keywords": ["w10"],
                                        "keywords_type": "theme", "terms_of_service": "", "url": ""},
                     "license": {"name": "CC-BY 4.0", "url": ""}, "provider": {"name": "x", "url": ""},
                     "contact": {**contact, "role": "pointOfContact"}},
        "resources": {"hazard": {
            "type": "collection", "title": "hazard", "description": "hazards", "keywords": ["hazard"],
            "extents": {"spatial": {"bbox": [-180, -90, 180, 90], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
            "providers": [{"type": "feature", "name": "OGR", "id_field": "fid", "layer": "hazard",
                           "data": {"source_type": "GPKG", "source": gpkg_path, "source_srs": "EPSG:4326",
                                    "target_srs": "EPSG:4326", "source_capabilities": {"paging": True},
                                    "gdal_ogr_options": {}}}],
        }},
    }
    config_path, openapi_path = folder / "pygeoapi.yml", folder / "pygeoapi-openapi.yml"
    config_path.write_text(yaml.safe_dump(config))
    subprocess.run([str(Path(pygeoapi_python()).parent / "pygeoapi"), "openapi", "generate", str(config_path),
                    "--output-file", str(openapi_path)], check=True, capture_output=True,
                   env={**os.environ, "PYGEOAPI_CONFIG": str(config_path)})
    return {"PYGEOAPI_CONFIG": str(config_path), "PYGEOAPI_OPENAPI": str(openapi_path)}


def bboxes(bounds: tuple[float, float, float, float], n_hazards: int, count: int = 200, seed: int = 10) -> np.ndarray:
    """Boxes expected to hold ~3 pages of hazards each (hazards are spread evenly)."""
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    share = min(1.0, 3 * PAGE / n_hazards)
    width, height = (east - west) * np.sqrt(share), (north - south) * np.sqrt(share)
    x, y = rng.uniform(west, east - width, count), rng.uniform(south, north - height, count)
    return np.column_stack([x, y, x + width, y + height])


def measure(base: str, headers: dict[str, str], boxes: np.ndarray) -> dict[str, float]:
    """Requests per second of THREADS clients fetching REQUESTS pages; checks every page is full."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(WARMUP + REQUESTS))
    lock = threading.Lock()
    start_measuring = threading.Event()

    def worker() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                if i == WARMUP:
                    start_measuring.set()
                box = ",".join(f"{v:.6f}" for v in boxes[i % len(boxes)])
                t0 = time.perf_counter()
                response = client.get("/collections/hazard/items", params={"bbox": box, "limit": PAGE, "f": "json"})
                elapsed = time.perf_counter() - t0
                if response.status_code != 200 or len(response.json()["features"]) != PAGE:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                if i >= WARMUP:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    start_measuring.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} bad responses, e.g. {errors[0]}")
    return {"requests_per_s": len(latencies) / wall, "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p99_ms": 1000 * float(np.percentile(latencies, 99))}


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        register = load(str(write_hazard_gpkg(folder / "source.gpkg", n)), str(folder / "register.gpkg"))
        store = AccountStore(register)
        account = store.create_account("bench", "benchmark-password", grants=(Grant(None, Role.VIEWER),), by="bench")
        token, _ = store.issue_token(store.principal(account), "w10")
        extent = register.programme.extent
        register.close()
        boxes = bboxes((extent.west + 0.05, extent.south + 0.05, extent.east - 0.05, extent.north - 0.05), n)
        ours_port, theirs_port = free_port(), free_port()
        ours_cmd = [sys.executable, "-m", "uvicorn", "--factory", "mineaction.web.app:create_app",
                    "--host", "127.0.0.1", "--port", str(ours_port), "--log-level", "warning"]
        theirs_cmd = [pygeoapi_python(), "-m", "uvicorn", "pygeoapi.starlette_app:APP",
                      "--host", "127.0.0.1", "--port", str(theirs_port), "--log-level", "warning"]
        theirs_env = pygeoapi_config(folder, str(folder / "register.gpkg"), theirs_port)
        rounds: dict[str, list[dict[str, float]]] = {"mineaction": [], "pygeoapi": []}
        for _ in range(2):
            with serving(ours_cmd, f"http://127.0.0.1:{ours_port}/ogc/conformance",
                         {"MINEACTION_DB": str(folder / "register.gpkg")}):
                rounds["mineaction"].append(measure(f"http://127.0.0.1:{ours_port}/ogc",
                                                    {"Authorization": f"Bearer {token}"}, boxes))
            with serving(theirs_cmd, f"http://127.0.0.1:{theirs_port}/conformance", theirs_env):
                rounds["pygeoapi"].append(measure(f"http://127.0.0.1:{theirs_port}", {}, boxes))
    best = {name: max(r, key=lambda m: m["requests_per_s"]) for name, r in rounds.items()}
    ratio = best["mineaction"]["requests_per_s"] / best["pygeoapi"]["requests_per_s"]
    for name, figures in best.items():
        print(f"{name:11s} {figures['requests_per_s']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms")
    print(f"ratio mineaction/pygeoapi: {ratio:.2f}x (goal >= 2x)")
    out = save("w10_ogc_items", {"hazards": n, "page": PAGE, "threads": THREADS, "requests": REQUESTS,
                                 "rounds": rounds, "best": best, "ratio": ratio, "goal": ">= 2x"})
    print(f"results: {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
