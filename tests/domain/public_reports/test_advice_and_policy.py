"""Safety advice in both languages with the programme's number; the intake policy round-trips as JSON."""

from __future__ import annotations

import datetime as dt
import importlib.resources

import pytest
import yaml

from mineaction.domain.public_reports.advice import LANGUAGES, safety_advice
from mineaction.domain.public_reports.policy import IntakePolicy


def test_every_step_of_the_advice_is_in_both_languages_in_the_same_order() -> None:
    raw = yaml.safe_load((importlib.resources.files("mineaction") / "data" / "safety_advice.yaml").read_text("utf-8"))
    assert set(raw["steps"]) == {"do_not_touch", "do_not_move", "mark_if_safe", "move_away", "call"}
    for code, texts in raw["steps"].items():
        assert set(texts) == set(LANGUAGES), code
    (title_en, en), (title_uk, uk) = safety_advice("en", "101"), safety_advice("uk", "101")
    assert [c for c, _ in en] == [c for c, _ in uk] == list(raw["steps"])
    assert title_en != title_uk and all(a != b for (_, a), (_, b) in zip(en, uk))
    assert "101" in dict(en)["call"] and "101" in dict(uk)["call"]
    assert "{" not in "".join(t for _, t in en + uk)


def test_advice_needs_a_number_and_a_known_language() -> None:
    with pytest.raises(ValueError, match="emergency number"):
        safety_advice("en", " ")
    with pytest.raises(ValueError, match="language"):
        safety_advice("de", "112")


def test_the_policy_round_trips_and_refuses_nonsense() -> None:
    policy = IntakePolicy(emergency_number="101", reports_per_source_per_minute=2, fold_window=dt.timedelta(hours=24))
    assert IntakePolicy.from_json(policy.to_json()) == policy
    assert policy.to_json()["fold_window"] == 86_400
    with pytest.raises(ValueError, match="reports_per_source_per_minute"):
        IntakePolicy(reports_per_source_per_minute=0)
    with pytest.raises(ValueError, match="pow_difficulty_bits_under_load"):
        IntakePolicy(pow_difficulty_bits=24, pow_difficulty_bits_under_load=20)


def test_a_flooded_channel_asks_for_harder_work() -> None:
    policy = IntakePolicy(reports_per_minute_alert=600)
    assert (policy.pow_difficulty(600), policy.pow_difficulty(601)) == (16, 20)
