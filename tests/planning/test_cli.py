"""``mineaction prioritise`` and ``mineaction forecast`` on the fictional demo programme, as users run them."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.demo.fictional_programme import build_demo
from mineaction.errors import InvalidValue
from mineaction.planning.hazards import LIVE_STATUSES
from mineaction.storage.register import Register
from mineaction.storage.statistics import admin_ancestors
from tests.planning.conftest import Handmade

runner = CliRunner()


@pytest.fixture
def demo(register: Register) -> Register:
    build_demo(register, seed=5, hazards=40)
    return register


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _drawn(path: Path) -> int:
    """Distinct colours in a PNG: a blank or single-colour picture has one or two."""
    pixels = imread(path)[..., :3].reshape(-1, 3)
    return len(np.unique(np.round(pixels * 255).astype(np.uint8) @ np.array([65536, 256, 1])))


def test_prioritise_writes_the_ranking_its_sensitivity_and_a_map(demo: Register, tmp_path: Path) -> None:
    out = tmp_path / "prio"
    result = runner.invoke(app, ["prioritise", "--db", demo.target, "--method", "topsis", "--top", "5",
                                 "--runs", "100", "--on", "2026-01-01", "--out", str(out)])
    assert result.exit_code == 0, result.output
    live = [h.ref for h in demo.records("hazard") if h["status"] in LIVE_STATUSES]
    ranking, stability = _rows(out / "ranking.csv"), _rows(out / "sensitivity.csv")
    assert sorted(r["ref"] for r in ranking) == sorted(live) == sorted(r["ref"] for r in stability)
    assert len(_rows(out / "criteria.csv")) == len(live)
    assert "population_nearby_contribution" in ranking[0]  # from the demo's settlements, no layer given
    assert [int(r["rank"]) for r in ranking] == sorted(int(r["rank"]) for r in ranking)
    assert ranking[0]["ref"] in result.output and "Top 5 of" in result.output
    for row in ranking:  # TOPSIS closeness = 1/2 + the contributions
        parts = sum(float(v) for k, v in row.items() if k.endswith("_contribution"))
        assert float(row["score"]) == pytest.approx(0.5 + parts, abs=1e-9)
    assert _drawn(out / "priority-map.png") > 20


def test_forecast_writes_completion_charts_and_what_if(demo: Register, tmp_path: Path) -> None:
    out = tmp_path / "forecast"
    result = runner.invoke(app, ["forecast", "--db", demo.target, "--teams", "manual=10,mechanical=2,mdd=3",
                                 "--what-if-teams", "manual=10,mechanical=6,mdd=3", "--start", "2026-01-01",
                                 "--runs", "300", "--out", str(out)])
    assert result.exit_code == 0, result.output
    completion = _rows(out / "completion.csv")
    ancestors = admin_ancestors(demo, 2)
    areas = {ancestors[h["admin_pcode"]] for h in demo.records("hazard") if h["status"] in LIVE_STATUSES}
    assert [r["area"] for r in completion] == [*sorted(areas), "national"]
    national = completion[-1]
    assert national["p50"] <= national["p90"] and national["p50"] == max(r["p50"] for r in completion)
    assert float(national["remaining_m2"]) == pytest.approx(sum(float(r["remaining_m2"]) for r in completion[:-1]))
    what_if = {r["quantile"]: r for r in _rows(out / "what-if.csv")}
    # more mechanical teams can never make a run finish later (common random numbers)
    assert int(what_if["P50"]["completion_change_days"]) <= 0 and int(what_if["P90"]["completion_change_days"]) <= 0
    for chart in ("burn-down.png", "released-by-year.png", "burn-down-what-if.png"):
        assert _drawn(out / chart) > 20, chart
    assert "national" in result.output and "What-if" in result.output


def test_refusals_come_with_what_to_do(handmade: Handmade, tmp_path: Path) -> None:
    """AHP judgements with CR ≥ 0.10 name the comparisons to revisit; a plan must staff every method."""
    judgements = tmp_path / "judgements.yaml"
    judgements.write_text("accidents_nearby:\n  cost_per_m2: 9\n  blocked_land_use: 1/9\n"
                          "blocked_land_use:\n  cost_per_m2: 1/9\n")
    out = tmp_path / "ahp"
    result = runner.invoke(app, ["prioritise", "--db", handmade.register.target, "--method", "ahp",
                                 "--pairwise", str(judgements), "--out", str(out)])
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidValue)  # app.main prints it with its hint, exit code 1
    message = str(result.exception)
    assert "consistency ratio" in message and "Most inconsistent: " in message
    assert "accidents_nearby vs cost_per_m2: judged 9" in message and "revisit those comparisons" in message
    assert not out.exists()

    # the handmade register expects manual and mechanical clearance
    result = runner.invoke(app, ["forecast", "--db", handmade.register.target, "--teams", "manual=10",
                                 "--out", str(tmp_path / "forecast")])
    assert isinstance(result.exception, InvalidValue)
    assert "expected to need mechanical" in str(result.exception)
    assert "--teams manual=2,mechanical=2" in str(result.exception)
