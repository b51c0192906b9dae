// mineaction browser interface: sign-in, map (MapLibre GL JS from npm, served locally), review queue,
// dashboard and reports. No CDN and no web fonts, so it works offline; labels are HTML markers,
// so the map needs no glyph server either.
"use strict";

const state = { me: null, csrf: null, config: null, map: null, markers: [], labels: {} };

const COLOURS = {
  hazard_type: { CHA: "#c0392b", SHA: "#e67e22" },
  hazard_status: { active: "#000000", worked_on: "#1f5fbf", closed: "#7f8c8d", handed_over: "#7f8c8d" },
  method: { manual: "#27ae60", mechanical: "#2980b9", mdd: "#8e44ad", nts: "#95a5a6" },
  eo_condition: { functional: "#c0392b", self_destructed: "#f39c12", self_deactivated: "#16a085", unknown: "#7f8c8d", other: "#34495e" },
};

// -- HTTP -------------------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  if (options.body && !(options.body instanceof FormData)) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (!response.ok) {
    let detail = response.statusText;
    try { const problem = await response.json(); detail = problem.detail + (problem.hint ? ` (${problem.hint})` : ""); } catch (e) { /* not JSON */ }
    const error = new Error(detail); error.status = response.status; throw error;
  }
  return response.status === 204 ? null : response.json();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "style") node.style.cssText = value;  // through the CSSOM: the CSP refuses style attributes
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

// -- pages ------------------------------------------------------------------------------------------

function show(page) {
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== `page-${page}`; });
  document.querySelectorAll("#nav button").forEach((b) => b.classList.toggle("active", b.dataset.page === page));
  if (page === "map") startMap();
  if (page === "review") loadReview();
  if (page === "dashboard") loadDashboard();
  if (page === "reports") loadReports();
  if (state.map) state.map.resize();
}

async function signedIn(me) {
  state.me = me; state.csrf = me.csrf_token;
  document.getElementById("who").textContent = me.username;
  await loadLabels();
  show("map");
  document.getElementById("nav").hidden = false;  // only now: a click before this would be undone by show("map")
  document.getElementById("logout").hidden = false;
}

async function loadLabels() {
  const names = ["hazard_type", "hazard_status", "method", "eo_condition", "release_type"];
  const lists = await Promise.all(names.map((n) => api(`/api/v1/vocabularies/${n}?lang=${LANG}`).catch(() => [])));
  names.forEach((n, i) => { state.labels[n] = Object.fromEntries(lists[i].map((term) => [term.code, term.label])); });
}

function label(vocabulary, code) { return (state.labels[vocabulary] || {})[code] || code; }

// -- map --------------------------------------------------------------------------------------------

function graticule(extent) {
  const [w, s, e, n] = extent;
  const span = Math.max(e - w, n - s);
  const step = span > 20 ? 5 : span > 5 ? 1 : span > 1 ? 0.25 : 0.05;
  const features = [];
  const x0 = Math.floor(w / step) * step, y0 = Math.floor(s / step) * step;
  for (let x = x0; x <= e + step; x += step) features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: [[x, s - step], [x, n + step]] } });
  for (let y = y0; y <= n + step; y += step) features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: [[w - step, y], [e + step, y]] } });
  return { type: "FeatureCollection", features };
}

function matchColour(property, colours, fallback) {
  return ["match", ["get", property], ...Object.entries(colours).flat(), fallback];
}

