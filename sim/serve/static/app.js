// The planning page: the plan being edited, its evaluations (after every change, no run button),
// undo/redo, the plan beside it, the optimiser's proposal, downloads. Words from i18n.js, the map
// from map.js, playback from play.js. The server's API is documented in docs/serve.md.
"use strict";

// Headline figures: a summary column, its interval, and the paired-difference columns. A figure is
// shown when the summary has its column, so columns added to summary.csv need one line here.
const HEADLINE = [
  {key: "within", col: "within_target_pct", ci: "within_target_ci95", digits: 1, unit: "%", high: 100,
    diff: "within_target_diff_pct", diffCi: "within_target_diff_ci95", verdict: "within_target_verdict", diffUnit: "pts"},
  {key: "late", col: "late_per_week", ci: "late_per_week_ci95", digits: 1, unit: "perWeek",
    diff: "late_per_week_diff", diffCi: "late_per_week_diff_ci95", verdict: "late_per_week_verdict", diffUnit: "perWeek"},
  // prevented: only where the scenario deters incidents (summary.csv then has its deterrence columns)
  {key: "prevented", col: "prevented_per_week", ci: "prevented_per_week_ci95", digits: 1, unit: "perWeek",
    showIf: row => row.deterred !== undefined},
  {key: "mean", col: "response_mean_min", ci: "response_mean_ci95", digits: 1, unit: "min",
    diff: "response_diff_min", diffCi: "response_diff_ci95", verdict: "verdict", diffUnit: "min"},
  // the pooled 90th percentile (as summary.csv); its interval from the replications' own p90s
  {key: "p90", col: "response_p90_min", ci: answer => (answer.p90_interval || {}).ci95, digits: 1, unit: "min",
    diff: "p90_diff_min", diffCi: "p90_diff_ci95", verdict: "p90_verdict", diffUnit: "min"},
];
const WORST_SHOWN = 5;
const HOURS_PER_WEEK = 168;
const EVALUATE_DELAY_MS = 120;   // changes closer together than this are evaluated once
const POST_KIND = "proposed_post";

const S = {
  scenario: null, token: null, client: Math.random().toString(36).slice(2, 12),
  current: null, saved: null, savedLabel: "", lastEvaluated: null, answer: null,
  history: [], future: [], compare: null, proposal: null, selected: -1,
  positions: new Map(),   // site id -> {x, y, name, node} for every site, the page's new posts too
  controller: null, timer: null, evaluations: 0, busy: false,
};

// -- the server ------------------------------------------------------------------------------------
async function api(method, path, body, accept) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  const response = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin", signal: body && body.__signal});
  if (!response.ok) throw await apiError(response);
  return response.json();
}

async function apiError(response) {
  let data = {};
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  const error = new Error(data.message || data.error || `HTTP ${response.status}`);
  error.status = response.status;
  error.problems = data.problems || [];
  return error;
}

// -- state -------------------------------------------------------------------------------------------
const clone = value => JSON.parse(JSON.stringify(value));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function stateOf(plan, sites) { return {plan: clone(plan), sites: clone(sites || [])}; }

// The sites the plan uses among those the page added (unused posts are dropped from the plan).
function usedSites(state) {
  const used = new Set();
  for (const group of state.plan.units) {
    const p = group.patrol || {};
    used.add(group.base);
    if (p.at) used.add(p.at);
    for (const id of p.route || []) used.add(id);
    for (const id of p.sites || []) used.add(id);
  }
  return state.sites.filter(site => used.has(site.id));
}

function change(mutate) {
  const next = clone(S.current);
  mutate(next);
  next.sites = usedSites(next);
  if (same(next, S.current)) return;
  S.history.push(S.current);
  S.future = [];
  S.current = next;
  afterChange();
}

function afterChange() {
  renderGroups();
  drawPlan();
  updateButtons();
  scheduleEvaluate();
}

function undo() {
  if (!S.history.length) return;
  S.future.push(S.current);
  S.current = S.history.pop();
  afterChange();
}

function redo() {
  if (!S.future.length) return;
  S.history.push(S.current);
  S.current = S.future.pop();
  afterChange();
}

