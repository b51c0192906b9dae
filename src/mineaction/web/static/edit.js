// Data entry on the map page: a record form generated from the server's form description
// (GET /api/v1/entities/{name}/form), geometry drawn and edited with terra-draw (npm, served locally),
// or pasted as lon/lat pairs. Every save sends a reason; an edit sends the version it is based on
// (If-Match), and a stale one shows what changed meanwhile and lets the user save again on top.
"use strict";

const edit = { form: null, draw: null, featureId: null, record: null, etag: null, geometryChanged: false };
const EDITED = "hazard";  // the entity the map page enters; the form itself is generic

function fieldLabel(name) { return TEXTS.en[`field_${name}`] ? t(`field_${name}`) : name.replace(/_/g, " "); }
function choiceLabel(choice) { return choice[LANG] || choice.en; }

// -- drawing ----------------------------------------------------------------------------------------

function startDrawing(map) {
  if (!window.terraDraw || !window.terraDrawMaplibreGlAdapter) return;
  const { TerraDraw, TerraDrawPolygonMode, TerraDrawSelectMode, TerraDrawRenderMode } = window.terraDraw;
  const polygonFlags = { feature: { draggable: true, coordinates: { midpoints: true, draggable: true, deletable: true } } };
  edit.draw = new TerraDraw({
    adapter: new terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map }),
    modes: [new TerraDrawPolygonMode(), new TerraDrawSelectMode({ flags: { polygon: polygonFlags } }),
            new TerraDrawRenderMode({ modeName: "static", styles: {} })],
  });
  edit.draw.start();
  edit.draw.setMode("static");
  window.mineactionDraw = edit.draw;
  edit.draw.on("finish", (id, context) => {
    if (context && context.action === "draw") {  // one polygon per record: the new one replaces any other
      for (const f of edit.draw.getSnapshot()) if (f.id !== id) edit.draw.removeFeatures([f.id]);
      edit.featureId = id; edit.geometryChanged = true;
      edit.draw.setMode("select"); edit.draw.selectFeature(id);
      showGeometry();
    }
  });
  edit.draw.on("change", (ids, type) => {
    if (type === "update" && ids.includes(edit.featureId)) { edit.geometryChanged = true; showGeometry(); }
  });
}

function drawing() { return edit.draw && edit.draw.getMode() !== "static"; }

function currentGeometry() {
  const feature = edit.featureId !== null && edit.draw.getSnapshotFeature(edit.featureId);
  return feature ? feature.geometry : null;
}

function putGeometry(geometry) {
  edit.draw.clear();
  const rounded = { type: "Polygon", coordinates: geometry.coordinates.map((ring) => ring.map(([x, y]) => [+x.toFixed(7), +y.toFixed(7)])) };
  const [result] = edit.draw.addFeatures([{ type: "Feature", geometry: rounded, properties: { mode: "polygon" } }]);
  if (!result.valid) throw new Error(`${t("geometry_invalid")}: ${result.reason || ""}`);
  edit.featureId = result.id;
  edit.draw.setMode("select"); edit.draw.selectFeature(result.id);
  showGeometry();
}

function showGeometry() {
  const geometry = currentGeometry();
  const text = geometry ? geometry.coordinates[0].map(([x, y]) => `${x.toFixed(6)} ${y.toFixed(6)}`).join("\n") : "";
  document.getElementById("coordinates").value = text;
  document.getElementById("vertices").textContent = geometry ? `${geometry.coordinates[0].length - 1} ${t("vertices")}` : t("no_geometry");
}

const MGRS = /^\d{1,2}[C-HJ-NP-X]\s*[A-HJ-NP-Z]{2}(\s*\d+){1,2}$/i;

/** One corner per MGRS reference (one a line, e.g. "23J LL 12345 67890"), as lon/lat. */
function mgrsRing(lines) {
  if (!window.mgrs) throw new Error(t("coordinates_mgrs_missing"));
  return lines.map((line) => {
    try { return mgrs.toPoint(line.replace(/\s+/g, "").toUpperCase()); }
    catch (error) { throw new Error(`${t("coordinates_mgrs_bad")}: ${line}`); }
  });
}