function mapStyle() {
  const origin = window.location.origin;
  const tiles = (layer) => [`${origin}/ogc/collections/${layer}/tiles/WebMercatorQuad/{z}/{y}/{x}`];
  const extent = state.config.extent || [-180, -85, 180, 85];
  const sources = {
    graticule: { type: "geojson", data: graticule(extent) },
    admin_area: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
    hazard: { type: "vector", tiles: tiles("hazard"), minzoom: 0, maxzoom: 16 },
    released_part: { type: "vector", tiles: tiles("released_part"), minzoom: 0, maxzoom: 16 },
    eo_find: { type: "vector", tiles: tiles("eo_find"), minzoom: 0, maxzoom: 16 },
  };
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef2ee" } }];
  if (state.config.basemap_url) {
    sources.basemap = { type: "raster", tiles: [state.config.basemap_url], tileSize: 256 };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  } else if (state.config.basemap_pmtiles && window.pmtiles) {
    sources.basemap = { type: "raster", url: `pmtiles://${origin}${state.config.basemap_pmtiles}`, tileSize: 256 };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  layers.push(
    { id: "graticule", type: "line", source: "graticule", paint: { "line-color": "#9aa", "line-width": 0.5, "line-dasharray": [2, 2] } },
    { id: "admin_area", type: "line", source: "admin_area", paint: { "line-color": "#556", "line-width": ["match", ["get", "level"], 1, 2, 2, 1.2, 0.6] } },
    { id: "hazard-fill", type: "fill", source: "hazard", "source-layer": "hazard",
      paint: { "fill-color": ["match", ["get", "status"], ["closed", "handed_over"], COLOURS.hazard_status.closed, matchColour("hazard_type", COLOURS.hazard_type, "#e67e22")], "fill-opacity": 0.55 } },
    { id: "hazard-line", type: "line", source: "hazard", "source-layer": "hazard",
      paint: { "line-color": matchColour("status", COLOURS.hazard_status, "#000"), "line-width": 1.2 } },
    { id: "released_part", type: "fill", source: "released_part", "source-layer": "released_part",
      paint: { "fill-color": matchColour("method", COLOURS.method, "#27ae60"), "fill-opacity": 0.7, "fill-outline-color": "#114" } },
    { id: "eo_find", type: "circle", source: "eo_find", "source-layer": "eo_find",
      paint: { "circle-color": matchColour("condition", COLOURS.eo_condition, "#7f8c8d"), "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, 2, 15, 6], "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
  );
  return { version: 8, sources, layers };
}

const LAYER_GROUPS = {
  hazard: ["hazard-fill", "hazard-line"], released_part: ["released_part"], eo_find: ["eo_find"],
  admin_area: ["admin_area"], place: [], graticule: ["graticule"],
};

function startMap() {
  if (state.map) return;
  if (!window.maplibregl) { document.getElementById("map").textContent = t("no_maplibre"); return; }
  if (state.config.basemap_pmtiles && window.pmtiles) {
    maplibregl.addProtocol("pmtiles", new pmtiles.Protocol().tile);
  }
  const map = new maplibregl.Map({ container: "map", style: mapStyle(), attributionControl: false, fadeDuration: 0,
                                   preserveDrawingBuffer: true });
  state.map = map; window.mineactionMap = map;
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl(), "bottom-left");
  if (state.config.extent) map.fitBounds([[state.config.extent[0], state.config.extent[1]], [state.config.extent[2], state.config.extent[3]]], { animate: false, padding: 20 });
  map.on("load", async () => {
    const areas = await api("/ogc/collections/admin_area/items?limit=1000");
    map.getSource("admin_area").setData(areas);
    const places = await api("/ogc/collections/place/items?limit=1000");
    state.markers = places.features.map((f) => {
      const marker = new maplibregl.Marker({ element: el("div", { class: "place-label" }) }).setLngLat(f.geometry.coordinates).addTo(map);
      marker.place = f.properties;
      return marker;
    });
    nameMarkers();
  });
  map.on("click", (event) => {
    if (drawing()) return;  // a click while drawing or editing a geometry belongs to terra-draw
    const hits = map.queryRenderedFeatures(event.point, { layers: ["eo_find", "released_part", "hazard-fill"] });
    if (hits.length) showDetails(hits[0].sourceLayer, hits[0].properties.ref);
  });
  for (const layer of ["eo_find", "released_part", "hazard-fill"]) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
  buildLayerSwitcher(); buildLegend();
  map.once("load", () => startEditing(map));
}

function nameMarkers() {
  state.markers.forEach((m) => { m.getElement().textContent = (LANG === "uk" && m.place.name_uk) || m.place.name_en; });
}

function buildLayerSwitcher() {
  const box = document.getElementById("layers"); box.replaceChildren();
  for (const [group, ids] of Object.entries(LAYER_GROUPS)) {
    const input = el("input", { type: "checkbox", checked: "", "data-layer": group, onchange: (e) => {
      const visibility = e.target.checked ? "visible" : "none";
      ids.forEach((id) => state.map.setLayoutProperty(id, "visibility", visibility));
      if (group === "place") state.markers.forEach((m) => { m.getElement().style.display = e.target.checked ? "" : "none"; });
    } });
    box.append(el("label", { class: "legend-row" }, input, t(group)));
  }
}

function buildLegend() {
  const box = document.getElementById("legend"); box.replaceChildren();
  const section = (title, vocabulary, colours, round = false) => {
    box.append(el("strong", {}, title));
    for (const [code, colour] of Object.entries(colours)) {
      const swatch = el("span", { class: round ? "swatch round" : "swatch", style: `background:${colour}` });
      box.append(el("div", { class: "legend-row" }, swatch, label(vocabulary, code)));
    }
  };
  section(`${t("hazard")}: ${t("hazard_type")}`, "hazard_type", COLOURS.hazard_type);
  section(`${t("hazard")}: ${t("status")}`, "hazard_status", COLOURS.hazard_status);
  section(`${t("released_part")}: ${t("method")}`, "method", COLOURS.method);
  section(`${t("eo_find")}: ${t("condition")}`, "eo_condition", COLOURS.eo_condition, true);
}

async function showDetails(entity, ref) {
  const box = document.getElementById("details");
  const versions = await api(`/api/v1/${entity}/${encodeURIComponent(ref)}/history`);
  const latest = versions[versions.length - 1];
  const rows = Object.entries(latest).filter(([k]) => !["geometry", "withheld", "deleted"].includes(k))
    .map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, Array.isArray(v) ? v.join(", ") : v ?? "")));
  const history = versions.map((v) => el("li", {}, `${t("version")} ${v.version}: ${v.recorded_at.slice(0, 19).replace("T", " ")} ${t("by")} ${v.recorded_by}`));
  box.replaceChildren(el("h2", {}, `${t(entity)} ${latest.ref}`), editButton(entity, latest), el("table", { id: "details-table" }, ...rows),
                      el("h3", {}, t("history")), el("ol", { id: "details-history" }, ...history));
}