function pickPlan(name) {
  const plan = S.scenario.plans.find(p => p.name === name);
  S.current = stateOf(plan, []);
  S.saved = stateOf(plan, []);
  S.savedLabel = name;
  S.history = []; S.future = []; S.lastEvaluated = null; S.answer = null; S.proposal = null; S.selected = -1;
  document.getElementById("plan-name").value = plan.name;
  document.getElementById("plan-pick").value = name;
  showProposal();
  afterChange();
}

// -- evaluation ----------------------------------------------------------------------------------------
function runOptions() {
  const reps = parseInt(document.getElementById("reps").value, 10);
  const seed = parseInt(document.getElementById("seed").value, 10);
  const options = {};
  if (Number.isFinite(reps)) options.reps = reps;
  if (Number.isFinite(seed)) options.seed = seed;
  if (S.hours) options.hours = S.hours;
  return options;
}

function scheduleEvaluate() {
  clearTimeout(S.timer);
  S.timer = setTimeout(evaluate, EVALUATE_DELAY_MS);
}

function against(state) {
  const list = [];
  if (S.lastEvaluated && !same(S.lastEvaluated, state)) list.push({label: "before", ...S.lastEvaluated});
  if (S.saved && !same(S.saved, state)) list.push({label: "saved", ...S.saved});
  if (S.compare && !same(S.compare.state, state)) list.push({label: "beside", ...S.compare.state});
  return list;
}

async function evaluate() {
  clearTimeout(S.timer);
  S.timer = null;
  if (S.controller) S.controller.abort();   // superseded: the server drops its queued replications
  const controller = S.controller = new AbortController();
  const state = clone(S.current);
  const body = {...state, ...runOptions(), against: against(state), client: S.client};
  document.getElementById("headline").classList.add("stale");
  setProgress(0, 1);
  S.busy = true;
  try {
    const answer = await streamEvaluate(body, controller.signal);
    if (controller !== S.controller) return;
    S.answer = answer;
    S.lastEvaluated = state;
    S.evaluations += 1;
    showAnswer();
    setStatus("page.status.done", () => ({seconds: formatNumber(answer.seconds, 1), reps: answer.reps}));
    refreshCompare();
  } catch (error) {
    if (error.name === "AbortError" || error.status === 409 || controller !== S.controller) return;
    showError(error);
  } finally {
    if (controller === S.controller) {
      S.busy = false;
      S.controller = null;
      document.getElementById("progress").hidden = true;
      document.getElementById("headline").classList.remove("stale");
    }
  }
}

// POST /api/evaluate as NDJSON: progress lines, then the result (or the error) line.
async function streamEvaluate(body, signal) {
  const response = await fetch("/api/evaluate", {method: "POST", signal, credentials: "same-origin",
    headers: {"Content-Type": "application/json", Accept: "application/x-ndjson"}, body: JSON.stringify(body)});
  if (!response.ok) throw await apiError(response);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let cut;
    while ((cut = buffer.indexOf("\n")) >= 0) {
      const line = JSON.parse(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 1);
      if (line.progress) setProgress(line.progress.done, line.progress.total);
      if (line.result) return line.result;
      if (line.error) {
        const error = new Error(line.message || line.error);
        error.status = line.status;
        error.problems = line.problems || [];
        throw error;
      }
    }
  }
  throw new Error(t("page.error.noAnswer"));
}

// The plan beside this one, evaluated again when its answer is not of this answer's replications,
// seed and hours (its Results come from the server's cache: this evaluation paired with it).
async function refreshCompare() {
  const compare = S.compare, answer = S.answer;
  if (!compare || !answer) return;
  const have = compare.answer;
  if (have && have.reps === answer.reps && have.seed === answer.seed && have.hours === answer.hours) return;
  try {
    const fresh = await api("POST", "/api/evaluate", {...clone(compare.state), reps: answer.reps, seed: answer.seed,
      hours: answer.hours});
    if (S.compare === compare) { compare.answer = fresh; renderHeadline(); }
  } catch (error) { showError(error); }
}

function setProgress(done, total) {
  const box = document.getElementById("progress");
  box.hidden = false;
  box.querySelector(".bar").style.width = `${total ? (100 * done) / total : 0}%`;
  box.querySelector(".text").textContent = t("page.status.running", {done, total});
}

// The status line: a message of the catalogue (said again in the other language after a switch);
// ``values`` its placeholders, or a function giving them (numbers formatted in the language shown).
function setStatus(key, values) {
  S.status = {key, values};
  renderStatus();
}

