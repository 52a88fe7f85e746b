// Start: words, the scenario, the map, the controls; then the first plan is evaluated.
"use strict";

function renderLanguages() {
  const box = document.getElementById("lang");
  box.innerHTML = Object.entries(I18N.languages).map(([code, name]) =>
    `<button type="button" data-lang="${code}" title="${escapeHtml(name)}" class="${code === I18N.lang ? "on" : ""}">` +
    `${code.toUpperCase()}</button>`).join("");
}

function renderPickers() {
  const plans = S.scenario.plans.map(p => `<option value="${escapeHtml(p.name)}">${escapeHtml(p.name)}</option>`).join("");
  const pick = document.getElementById("plan-pick");
  const chosen = pick.value;
  pick.innerHTML = plans;
  if (chosen) pick.value = chosen;
  const compare = document.getElementById("compare-pick");
  const beside = compare.value;
  compare.innerHTML = `<option value="">${escapeHtml(t("page.compare.none"))}</option>` +
    `<option value="__saved">${escapeHtml(t("page.compare.saved"))}</option>` + plans;
  compare.value = beside;
}

function renderAll() {
  translateStatic();
  renderLanguages();
  renderPickers();
  Play.speedOptions();
  renderGroups();
  renderLegend();
  if (S.answer) showAnswer();
  if (S.current && !Play.running) drawPlan();   // the units' tooltips
  if (Play.running) Play.legend();
  if (S.proposal) showProposal();
  renderStatus();
  for (const [cls, key] of [["in", "page.map.zoomIn"], ["out", "page.map.zoomOut"]]) {
    const button = document.querySelector(`.leaflet-control-zoom-${cls}`);
    if (button) { button.title = t(key); button.setAttribute("aria-label", t(key)); }
  }
  const note = S.scenario.network.synthetic ? t("page.synthetic") : S.scenario.network.label;
  document.getElementById("status-note").textContent = note;
  const badge = document.getElementById("synthetic");
  badge.hidden = !S.scenario.network.synthetic;
  badge.textContent = t("page.synthetic");
  document.title = `patrolsim · ${t("page.title")} · ${S.scenario.name}`;
}

async function setLanguage(lang) {
  await loadMessages(lang);
  try { localStorage.setItem("patrolsim.lang", lang); } catch (e) { /* private mode: for this visit only */ }
  renderAll();
}

async function start() {
  let lang = "en";
  try { lang = localStorage.getItem("patrolsim.lang") || (navigator.language || "en").slice(0, 2); } catch (e) { /* */ }
  await loadMessages(["en", "id"].includes(lang) ? lang : "en");
  S.scenario = await api("GET", "/api/scenario");
  await loadColours(S.scenario);
  S.newSites = new Map();
  for (const site of S.scenario.sites) S.positions.set(site.id, {x: site.x, y: site.y, name: site.name, node: site.node});
  document.getElementById("scenario-name").textContent = `· ${S.scenario.name}`;
  document.getElementById("reps").value = S.scenario.defaults.reps;
  document.getElementById("reps").max = S.scenario.limits.reps;
  document.getElementById("seed").value = S.scenario.defaults.seed;
  const hours = new URLSearchParams(location.search).get("hours");   // a shorter clock for a quick look (and tests)
  if (hours && +hours > 0) S.hours = +hours;
  MapView.init(S.scenario);
  MapView.drawSites(null);
  Play.setup();
  renderAll();

  document.getElementById("lang").onclick = e => { const b = e.target.closest("button"); if (b) setLanguage(b.dataset.lang); };
  document.getElementById("plan-pick").onchange = e => pickPlan(e.target.value);
  document.getElementById("compare-pick").onchange = e => pickCompare(e.target.value);
  document.getElementById("undo").onclick = undo;
  document.getElementById("redo").onclick = redo;
  document.getElementById("add-group").onclick = addGroup;
  document.getElementById("optimise").onclick = optimise;
  document.getElementById("save-yaml").onclick = saveYaml;
  document.getElementById("report").onclick = downloadReport;
  const groups = document.getElementById("groups");
  groups.addEventListener("change", onGroupsInput);
  groups.addEventListener("click", onGroupsClick);
  for (const kind of ["focusin", "mousedown"]) groups.addEventListener(kind, e => fillSiteSelect(e.target));
  document.getElementById("plan-name").onchange = e => change(state => { state.plan.name = e.target.value.trim(); });
  for (const id of ["reps", "seed"]) document.getElementById(id).onchange = () => scheduleEvaluate();
  document.addEventListener("keydown", e => {
    if (!(e.ctrlKey || e.metaKey) || ["INPUT", "SELECT"].includes(e.target.tagName)) return;
    if (e.key === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
    if (e.key === "y" || (e.key === "z" && e.shiftKey)) { e.preventDefault(); redo(); }
  });
  pickPlan(S.scenario.plans[0].name);
  window.__patrolsim = S;   // for tests and the curious: the page's state
}

start().catch(error => {
  document.getElementById("status-text").textContent = `${error.message}`;
  throw error;
});
