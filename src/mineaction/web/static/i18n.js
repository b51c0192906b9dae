// Interface texts in English and Ukrainian; vocabulary labels come from the server (/api/v1/vocabularies).
"use strict";
const TEXTS = {
  en: {
    map: "Map", review: "Review queue", dashboard: "Dashboard", reports: "Reports", logout: "Sign out",
    sign_in: "Sign in", username: "Username", password: "Password", search: "Search",
    search_placeholder: "HAZ-000123 or place name", layers: "Layers", legend: "Legend", status: "Status",
    submitted: "submitted", conflict: "conflict", approved: "approved", rejected: "rejected",
    entity: "Record", submitted_by: "Submitted by", values: "Values", note: "Note",
    approve: "Approve", reject: "Reject", reason_prompt: "Reason (kept in the history):",
    release_over_time: "Land released per month (m²)", eo_by_condition: "Explosive ordnance found, by condition",
    casualties: "Casualties (aggregated)", hazards_by_status: "Hazardous areas by status (m²)",
    hazard: "Hazardous areas", released_part: "Released land", eo_find: "EO finds", admin_area: "Admin areas",
    place: "Places", graticule: "Graticule", basemap: "Basemap", history: "History", version: "version",
    by: "by", not_found: "Nothing found", login_failed: "Sign-in failed", no_reports: "No reports",
    report_land_release: "Land released by type and method (CSV)", report_hazards: "Hazardous areas by type and status (CSV)",
    report_eo_finds: "EO finds by category and condition (CSV)", report_casualties: "Casualties by group, outcome, sex and age (CSV)",
    report_eore: "Risk education sessions by method (CSV)", fictional: "FICTIONAL DATA",
    hazard_type: "type", method: "method", condition: "condition", no_maplibre: "The map library is not installed: run scripts/setup (npm).",
    new_hazard: "New hazardous area", edit: "Edit", save: "Save", cancel: "Cancel", geometry: "Geometry",
    reason: "Reason for the change", use_coordinates: "Use these coordinates", vertices: "vertices", no_geometry: "No geometry yet",
    coordinates_placeholder: "lon lat (WGS 84) or MGRS, one corner a line", coordinates_odd: "An odd count of numbers: give lon lat pairs",
    coordinates_range: "Not a longitude/latitude", coordinates_few: "A polygon needs at least three corners",
    coordinates_mgrs_bad: "Not an MGRS reference", coordinates_mgrs_missing: "The MGRS library is not installed: run scripts/setup (npm)",
    geometry_invalid: "The geometry is not valid", required: "Required", draw_first: "Draw the area on the map or paste its coordinates",
    fix_fields: "Please correct the marked fields", saving: "Saving…", saved: "Saved", geometry_changed: "the geometry",
    stale: "Someone saved a newer", stale_redo: "Your values are kept: check them and save again to apply them on top.",
    draw_hint: "Click the corners on the map; click the first corner again to close the area.",
    edit_hint: "Drag a corner to move it, drag a midpoint to add one; change fields, give a reason and save.",
    field_hazard_type: "Hazard type", field_status: "Status", field_contamination: "Contamination", field_evidence: "Evidence",
    field_evidence_description: "Evidence description", field_blocked_land_use: "Blocked land use", field_reported_on: "Reported on",
    field_confirmed_on: "Confirmed on", field_closed_on: "Closed on", field_reference_lon: "Reference point longitude",
    field_reference_lat: "Reference point latitude", field_description: "Description", field_residual_profile: "Residual-hazard profile",
    field_emplaced_on: "Mines laid on (estimate)", field_estimated_items: "Expected number of items",
    field_count_dispersion: "Count dispersion (k)", field_organisation_id: "Organisation",
  },
  uk: {
    map: "Мапа", review: "Черга перевірки", dashboard: "Панель", reports: "Звіти", logout: "Вийти",
    sign_in: "Увійти", username: "Ім'я користувача", password: "Пароль", search: "Пошук",
    search_placeholder: "HAZ-000123 або назва місця", layers: "Шари", legend: "Легенда", status: "Статус",
    submitted: "подано", conflict: "конфлікт", approved: "схвалено", rejected: "відхилено",
    entity: "Запис", submitted_by: "Подав(ла)", values: "Значення", note: "Примітка",
    approve: "Схвалити", reject: "Відхилити", reason_prompt: "Причина (зберігається в історії):",
    release_over_time: "Звільнені землі за місяцями (м²)", eo_by_condition: "Виявлені вибухонебезпечні предмети за станом",
    casualties: "Постраждалі (узагальнено)", hazards_by_status: "Небезпечні ділянки за статусом (м²)",
    hazard: "Небезпечні ділянки", released_part: "Звільнені землі", eo_find: "Знахідки ВНП", admin_area: "Адмінодиниці",
    place: "Населені пункти", graticule: "Координатна сітка", basemap: "Підкладка", history: "Історія", version: "версія",
    by: "автор", not_found: "Нічого не знайдено", login_failed: "Не вдалося увійти", no_reports: "Немає звітів",
    report_land_release: "Звільнені землі за типом і методом (CSV)", report_hazards: "Небезпечні ділянки за типом і статусом (CSV)",
    report_eo_finds: "Знахідки ВНП за категорією і станом (CSV)", report_casualties: "Постраждалі за групою, наслідком, статтю і віком (CSV)",
    report_eore: "Заняття з ризиків ВНП за методом (CSV)", fictional: "ВИГАДАНІ ДАНІ",
    hazard_type: "тип", method: "метод", condition: "стан", no_maplibre: "Бібліотеку мапи не встановлено: запустіть scripts/setup (npm).",
    new_hazard: "Нова небезпечна ділянка", edit: "Редагувати", save: "Зберегти", cancel: "Скасувати", geometry: "Геометрія",
    reason: "Причина зміни", use_coordinates: "Застосувати ці координати", vertices: "вершин", no_geometry: "Геометрії ще немає",
    coordinates_placeholder: "довгота широта (WGS 84) або MGRS, одна вершина в рядку", coordinates_odd: "Непарна кількість чисел: вкажіть пари довгота широта",
    coordinates_range: "Це не довгота/широта", coordinates_few: "Полігон потребує щонайменше трьох вершин",
    coordinates_mgrs_bad: "Це не посилання MGRS", coordinates_mgrs_missing: "Бібліотеку MGRS не встановлено: запустіть scripts/setup (npm)",
    geometry_invalid: "Геометрія недійсна", required: "Обов'язкове поле", draw_first: "Накресліть ділянку на мапі або вставте її координати",
    fix_fields: "Виправте позначені поля", saving: "Збереження…", saved: "Збережено", geometry_changed: "геометрія",
    stale: "Хтось зберіг новішу", stale_redo: "Ваші значення збережено у формі: перевірте їх і збережіть знову поверх нової версії.",
    draw_hint: "Клацайте вершини на мапі; клацніть першу вершину ще раз, щоб замкнути ділянку.",
    edit_hint: "Перетягніть вершину, щоб її зсунути, або середню точку, щоб додати нову; змініть поля, вкажіть причину і збережіть.",
    field_hazard_type: "Тип небезпечної ділянки", field_status: "Статус", field_contamination: "Забруднення", field_evidence: "Докази",
    field_evidence_description: "Опис доказів", field_blocked_land_use: "Заблоковане землекористування", field_reported_on: "Дата повідомлення",
    field_confirmed_on: "Дата підтвердження", field_closed_on: "Дата закриття", field_reference_lon: "Довгота опорної точки",
    field_reference_lat: "Широта опорної точки", field_description: "Опис", field_residual_profile: "Профіль залишкової небезпеки",
    field_emplaced_on: "Дата встановлення мін (оцінка)", field_estimated_items: "Очікувана кількість предметів",
    field_count_dispersion: "Дисперсія кількості (k)", field_organisation_id: "Організація",
  },
};

let LANG = localStorage.getItem("mineaction.lang") || (navigator.language || "en").slice(0, 2);
if (!TEXTS[LANG]) LANG = "en";

//: keys asked for in a language that lacks them (the browser tests fail on any)
const UNTRANSLATED = new Set();

function t(key) {
  if (!(TEXTS[LANG] && TEXTS[LANG][key])) UNTRANSLATED.add(`${LANG}:${key}`);
  return (TEXTS[LANG] && TEXTS[LANG][key]) || TEXTS.en[key] || key;
}

function applyTexts(root = document) {
  document.documentElement.lang = LANG;
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
}