/** Lon/lat pairs from pasted text ("30.1 50.2", "30.1,50.2" or "30.1, 50.2;"), or MGRS references one a line; the ring is closed. */
function parseCoordinates(text) {
  const lines = text.split(/\n|;/).map((line) => line.trim()).filter(Boolean);
  let ring;
  if (lines.length && lines.every((line) => MGRS.test(line))) {
    ring = mgrsRing(lines);
  } else {
    const numbers = (text.match(/[-+]?\d+(?:\.\d+)?/g) || []).map(Number);
    if (numbers.length % 2) throw new Error(t("coordinates_odd"));
    ring = [];
    for (let i = 0; i < numbers.length; i += 2) ring.push([numbers[i], numbers[i + 1]]);
  }
  for (const [x, y] of ring) if (Math.abs(x) > 180 || Math.abs(y) > 90) throw new Error(`${t("coordinates_range")}: ${x} ${y}`);
  if (ring.length && (ring[0][0] !== ring[ring.length - 1][0] || ring[0][1] !== ring[ring.length - 1][1])) ring.push([...ring[0]]);
  if (ring.length < 4) throw new Error(t("coordinates_few"));
  return { type: "Polygon", coordinates: [ring] };
}

// -- the form ---------------------------------------------------------------------------------------

async function loadForm() {
  edit.form = await api(`/api/v1/entities/${EDITED}/form`);
  document.getElementById("edit-tools").hidden = !edit.form.writable || !edit.draw;
}

function input(field, value) {
  const attrs = { name: field.name, id: `field-${field.name}`, "aria-describedby": `error-${field.name}` };
  if (field.required) attrs.required = "";
  if (field.choices) {
    const select = el("select", { ...attrs, ...(field.kind === "codes" ? { multiple: "" } : {}) });
    if (field.kind !== "codes") select.append(el("option", { value: "" }, "—"));
    const chosen = new Set(Array.isArray(value) ? value : [value]);
    for (const choice of field.choices) {
      const option = el("option", { value: choice.code }, choiceLabel(choice));
      option.selected = chosen.has(choice.code);
      select.append(option);
    }
    if (field.kind !== "codes" && field.choices.length === 1 && value == null) select.value = field.choices[0].code;
    return select;
  }
  const types = { integer: "number", real: "number", date: "date", boolean: "checkbox" };
  const node = el(field.description.length > 60 || field.max_length > 500 ? "textarea" : "input",
                  { ...attrs, ...(types[field.kind] ? { type: types[field.kind] } : {}) });
  if (field.kind === "real") node.step = "any";
  if (field.max_length) node.maxLength = field.max_length;
  if (field.kind === "boolean") node.checked = Boolean(value); else node.value = value ?? "";
  return node;
}

function renderForm(values = {}) {
  const box = document.getElementById("record-fields");
  box.replaceChildren(...edit.form.fields.map((field) => {
    const unit = field.unit ? el("span", { class: "unit" }, field.unit) : "";
    return el("div", { class: "field", "data-field": field.name },
              el("label", { for: `field-${field.name}` }, fieldLabel(field.name), field.required ? " *" : ""),
              el("div", { class: "input-row" }, input(field, values[field.name]), unit),
              el("p", { class: "field-error", id: `error-${field.name}`, role: "alert" }));
  }));
  document.getElementById("record-title").textContent = edit.record ? `${t("edit")} ${edit.record.ref}` : t("new_hazard");
  document.getElementById("record-form").hidden = false;
  document.getElementById("form-message").textContent = "";
  document.getElementById("stale").hidden = true;
  showErrors({});
}

function formValues() {
  const values = {};
  for (const field of edit.form.fields) {
    const node = document.getElementById(`field-${field.name}`);
    let value;
    if (field.kind === "codes") value = [...node.selectedOptions].map((o) => o.value);
    else if (field.kind === "boolean") value = node.checked;
    else if (node.value === "") value = null;
    else if (field.kind === "integer") value = parseInt(node.value, 10);
    else if (field.kind === "real") value = Number(node.value);
    else value = node.value;
    if (Array.isArray(value) && !value.length) value = null;
    values[field.name] = value;
  }
  return values;
}