function renderStatus() {
  if (!S.status) return;
  const {key, values} = S.status;
  document.getElementById("status-text").textContent = t(key, typeof values === "function" ? values() : values);
}

function showError(error) {
  const box = document.getElementById("warnings");
  box.innerHTML = "";
  const lines = error.problems && error.problems.length
    ? error.problems.map(p => (p.field ? `${p.field}: ${p.message}` : p.message)) : [error.message];
  for (const line of lines) {
    const div = document.createElement("div");
    div.className = "warning";
    div.textContent = line;
    box.appendChild(div);
  }
  setStatus(error.status === 503 ? "page.error.timeLimit" : "page.error.bad");
}

// -- showing an answer ------------------------------------------------------------------------------------
function showAnswer() {
  const answer = S.answer;
  if (!answer) return;
  renderHeadline();
  const warnings = document.getElementById("warnings");
  warnings.innerHTML = "";
  for (const text of answer.warnings || []) {
    const div = document.createElement("div");
    div.className = "warning";
    div.textContent = text;
    warnings.appendChild(div);
  }
  drawDistribution(answer.responses_min, S.scenario.target_min);
  renderWorst();
  MapView.drawRoads(answer.coverage.band);
  MapView.drawCircuits(answer.coverage.circuits);
  MapView.drawSites(answer.sites);
  MapView.drawCells(answer.areas || null);
  renderLegend();
}

// The API gives counts a week (as summary.csv). A clock shorter than a week (a voting day) shows
// them as counted in its measured hours, as the report and the terminal do: {scale, hours}.
function countSpan(answer) {
  const hours = answer.hours - S.scenario.clock.warmup_hours;
  return hours > 0 && answer.hours < HOURS_PER_WEEK ? {scale: hours / HOURS_PER_WEEK, hours} : {scale: 1, hours};
}

// A headline figure of an answer: its value, and its 95% interval as a range inside the figure's
// bounds (a share from 0 to 100%, counts and minutes from 0).
function figureText(answer, figure) {
  const row = answer.summary[0];
  const span = figure.unit === "perWeek" ? countSpan(answer) : {scale: 1};
  const raw = row[figure.col];
  if (raw === undefined) return null;
  const value = raw === null ? null : raw * span.scale;
  const ci = typeof figure.ci === "function" ? figure.ci(answer) : row[figure.ci];
  const half = ci === undefined || ci === null ? ci : ci * span.scale;
  const unit = figure.unit === "%" ? "%" : span.scale < 1 ? "" :
    ` <small>${escapeHtml(t(`page.unit.${figure.unit}`))}</small>`;
  let text = `${formatNumber(value, figure.digits)}${unit}`;
  if (value !== null && half !== undefined && half !== null && Number.isFinite(half)) {
    const low = Math.max(0, value - half), high = Math.min(figure.high === undefined ? Infinity : figure.high, value + half);
    text += ` <small class="interval">(${formatNumber(low, figure.digits)}–${formatNumber(high, figure.digits)})</small>`;
  }
  return text;
}

function diffLine(pair, figure) {
  if (!figure.diff || !pair || pair[figure.diff] === undefined) return "";
  const span = figure.diffUnit === "perWeek" ? countSpan(S.answer) : {scale: 1};
  const diff = pair[figure.diff] === null ? null : pair[figure.diff] * span.scale;
  const ci = pair[figure.diffCi] == null ? pair[figure.diffCi] : pair[figure.diffCi] * span.scale;
  const verdict = pair[figure.verdict];
  const cls = verdict === "better" ? "better" : verdict === "worse" ? "worse" : "unclear";
  const words = t(cls === "unclear" ? "page.verdict.unclear" : `page.verdict.${cls}`);
  const sign = diff > 0 ? "+" : diff < 0 ? "−" : "±";
  const unit = span.scale < 1 ? t("page.unit.perRun", {hours: formatNumber(span.hours, 0)}) :
    t(`page.unit.${figure.diffUnit}`);
  const text = diff === null ? "–" : `${sign}${formatNumber(Math.abs(diff), 1)} ± ${formatNumber(ci, 1)} ${unit}`;
  return `<div class="diff ${cls}">${escapeHtml(t(`page.vs.${pair.label}`))}: ${text} (${escapeHtml(words)})</div>`;
}

