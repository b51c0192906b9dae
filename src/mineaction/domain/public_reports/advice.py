"""Safety advice for whoever found an item, in English and Ukrainian, from ``data/safety_advice.yaml``.

Kept as data so a programme's EORE staff can change the wording without a
code change; the emergency number comes from the intake policy, so one
deployment cannot show another country's number.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import yaml

from mineaction.domain.public_reports.vocabularies import check_code

__all__ = ["LANGUAGES", "safety_advice"]

LANGUAGES = ("en", "uk")


@functools.cache
def _load() -> dict[str, Any]:
    text = (importlib.resources.files("mineaction") / "data" / "safety_advice.yaml").read_text("utf-8")
    data = dict(yaml.safe_load(text))
    for name, texts in [("title", data["title"]), *data["steps"].items()]:
        missing = [language for language in LANGUAGES if not str(texts.get(language) or "").strip()]
        if missing:
            raise ValueError(f"safety advice {name!r} has no text in {', '.join(missing)}")
    return data


def safety_advice(language: str, emergency_number: str) -> tuple[str, list[tuple[str, str]]]:
    """The title and the ordered steps in ``language``, with the emergency number filled in.

    >>> title, steps = safety_advice("en", "101")
    >>> steps[-1][1].startswith("Call 101")
    True
    """
    check_code("language", language, where="safety advice language")
    if not emergency_number.strip():
        raise ValueError("the programme's emergency number is not set: the advice would tell people to call nobody")
    data = _load()
    steps = [(code, texts[language].format(emergency_number=emergency_number)) for code, texts in data["steps"].items()]
    return data["title"][language], steps