/** A value as the user reads it: vocabulary codes as their labels in the user's language. */
function shownValue(field, value) {
  if (value == null) return "—";
  const labelOf = (code) => { const choice = (field.choices || []).find((c) => c.code === code); return choice ? choiceLabel(choice) : code; };
  return Array.isArray(value) ? value.map(labelOf).join(", ") : labelOf(value);
}

function same(a, b) { return JSON.stringify(a ?? null) === JSON.stringify(b ?? null); }

function showErrors(messages) {
  document.querySelectorAll(".field-error").forEach((p) => { p.textContent = ""; });
  document.querySelectorAll(".field.invalid").forEach((p) => p.classList.remove("invalid"));
  for (const [name, message] of Object.entries(messages)) {
    const slot = document.getElementById(`error-${name}`) || document.getElementById("error-geometry");
    slot.textContent = slot.textContent ? `${slot.textContent}; ${message}` : message;
    const box = slot.closest(".field"); if (box) box.classList.add("invalid");
  }
}

/** Which field a 422 problem is about: FastAPI names it in errors[].where, the domain rules in the detail. */
function problemFields(problem) {
  const names = [...edit.form.fields.map((f) => f.name), "geometry"];
  const messages = {};
  for (const error of problem.errors || []) {
    const name = String(error.where).split(".").find((part) => names.includes(part)) || "geometry";
    messages[name] = error.message;
  }
  if (!problem.errors) {
    const named = names.filter((name) => new RegExp(`\\b${name}\\b`).test(problem.detail));
    for (const name of named.length ? named : ["geometry"]) messages[name] = problem.detail;
  }
  return messages;
}

function checkRequired(values) {
  const missing = {};
  for (const field of edit.form.fields) if (field.required && values[field.name] == null) missing[field.name] = t("required");
  return missing;
}