function renderHeadline() {
  const box = document.getElementById("headline");
  const row = S.answer.summary[0];
  const other = S.compare && S.compare.answer ? S.compare.answer : null;
  const pairs = S.answer.paired || [];
  let html = "";
  for (const figure of HEADLINE) {
    const text = figureText(S.answer, figure);
    if (text === null || (figure.showIf && !figure.showIf(row))) continue;
    const span = figure.unit === "perWeek" ? countSpan(S.answer) : {scale: 1};
    const name = t(`page.figure.${figure.key}${span.scale < 1 ? "Run" : ""}`,
      {target: formatNumber(S.scenario.target_min, 0), hours: formatNumber(span.hours, 0)});
    html += `<div class="figure" data-metric="${figure.key}" data-value="${row[figure.col]}">`;
    html += `<div class="name">${escapeHtml(name)}</div>`;
    if (other) {
      html += `<div class="values"><div><div class="col-title">${escapeHtml(S.current.plan.name)}</div>` +
        `<div class="value">${text}</div></div><div><div class="col-title">${escapeHtml(S.compare.label)}</div>` +
        `<div class="value">${figureText(other, figure) || "–"}</div></div></div>`;
    } else {
      html += `<div class="values one"><div class="value">${text}</div></div>`;
    }
    for (const pair of pairs) html += diffLine(pair, figure);
    html += "</div>";
  }
  html += `<div class="hint">${escapeHtml(t("page.headline.note", {reps: S.answer.reps, seed: S.answer.seed,
    incidents: formatNumber(row.incidents, 0), hours: formatNumber(S.answer.hours, 0)}))}</div>`;
  box.innerHTML = html;
}

// A row's share within the target: pooled over its incidents where the rows give it.
function shareOf(row) {
  return row.within_target_pooled_pct !== undefined ? row.within_target_pooled_pct : row.within_target_pct;
}

// A worst list of the answer (most late incidents first, as the result files rank them).
function worstTable(worst, nameKey) {
  if (!worst) return `<div class="hint">${escapeHtml(t("page.worst.noAreas"))}</div>`;
  if (!worst.rows.length) {
    const counted = S.answer.summary[0].incidents > 0;
    return `<div class="hint">${escapeHtml(t(counted ? "page.worst.noneLate" : "page.worst.none",
      {target: formatNumber(S.scenario.target_min, 0)}))}</div>`;
  }
  let html = `<table class="worst"><tr><th></th><th>${escapeHtml(t("page.worst.late"))}</th>` +
    `<th>${escapeHtml(t("page.worst.incidents"))}</th><th>${escapeHtml(t("page.worst.share"))}</th></tr>`;
  for (const row of worst.rows) {
    const name = row[nameKey], share = shareOf(row);
    const interval = row.within_target_low_pct !== undefined && row.within_target_low_pct !== null
      ? ` <small class="muted">${formatNumber(row.within_target_low_pct, 0)}–${formatNumber(row.within_target_high_pct, 0)}</small>` : "";
    html += `<tr><td title="${escapeHtml(name)}"><span class="share-dot ${shareCss(share)}"></span> ${escapeHtml(name)}</td>` +
      `<td>${formatNumber(row.late, 0)}</td><td>${formatNumber(row.incidents, 0)}</td>` +
      `<td>${formatNumber(share, 0)}%${interval}</td></tr>`;
  }
  html += "</table>";
  const notes = [];
  if (worst.tied) notes.push(t("page.worst.tied", {n: worst.tied, late: worst.rows[worst.rows.length - 1].late}));
  if (worst.small.length) notes.push(t("page.worst.small", {n: worst.small_n, names: worst.small.join(", ")}));
  if (notes.length) html += `<div class="hint">${escapeHtml(notes.join("; "))}</div>`;
  return html;
}

function renderWorst() {
  document.getElementById("worst-sites").innerHTML = worstTable(S.answer.worst_sites, "site_name");
  document.getElementById("worst-areas").innerHTML = worstTable(S.answer.worst_areas, "area");
}

