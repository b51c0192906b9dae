"""XLSForms for ODK Collect and KoboCollect, built from the register itself.

Five forms: hazard report (non-technical survey), EO spot report, activity
completion with released parts, EORE session, accident report with victims.
Questions are named after the register fields they fill, so a submission maps
onto the register without a mapping file; choice lists come from the
register's vocabularies (labels in English and Ukrainian) and its gazetteer
(settlements) and organisations, so a form never offers a code the register
would refuse. Where recording GPS may be unsafe, the team may pick the
settlement instead, and the settlement's point stands in for the location.

Every generated workbook converts with ``pyxform`` (tested).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from mineaction.domain.spreadsheet import neutralise
from mineaction.errors import InvalidValue
from mineaction.storage import Register, latest_changeset

__all__ = ["FORMS", "FormSpec", "Question", "choices", "write_form", "write_forms"]

_EN, _UK = "English (en)", "Ukrainian (uk)"
_YES_NO = {"yes": ("Yes", "Так"), "no": ("No", "Ні")}


@dataclass(frozen=True)
class Question:
    type: str  # XLSForm type; "select_one LIST" / "select_multiple LIST" name a choice list
    name: str
    en: str
    uk: str
    required: bool = False
    relevant: str = ""
    default: str = ""
    calculation: str = ""
    hint_en: str = ""
    hint_uk: str = ""
    appearance: str = ""


@dataclass(frozen=True)
class FormSpec:
    """A form, the entity its main part fills, and the entity its repeat (if any) fills."""

    form_id: str
    title_en: str
    title_uk: str
    entity: str
    questions: tuple[Question, ...]
    repeat: str | None = None  # name of the begin_repeat group
    repeat_entity: str | None = None
    action: str = "add"  # "update" for the activity completion report


def _q(type_: str, name: str, en: str, uk: str, **kw: object) -> Question:
    return Question(type_, name, en, uk, **kw)  # type: ignore[arg-type]


_ORGANISATION = _q("select_one organisation", "organisation_id", "Organisation", "Організація", required=True)
_GEO_SAFE = _q("select_one yes_no", "geo_safe", "Is it safe to record the GPS location here?",
               "Чи безпечно записати GPS-координати тут?", required=True, default="yes")
_SETTLEMENT = _q("select_one place", "settlement", "Nearest settlement", "Найближчий населений пункт",
                 required=True, relevant="${geo_safe} = 'no'",
                 hint_en="Its location is used instead of GPS", hint_uk="Його розташування замінить GPS")


def _location(name: str = "location") -> Question:
    return _q("geopoint", name, "GPS location", "GPS-координати", required=True, relevant="${geo_safe} = 'yes'",
              hint_en="Wait until the accuracy is below 10 m", hint_uk="Дочекайтеся точності менше 10 м")


FORMS: dict[str, FormSpec] = {
    f.form_id: f
    for f in [
        FormSpec("hazard_report", "Hazard report (non-technical survey)", "Звіт про небезпечну територію (НТО)",
                 "hazard", (
                     _ORGANISATION,
                     _q("date", "reported_on", "Date of the survey", "Дата обстеження", required=True, default="today()"),
                     _q("select_one hazard_type", "hazard_type", "Type of area", "Тип території", required=True),
                     _q("select_one hazard_status", "status", "Status", "Статус", required=True, default="active"),
                     _q("select_multiple contamination", "contamination", "Suspected contamination",
                        "Можливе забруднення", required=True),
                     _q("select_one evidence", "evidence", "Evidence", "Докази", required=True),
                     _q("text", "evidence_description", "What was seen or reported", "Що бачили або повідомили"),
                     _q("select_multiple land_use", "blocked_land_use", "Land use blocked", "Заблоковане використання землі"),
                     _q("geoshape", "area", "Outline of the hazardous area", "Контур небезпечної території",
                        required=True, hint_en="Walk or draw the perimeter; do not enter the area",
                        hint_uk="Обійдіть або накресліть периметр; не заходьте на територію"),
                     _q("text", "description", "Notes", "Примітки"),
                 )),
        FormSpec("eo_spot_report", "EO spot report", "Звіт про виявлений вибухонебезпечний предмет",
                 "eo_find", (
                     _ORGANISATION,
                     _q("date", "found_on", "Date found", "Дата виявлення", required=True, default="today()"),
                     _q("select_one eo_category", "category", "Category", "Категорія", required=True),
                     _q("text", "model", "Model, if identified", "Модель, якщо визначено"),
                     _q("select_one eo_condition", "condition", "Condition", "Стан", required=True),
                     _q("integer", "quantity", "Number of items", "Кількість предметів", required=True, default="1"),
                     _q("integer", "depth_cm", "Depth (cm)", "Глибина (см)"),
                     _q("text", "hazard_id", "Hazard reference (HAZ-…), if known", "Номер небезпечної території (HAZ-…)"),
                     _GEO_SAFE, _location(), _SETTLEMENT,
                     _q("image", "photo", "Photo (from a safe distance)", "Фото (з безпечної відстані)"),
                 )),
        FormSpec("activity_completion", "Activity completion report", "Звіт про завершення робіт",
                 "activity", (
                     _q("text", "id", "Activity reference (ACT-…)", "Номер робіт (ACT-…)", required=True),
                     _q("date", "ended_on", "Date completed", "Дата завершення", required=True, default="today()"),
                     _q("calculate", "status", "Status", "Статус", calculation="'completed'"),
                     _q("begin_repeat", "released", "Released land", "Звільнена земля"),
                     _q("geoshape", "released_area", "Outline of the released land", "Контур звільненої землі",
                        required=True),
                     _q("select_one release_type", "release_type", "Released by", "Спосіб звільнення", required=True),
                     _q("select_one method", "method", "Method", "Метод", required=True),
                     _q("date", "released_on", "Date released", "Дата звільнення", required=True,
                        default="${ended_on}"),
                     _q("end_repeat", "released", "", ""),
                 ), repeat="released", repeat_entity="released_part", action="update"),
        FormSpec("eore_session", "EORE session", "Заняття з ОНВП", "eore_session", (
            _ORGANISATION,
            _q("date", "held_on", "Date of the session", "Дата заняття", required=True, default="today()"),
            _q("select_one eore_method", "eore_method", "Method", "Метод", required=True),
            _q("integer", "girls", "Girls (under 18)", "Дівчата (до 18)", default="0"),
            _q("integer", "boys", "Boys (under 18)", "Хлопці (до 18)", default="0"),
            _q("integer", "women", "Women (18 and over)", "Жінки (18 і старше)", default="0"),
            _q("integer", "men", "Men (18 and over)", "Чоловіки (18 і старше)", default="0"),
            _GEO_SAFE, _location(), _SETTLEMENT,
        )),
        FormSpec("accident_report", "Accident report", "Звіт про нещасний випадок", "accident", (
            _ORGANISATION,
            _q("date", "occurred_on", "Date of the accident", "Дата нещасного випадку", required=True),
            _q("select_one accident_type", "accident_type", "Type of accident", "Тип нещасного випадку", required=True),
            _q("select_one eo_category", "device_category", "Device category, if known", "Категорія предмета"),
            _q("text", "hazard_id", "Hazard reference (HAZ-…), if known", "Номер небезпечної території (HAZ-…)"),
            _GEO_SAFE, _location(), _SETTLEMENT,
            _q("text", "description", "What happened", "Що сталося"),
            _q("image", "photo", "Photo of the site (from a safe distance)", "Фото місця (з безпечної відстані)"),
            _q("begin_repeat", "victims", "Victims", "Постраждалі"),
            _q("select_one sex", "sex", "Sex", "Стать", required=True),
            _q("integer", "age", "Age", "Вік"),
            _q("select_one victim_group", "victim_group", "Civilian or deminer", "Цивільна особа чи сапер",
               required=True),
            _q("select_one outcome", "outcome", "Killed or injured", "Загинув(ла) чи поранений(а)", required=True),
            _q("select_one victim_activity", "activity_at_time", "Activity at the time", "Діяльність у момент"),
            _q("text", "name", "Name (personal data: only with consent)", "Ім'я (персональні дані: лише за згодою)"),
            _q("end_repeat", "victims", "", ""),
        ), repeat="victims", repeat_entity="victim"),
    ]
}


def _lists(spec: FormSpec) -> list[str]:
    return [q.type.split()[1] for q in spec.questions if q.type.startswith(("select_one ", "select_multiple "))]


def choices(register: Register, list_name: str) -> list[tuple[str, str, str]]:
    """(name, English label, Ukrainian label) for one choice list."""
    if list_name == "yes_no":
        return [(code, en, uk) for code, (en, uk) in _YES_NO.items()]
    if list_name == "organisation":
        return [(o.ref, o["name"], o["name"]) for o in register.records("organisation")]
    if list_name == "place":
        return [(p.ref, p["name_en"], p["name_uk"] or p["name_en"]) for p in register.records("place")]
    english, ukrainian = register.labels(list_name, "en"), register.labels(list_name, "uk")
    if not english:
        raise InvalidValue(f"the register has no vocabulary {list_name!r}")
    return [(code, label, ukrainian.get(code, label)) for code, label in english.items()]


def _survey_rows(spec: FormSpec, empty_lists: set[str]) -> list[list[str]]:
    rows = []
    for q in spec.questions:
        kind, required, relevant = q.type, q.required, q.relevant
        listed = kind.split()[1] if kind.startswith(("select_one ", "select_multiple ")) else None
        if listed in empty_lists:  # nothing to choose from yet: the gazetteer or the operators are not loaded
            if q.name == "settlement":
                continue
            kind = "text"
        if q.name == "geo_safe" and "place" in empty_lists:
            continue
        if q.type == "geopoint" and "place" in empty_lists:
            relevant = ""
        rows.append([kind, q.name, q.en, q.uk, q.hint_en, q.hint_uk, "yes" if required else "", relevant,
                     q.default, q.calculation, q.appearance])
    return rows


def write_form(register: Register, form_id: str, path: str | Path) -> Path:
    """Write one XLSForm workbook (survey, choices, settings)."""
    try:
        spec = FORMS[form_id]
    except KeyError:
        raise InvalidValue(f"no form {form_id!r}", hint=f"forms are {', '.join(FORMS)}") from None
    lists = {name: choices(register, name) for name in dict.fromkeys(_lists(spec))}
    empty = {name for name, listed in lists.items() if not listed}
    book = Workbook()
    survey = cast(Worksheet, book.active)  # a new workbook's one sheet
    survey.title = "survey"
    survey.append(["type", "name", f"label::{_EN}", f"label::{_UK}", f"hint::{_EN}", f"hint::{_UK}", "required",
                   "relevant", "default", "calculation", "appearance"])
    for row in _survey_rows(spec, empty):
        survey.append(row)
    choice_sheet = book.create_sheet("choices")
    choice_sheet.append(["list_name", "name", f"label::{_EN}", f"label::{_UK}"])
    for name, rows in lists.items():
        for code, en, uk in rows:
            choice_sheet.append([name, code, neutralise(en), neutralise(uk)])  # names of places and organisations
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id", "version", "default_language"])
    settings.append([spec.title_en, spec.form_id, _version(register), _EN])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _version(register: Register) -> str:
    """Form version: changes whenever the register's choice lists could have (ODK needs it to grow)."""
    return f"{latest_changeset(register):010d}"


def write_forms(register: Register, folder: str | Path, forms: Sequence[str] | None = None) -> list[Path]:
    """Write the chosen forms (default all five) as ``<form_id>.xlsx`` into ``folder``."""
    folder = Path(folder)
    return [write_form(register, form_id, folder / f"{form_id}.xlsx") for form_id in (forms or FORMS)]