async function send(path, method, body, ifMatch) {
  const headers = { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": state.csrf };
  if (ifMatch) headers["If-Match"] = ifMatch;
  const response = await fetch(path, { method, headers, credentials: "same-origin", body: body && JSON.stringify(body) });
  const data = response.status === 204 ? null : await response.json().catch(() => ({ detail: response.statusText }));
  return { status: response.status, etag: response.headers.get("ETag"), data };
}

async function save(event) {
  event.preventDefault();
  const message = document.getElementById("form-message");
  const values = formValues();
  const reason = document.getElementById("edit-reason").value.trim();
  const missing = checkRequired(values);
  if (!reason) missing.reason = t("required");
  const geometry = currentGeometry();
  if (!edit.record && !geometry) missing.geometry = t("draw_first");
  showErrors(missing);
  if (Object.keys(missing).length) { message.textContent = t("fix_fields"); return; }
  const body = { reason };
  for (const [name, value] of Object.entries(values)) {
    if (!edit.record ? value !== null : !same(value, edit.record[name])) body[name] = value;
  }
  if (geometry && (!edit.record || edit.geometryChanged)) body.geometry = geometry;
  message.textContent = t("saving");
  const started = performance.now();
  const answer = edit.record
    ? await send(`/api/v1/${EDITED}/${encodeURIComponent(edit.record.id)}`, "PATCH", body, edit.etag)
    : await send(`/api/v1/${EDITED}`, "POST", body);
  if (answer.status === 200 || answer.status === 201) {
    edit.record = answer.data; edit.etag = answer.etag; edit.geometryChanged = false;
    renderForm(answer.data);
    message.textContent = `${t("saved")} ${answer.data.ref}, ${t("version")} ${answer.data.version} (${Math.round(performance.now() - started)} ms)`;
    document.getElementById("edit-reason").value = "";
    refreshTiles();
    showDetails(EDITED, answer.data.ref);
  } else if (answer.status === 412 || answer.status === 409) {
    await showStale(answer.data);
  } else if (answer.status === 422) {
    showErrors(problemFields(answer.data));
    message.textContent = t("fix_fields");
  } else {
    message.textContent = answer.data.detail || String(answer.status);
  }
}

/** A stale edit: show which fields (and the geometry) changed since the version the form was based on, and
 *  put the user's own changes on top of the newer version, so saving again redoes them there. */
async function showStale(problem) {
  const fresh = await send(`/api/v1/${EDITED}/${encodeURIComponent(edit.record.id)}`, "GET");
  const theirs = fresh.data, base = edit.record;
  const mine = Object.fromEntries(Object.entries(formValues()).filter(([name, value]) => !same(value, base[name])));
  const changed = edit.form.fields.filter((f) => !same(theirs[f.name], base[f.name]))
    .map((f) => el("li", {}, `${fieldLabel(f.name)}: ${shownValue(f, base[f.name])} → ${shownValue(f, theirs[f.name])}`));
  const theirGeometry = !same(theirs.geometry, base.geometry);
  if (theirGeometry) changed.push(el("li", {}, t("geometry_changed")));
  edit.record = theirs; edit.etag = fresh.etag;
  renderForm({ ...theirs, ...mine });
  if (theirGeometry && !edit.geometryChanged && theirs.geometry) putGeometry(theirs.geometry);
  const box = document.getElementById("stale");
  box.replaceChildren(el("p", {}, `${t("stale")} ${t("version")} ${theirs.version} ${t("by")} ${theirs.recorded_by}:`),
                      el("ul", {}, ...changed), el("p", {}, t("stale_redo")));
  box.hidden = false;
  document.getElementById("form-message").textContent = problem.detail || "";
}

function refreshTiles() {
  for (const source of ["hazard", "released_part"]) {
    const tiles = state.map.getSource(source);
    if (tiles && tiles.setTiles) tiles.setTiles([`${tiles.tiles[0].split("?")[0]}?t=${Date.now()}`]);
  }
}

// -- entry points used by app.js -----------------------------------------------------------------------

async function startEditing(map) {
  startDrawing(map);
  await loadForm();
  document.getElementById("new-record").addEventListener("click", () => {
    edit.record = null; edit.etag = null; edit.featureId = null; edit.geometryChanged = false;
    edit.draw.clear(); edit.draw.setMode("polygon"); renderForm(); showGeometry();
    document.getElementById("form-message").textContent = t("draw_hint");
  });
  document.getElementById("use-coordinates").addEventListener("click", () => {
    try { putGeometry(parseCoordinates(document.getElementById("coordinates").value)); edit.geometryChanged = true; showErrors({}); flyTo(currentGeometry()); }
    catch (error) { showErrors({ geometry: error.message }); }
  });
  document.getElementById("record-form").addEventListener("submit", save);
  document.getElementById("cancel-edit").addEventListener("click", closeForm);
}

function closeForm() {
  edit.record = null; edit.featureId = null;
  if (edit.draw) { edit.draw.clear(); edit.draw.setMode("static"); }
  document.getElementById("record-form").hidden = true;
}

/** The "edit" button under a record's details, for those who may change it. */
function editButton(entity, record) {
  if (entity !== EDITED || !edit.form || !edit.form.writable || !edit.draw) return "";
  const org = edit.form.fields.find((f) => f.name === "organisation_id");
  if (org && org.choices && !org.choices.some((c) => c.code === record.organisation_id)) return "";
  return el("button", { id: "edit-record", type: "button", onclick: () => startEdit(record.ref) }, t("edit"));
}

async function startEdit(ref) {
  const answer = await send(`/api/v1/${EDITED}/${encodeURIComponent(ref)}`, "GET");
  edit.record = answer.data; edit.etag = answer.etag; edit.geometryChanged = false;
  renderForm(edit.record);
  if (edit.record.geometry) putGeometry(edit.record.geometry); else { edit.draw.clear(); showGeometry(); }
  document.getElementById("form-message").textContent = t("edit_hint");
}

function relabelForm() {
  if (!edit.form || document.getElementById("record-form").hidden) return;
  const values = formValues();
  renderForm(values); showGeometry();
}
