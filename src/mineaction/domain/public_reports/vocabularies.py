"""Controlled vocabularies of public reports, with English and Ukrainian labels.

In the shape of ``data/vocabularies.yaml`` (code: [en, uk]) so the next round
can seed them unchanged. Categories are what a civilian can tell apart by
looking, not ammunition types: the dispatcher classifies the item properly.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mineaction.domain.operations.vocabularies import check_code as _check

__all__ = ["VOCABULARIES", "check_code", "label"]

_V: dict[str, dict[str, tuple[str, str]]] = {
    "reported_item": {
        "mine": ("Looks like a mine", "Схоже на міну"),
        "shell": ("Shell or mortar bomb", "Снаряд або міна до міномета"),
        "rocket": ("Rocket or missile part", "Ракета або її частина"),
        "grenade": ("Grenade", "Граната"),
        "submunition": ("Small bomblet (cluster munition)", "Суббоєприпас (касетний)"),
        "aircraft_bomb": ("Aircraft bomb", "Авіабомба"),
        "drone_munition": ("Drone-dropped munition", "Боєприпас, скинутий з дрона"),
        "tripwire": ("Tripwire or wire", "Розтяжка або дріт"),
        "ammunition": ("Cartridges or loose ammunition", "Патрони або набої"),
        "suspicious": ("Suspicious object", "Підозрілий предмет"),
        "unknown": ("I do not know", "Не знаю"),
    },
    "people_near": {
        "yes": ("Yes", "Так"),
        "no": ("No", "Ні"),
        "unknown": ("Do not know", "Не знаю"),
    },
    "location_source": {
        "gps": ("Device position", "Позиція пристрою"),
        "map": ("Point on the map", "Точка на мапі"),
        "typed": ("Typed coordinates", "Введені координати"),
        "address": ("Address or description", "Адреса або опис"),
    },
    "public_report_status": {
        "received": ("Received", "Отримано"),
        "being_verified": ("Being verified", "Перевіряється"),
        "task_assigned": ("Task assigned to a team", "Завдання передано команді"),
        "item_removed": ("Item removed", "Предмет вилучено"),
        "closed": ("Closed", "Закрито"),
        "duplicate": ("Already reported by someone else", "Про це вже повідомили"),
        "not_eo": ("Not explosive ordnance", "Не вибухонебезпечний предмет"),
    },
    # who moves a report: the dispatcher (the authority's triage desk) or the operator whose team dealt with it
    "report_party": {
        "dispatcher": ("Dispatcher", "Диспетчер"),
        "operator": ("Operator", "Оператор"),
    },
    "language": {
        "en": ("English", "Англійська"),
        "uk": ("Ukrainian", "Українська"),
    },
}

VOCABULARIES: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {name: MappingProxyType(terms) for name, terms in _V.items()}
)


def check_code(vocabulary: str, code: object, *, where: str = "") -> str:
    """``code`` if it is a term of ``vocabulary`` (of public reports), else :class:`InvalidValue`.

    >>> check_code("people_near", "maybe", where="people near")
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: people near: 'maybe' is not a people_near code (no, unknown, yes)
    """
    return _check(vocabulary, code, where=where, vocabularies=VOCABULARIES)


def label(vocabulary: str, code: str, language: str) -> str:
    """What a user reads for ``code``: its English or Ukrainian label.

    >>> label("public_report_status", "being_verified", "uk")
    'Перевіряється'
    """
    en, uk = VOCABULARIES[vocabulary][check_code(vocabulary, code)]
    return uk if check_code("language", language) == "uk" else en