function flyTo(geometry) {
  const coords = [];
  const walk = (c) => (typeof c[0] === "number" ? coords.push(c) : c.forEach(walk));
  walk(geometry.coordinates);
  const xs = coords.map((c) => c[0]), ys = coords.map((c) => c[1]);
  state.map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], { maxZoom: 15, padding: 60, animate: false });
}

const PREFIXES = { HAZ: "hazard", REL: "released_part", EOF: "eo_find", ACC: "accident", PLC: "place", EDU: "eore_session" };

async function search(text) {
  const result = document.getElementById("search-result");
  const query = text.trim();
  if (!query) return;
  try {
    const entity = PREFIXES[query.toUpperCase().split("-")[0]];
    if (entity) {
      const record = await api(`/api/v1/${entity}/${encodeURIComponent(query.toUpperCase())}`);
      flyTo(record.geometry); result.textContent = record.ref;
      if (["hazard", "released_part", "eo_find"].includes(entity)) showDetails(entity, record.ref);
      return;
    }
    const pattern = `%${query.replace(/'/g, "''")}%`;
    const filter = `name_en LIKE '${pattern}' OR name_uk LIKE '${pattern}'`;
    const places = await api(`/ogc/collections/place/items?limit=1&filter=${encodeURIComponent(filter)}`);
    if (!places.features.length) throw new Error(t("not_found"));
    flyTo(places.features[0].geometry); result.textContent = places.features[0].properties.name_en;
  } catch (error) { result.textContent = error.status === 404 ? t("not_found") : error.message; }
}

// -- review queue -----------------------------------------------------------------------------------

