"""Controlled vocabularies of operations, with English and Ukrainian labels.

Declared here, in the shape of ``data/vocabularies.yaml`` (code: [en, uk]), so
the next round can seed them into the register unchanged; until then the
domain functions check codes against them. Sources: IMAS 07.12, 07.40, 08.30,
13.10, GICHD MDR and the IMSMA NG code lists as summarised in the
operations primer; where a list is the project's own choice the design note
(docs/operations.md) says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mineaction.errors import InvalidValue

__all__ = ["VOCABULARIES", "check_code"]

_V: dict[str, dict[str, tuple[str, str]]] = {
    "task_activity": {
        "nts": ("Non-technical survey", "Нетехнічне обстеження"),
        "ts": ("Technical survey", "Технічне обстеження"),
        "clearance": ("Clearance", "Очищення"),
        "eod_spot": ("EOD spot task", "Точкове завдання зі знешкодження ВНП"),
        "qa_qc": ("Quality assurance / quality control", "Забезпечення / контроль якості"),
        "eore": ("Explosive ordnance risk education", "Навчання ризикам, пов'язаним з ВНП"),
        "marking": ("Marking", "Маркування"),
    },
    "task_state": {
        "draft": ("Draft", "Чернетка"),
        "issued": ("Issued", "Видано"),
        "accepted": ("Accepted", "Прийнято"),
        "in_progress": ("In progress", "Виконується"),
        "suspended": ("Suspended", "Призупинено"),
        "completed": ("Completed", "Завершено"),
        "verified": ("Verified (QC passed)", "Перевірено (контроль якості пройдено)"),
        "closed": ("Closed", "Закрито"),
        "cancelled": ("Cancelled", "Скасовано"),
    },
    "party": {
        "authority": ("National mine action authority", "Національний орган з питань протимінної діяльності"),
        "operator": ("Operator", "Оператор"),
    },
    "stoppage_reason": {
        "breakdown": ("Equipment breakdown", "Поломка техніки"),
        "weather": ("Weather", "Погодні умови"),
        "illness": ("Illness", "Хвороба"),
        "planning": ("Poor planning or logistics", "Недоліки планування чи логістики"),
        "security": ("Security", "Безпекова ситуація"),
        "qm_suspension": ("Suspended after a non-conformity", "Призупинено через невідповідність"),
        "other": ("Other", "Інше"),
    },
    "receiving_party": {
        "community": ("Community", "Громада"),
        "local_authority": ("Local authority", "Орган місцевого самоврядування"),
        "land_user": ("Land user or owner", "Землекористувач або власник"),
        "national_authority": ("National mine action authority", "Національний орган з питань протимінної діяльності"),
    },
    "land_use_after": {
        "agriculture": ("Agriculture", "Сільське господарство"),
        "grazing": ("Grazing", "Випасання худоби"),
        "housing": ("Housing", "Житло"),
        "water": ("Water access", "Доступ до води"),
        "roads": ("Roads", "Дороги"),
        "schools": ("Schools", "Школи"),
        "health": ("Health facilities", "Заклади охорони здоров'я"),
        "infrastructure": ("Infrastructure", "Інфраструктура"),
        "forest": ("Forest", "Ліс"),
        "commerce": ("Commerce", "Торгівля"),
        "not_yet_used": ("Not yet used", "Ще не використовується"),
        "other": ("Other", "Інше"),
    },
    "age_band": {
        "child": ("Under 18", "До 18 років"),
        "adult": ("18 and over", "18 років і старше"),
        "unknown": ("Age unknown", "Вік невідомий"),
    },
    "beneficiary_sex": {
        "female": ("Female", "Жіноча"),
        "male": ("Male", "Чоловіча"),
        "unknown": ("Unknown", "Невідомо"),
    },
    "nc_category": {
        "procedure": ("Procedure not followed (SOP)", "Порушення процедури (СОП)"),
        "safety": ("Safety", "Безпека"),
        "medical": ("Medical support", "Медичне забезпечення"),
        "equipment": ("Equipment", "Обладнання"),
        "marking": ("Marking", "Маркування"),
        "documentation": ("Documentation and reporting", "Документація та звітність"),
        "qualification": ("Training and qualification", "Підготовка та кваліфікація"),
        "product": ("Released land not to standard", "Звільнена земля не відповідає стандарту"),
        "other": ("Other", "Інше"),
    },
    "nc_severity": {
        "minor": ("Minor", "Незначна"),
        "major": ("Major", "Значна"),
        "critical": ("Critical", "Критична"),
    },
    "nc_state": {
        "open": ("Open", "Відкрита"),
        "action_taken": ("Corrective action taken", "Коригувальну дію вжито"),
        "closed": ("Closed (verified)", "Закрита (перевірено)"),
    },
    "residual_review_state": {
        "flagged": ("Flagged", "Позначено"),
        "investigating": ("Under investigation", "Розслідується"),
        "reopened": ("Reopened as a new hazard", "Відкрито як нову небезпечну територію"),
        "dismissed": ("Dismissed: not in released land", "Відхилено: не на звільненій землі"),
        "closed": ("Closed", "Закрито"),
    },
    "residual_cause": {
        "missed": ("Missed during clearance or survey", "Пропущено під час очищення чи обстеження"),
        "below_depth": ("Below the clearance depth", "Нижче глибини очищення"),
        "boundary_error": ("Boundary mapped wrongly", "Неправильно нанесена межа"),
        "moved": ("Moved in by flood, soil or people", "Переміщено водою, ґрунтом чи людьми"),
        "new_contamination": ("Contamination after release", "Забруднення після звільнення"),
        "unknown": ("Unknown", "Невідомо"),
    },
    "va_need": {
        "medical": ("Medical care", "Медична допомога"),
        "rehabilitation": ("Rehabilitation", "Реабілітація"),
        "psychosocial": ("Psychological and psychosocial support", "Психологічна та психосоціальна підтримка"),
        "socio_economic": ("Socio-economic inclusion", "Соціально-економічна інтеграція"),
        "education": ("Education", "Освіта"),
    },
    "va_need_state": {
        "identified": ("Identified", "Виявлено"),
        "referred": ("Referred", "Направлено"),
        "met": ("Met", "Задоволено"),
        "partly_met": ("Partly met", "Частково задоволено"),
        "unmet": ("Unmet", "Не задоволено"),
        "declined": ("Declined by the person", "Відмова особи"),
        "lost": ("Lost to follow-up", "Зв'язок втрачено"),
    },
    "va_service": {
        "health": ("Health service", "Заклад охорони здоров'я"),
        "rehabilitation_centre": ("Rehabilitation centre", "Реабілітаційний центр"),
        "psychosocial_service": ("Psychosocial service", "Психосоціальна служба"),
        "social_protection": ("Social protection", "Соціальний захист"),
        "employment": ("Employment and livelihoods", "Зайнятість і засоби до існування"),
        "education_service": ("Education provider", "Заклад освіти"),
        "legal": ("Legal aid", "Правова допомога"),
        "other": ("Other", "Інше"),
    },
    "va_outcome": {
        "met": ("Need met", "Потребу задоволено"),
        "partly_met": ("Need partly met", "Потребу частково задоволено"),
        "ongoing": ("Service ongoing", "Послуга триває"),
        "not_received": ("Service not received", "Послугу не отримано"),
        "declined": ("Declined by the person", "Відмова особи"),
        "lost": ("Lost to follow-up", "Зв'язок втрачено"),
        "deceased": ("Person deceased", "Особа померла"),
    },
}

VOCABULARIES: Mapping[str, Mapping[str, tuple[str, str]]] = MappingProxyType(
    {name: MappingProxyType(terms) for name, terms in _V.items()}
)


def check_code(
    vocabulary: str, code: object, *, where: str = "", vocabularies: Mapping[str, Mapping[str, tuple[str, str]]] | None = None
) -> str:
    """Return ``code`` if it is a term of ``vocabulary``, else a clear :class:`InvalidValue`.

    ``vocabularies`` lets another domain package (public reports) check its own lists the same way.

    >>> check_code("nc_severity", "major")
    'major'
    >>> check_code("nc_severity", "grave", where="non-conformity 3")
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: non-conformity 3: 'grave' is not a nc_severity code (critical, major, minor)
    """
    terms = (VOCABULARIES if vocabularies is None else vocabularies)[vocabulary]
    if not isinstance(code, str) or code not in terms:
        prefix = f"{where}: " if where else ""
        raise InvalidValue(f"{prefix}{code!r} is not a {vocabulary} code ({', '.join(sorted(terms))})")
    return code
