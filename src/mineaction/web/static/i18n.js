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
  },
};

let LANG = localStorage.getItem("mineaction.lang") || (navigator.language || "en").slice(0, 2);
if (!TEXTS[LANG]) LANG = "en";

function t(key) { return (TEXTS[LANG] && TEXTS[LANG][key]) || TEXTS.en[key] || key; }

function applyTexts(root = document) {
  document.documentElement.lang = LANG;
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
}