async function loadReview() {
  const status = document.getElementById("review-status").value;
  const body = document.querySelector("#review-table tbody");
  const reports = await api(`/api/v1/review/reports?status=${status}`);
  body.replaceChildren(...reports.map((r) => {
    const values = Object.entries(r.values).filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}`).join("; ");
    const actions = el("td", {});
    if (status === "submitted") {
      actions.append(el("button", { "data-action": "approve", "data-ref": r.ref, onclick: () => decide(r.ref, "approve") }, t("approve")),
                     el("button", { "data-action": "reject", "data-ref": r.ref, onclick: () => decide(r.ref, "reject") }, t("reject")));
    }
    return el("tr", { "data-ref": r.ref }, el("td", {}, r.ref), el("td", {}, `${r.entity} (${r.action})`),
              el("td", {}, r.submitted_by), el("td", {}, values), el("td", {}, r.review_note || ""), actions);
  }));
  if (!reports.length) body.append(el("tr", {}, el("td", { colspan: "6" }, t("no_reports"))));
}

async function decide(ref, action) {
  const message = document.getElementById("review-message");
  const reason = window.prompt(t("reason_prompt"), action === "approve" ? "checked in review" : "");
  if (!reason) return;
  try {
    const outcome = await api(`/api/v1/review/reports/${ref}/${action}`, { method: "POST", body: JSON.stringify({ reason }) });
    const conflicts = outcome.conflicts.map(([r, why]) => `${r}: ${why}`).join("; ");
    message.textContent = `${t(action === "approve" ? "approved" : "rejected")}: ${[...outcome.approved, ...outcome.rejected].join(", ")}${conflicts ? ` — ${t("conflict")}: ${conflicts}` : ""}`;
  } catch (error) { message.textContent = error.message; }
  loadReview();
}

// -- dashboard and reports --------------------------------------------------------------------------

function bars(rows, key, value) {
  const max = Math.max(1, ...rows.map((r) => Number(r[value]) || 0));
  const height = 22 * rows.length + 4;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 400 ${height}`); svg.setAttribute("width", "100%");
  rows.forEach((r, i) => {
    const y = 2 + i * 22, width = 190 * (Number(r[value]) || 0) / max;
    svg.insertAdjacentHTML("beforeend", `<text x="0" y="${y + 14}" font-size="11"></text><rect class="bar" x="140" y="${y}" width="${width}" height="16"></rect><text x="${144 + width}" y="${y + 13}" font-size="11"></text>`);
    const texts = svg.querySelectorAll("text");
    texts[texts.length - 2].textContent = r[key];
    texts[texts.length - 1].textContent = (r[value] === null && r.shown) || Math.round(Number(r[value]) || 0).toLocaleString(LANG);  // a suppressed count: "<5"
  });
  return svg;
}

async function loadDashboard() {
  const data = await api("/api/v1/dashboard");
  const months = {};
  data.land_release_by_month.forEach((r) => { months[r.month] = (months[r.month] || 0) + r.area_m2; });
  document.getElementById("chart-release").replaceChildren(bars(Object.entries(months).map(([month, area]) => ({ month, area })), "month", "area"));
  document.getElementById("chart-eo").replaceChildren(bars(data.eo_by_condition.map((r) => ({ ...r, condition: label("eo_condition", r.condition) })), "condition", "quantity"));
  document.getElementById("chart-casualties").replaceChildren(bars(data.casualties.map((r) => ({ ...r, group: `${r.victim_group} / ${r.outcome}` })), "group", "count"));
  document.getElementById("chart-hazards").replaceChildren(bars(data.hazards_by_status.map((r) => ({ ...r, status: label("hazard_status", r.status) })), "status", "area_m2"));
}

function loadReports() {
  const list = document.getElementById("report-links");
  list.replaceChildren(...["land-release", "hazards", "eo-finds", "casualties", "eore"].map((name) =>
    el("li", {}, el("a", { href: `/api/v1/reports/${name}.csv`, download: `${name}.csv` }, t(`report_${name.replace("-", "_")}`)))));
}

// -- start ------------------------------------------------------------------------------------------

async function main() {
  document.getElementById("lang").value = LANG;
  applyTexts();
  state.config = await api("/ui/config.json");
  const title = document.getElementById("programme");
  title.textContent = state.config.programme;
  if (state.config.fictional) title.append(" ", el("span", { class: "fictional" }, t("fictional")));
  document.getElementById("lang").addEventListener("change", async (e) => {
    LANG = e.target.value; localStorage.setItem("mineaction.lang", LANG); applyTexts();
    if (state.me) { await loadLabels(); if (state.map) { buildLayerSwitcher(); buildLegend(); nameMarkers(); relabelForm(); } }
  });
  document.querySelectorAll("#nav button").forEach((b) => b.addEventListener("click", () => show(b.dataset.page)));
  document.getElementById("review-status").addEventListener("change", loadReview);
  document.getElementById("search").addEventListener("submit", (e) => { e.preventDefault(); search(document.getElementById("search-text").value); });
  document.getElementById("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    try {
      await signedIn(await api("/auth/login", { method: "POST", body: JSON.stringify({ username: form.get("username"), password: form.get("password") }) }));
    } catch (error) { document.getElementById("login-error").textContent = `${t("login_failed")}: ${error.message}`; }
  });
  document.getElementById("logout").addEventListener("click", async () => { await api("/auth/logout", { method: "POST" }); window.location.reload(); });
  try { await signedIn(await api("/auth/me")); } catch (error) { show("login"); }
}

document.addEventListener("DOMContentLoaded", main);