function drawDistribution(times, target) {
  const canvas = document.getElementById("distribution");
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, left = 34, bottom = 26, top = 16, right = 8;
  ctx.clearRect(0, 0, w, h);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#5f6368";
  if (!times || !times.length) { ctx.fillText(t("page.distribution.none"), left, h / 2); return; }
  const top_min = Math.max(2 * target, times[Math.floor(times.length * 0.95)]);
  const bins = 24, width_min = top_min / bins;
  const counts = new Array(bins + 1).fill(0);
  for (const v of times) counts[Math.min(bins, Math.floor(v / width_min))] += 1;
  const most = Math.max(...counts);
  const bw = (w - left - right) / (bins + 1);
  for (let k = 0; k <= bins; k++) {
    const bh = ((h - top - bottom) * counts[k]) / most;
    ctx.fillStyle = bandColour(bandOf(k * width_min));   // as the roads of that many minutes are drawn
    ctx.fillRect(left + k * bw + 1, h - bottom - bh, bw - 2, bh);
  }
  ctx.strokeStyle = "#1d1d1f";
  const tx = left + (target / width_min) * bw;
  ctx.beginPath(); ctx.moveTo(tx, top); ctx.lineTo(tx, h - bottom); ctx.stroke();
  ctx.fillStyle = "#1d1d1f";
  ctx.textAlign = "center";
  for (const m of [0, target, 2 * target]) ctx.fillText(formatNumber(m, 0), left + (m / width_min) * bw, h - bottom + 13);
  ctx.fillText(t("page.distribution.axis"), (w + left) / 2, h - 2);
  ctx.textAlign = "right";
  ctx.fillStyle = "#5f6368";
  // the note on the last bar, in the corner away from the target line (it stands left of the middle)
  ctx.fillText(t("page.distribution.beyond", {max: formatNumber(top_min, 0)}), w - right, top - 4);
  ctx.save(); ctx.translate(10, (h - bottom) / 2); ctx.rotate(-Math.PI / 2);
  ctx.fillText(t("page.distribution.count"), 0, 0); ctx.restore();
  ctx.textAlign = "left";
}

// The band of a drive time (minutes): the first band whose upper edge is above it.
function bandOf(minutes) {
  const bands = S.answer ? S.answer.coverage.bands_min : S.scenario.bands_min;
  const k = bands.findIndex(edge => minutes < edge);
  return k < 0 ? bands.length : k;
}

// The map's key, one strip under the map: drive-time bands, the sites' share classes, the units.
function renderLegend() {
  const bands = S.answer ? S.answer.coverage.bands_min : S.scenario.bands_min;
  const swatch = (colour, words, round) => `<span class="item"><span class="${round ? "dot" : "swatch"}" ` +
    `style="background:${colour}"></span>${escapeHtml(words)}</span>`;
  let html = `<div class="row"><b>${escapeHtml(t("page.legend.bands"))}:</b>`;
  bands.forEach((b, k) => { html += swatch(bandColour(k), t("page.legend.upTo", {min: formatNumber(b, 0)})); });
  html += swatch(COLOURS.beyond, t("page.legend.beyond", {min: formatNumber(bands[bands.length - 1], 0)})) + "</div>";
  html += `<div class="row"><b>${escapeHtml(t("page.legend.sites"))}:</b>`;
  const classes = COLOURS.share;
  classes.forEach((c, k) => {
    const words = k + 1 < classes.length ? t("page.legend.shareRange", {from: c.from, to: classes[k + 1].from})
      : t("page.legend.shareFrom", {from: c.from});
    html += swatch(c.colour, words, true);
  });
  html += `<span class="item"><span class="dot" style="background:${COLOURS.noResult};border-color:` +
    `${COLOURS.noResultEdge}"></span>${escapeHtml(t("page.legend.noResult"))}</span>`;
  html += `<span class="item muted">${escapeHtml(t("page.legend.cells"))}</span></div>`;
  html += `<div class="row"><b>${escapeHtml(t("page.legend.units"))}:</b>`;
  const shape = (agency, kind) => `<span class="shape ${kind || ""}">${agencyShape(agency)}</span>`;
  for (const agency of agencies()) html += `<span class="item">${shape(agency)}${escapeHtml(agency)}</span>`;
  html += `<span class="item">${shape(agencies()[0], "ghost")}${escapeHtml(t("page.legend.proposal"))}</span>`;
  html += `<span class="item">${shape(agencies()[0], "other")}${escapeHtml(t("page.legend.beside"))}</span></div>`;
  document.getElementById("map-legend").innerHTML = html;
}
