// Editing the plan: the unit groups in the side panel, posts dragged on the map, the actions
// (optimise from here, save as YAML, report), the plan beside this one.
"use strict";

function siteName(id) { return (S.positions.get(id) || {name: id}).name; }

function siteOptions(selected, ids) {
  return ids.map(id => `<option value="${escapeHtml(id)}"${id === selected ? " selected" : ""}>` +
    `${escapeHtml(siteName(id))}</option>`).join("");
}

// A menu of sites holding only its choice (or its placeholder) until it is opened: a scenario of
// thousands of sites would otherwise put thousands of options in every group's menus.
function siteSelect(field, selected, placeholder) {
  const first = placeholder !== undefined ? `<option value="">${escapeHtml(placeholder)}</option>`
    : `<option value="${escapeHtml(selected)}" selected>${escapeHtml(siteName(selected))}</option>`;
  return `<select data-field="${field}" data-sites="${escapeHtml(selected || "")}">${first}</select>`;
}

function fillSiteSelect(select) {
  if (!select.dataset || select.dataset.sites === undefined || select.dataset.filled) return;
  const selected = select.dataset.sites || null;
  const placeholder = selected ? "" : select.options[0].outerHTML;
  select.innerHTML = placeholder + siteOptions(selected, allSiteIds());
  select.dataset.filled = "1";
}

function allSiteIds() {
  return [...S.scenario.sites.map(s => s.id), ...S.current.sites.map(s => s.id)];
}

function renderGroups() {
  if (!S.current) return;
  const box = document.getElementById("groups");
  const types = Object.entries(S.scenario.unit_types);
  box.innerHTML = "";
  S.current.plan.units.forEach((group, index) => {
    const patrol = group.patrol || {mode: "base"};
    const agency = (S.scenario.unit_types[group.type] || {}).agency || "";
    const div = document.createElement("div");
    div.className = "group" + (index === S.selected ? " selected" : "");
    div.dataset.group = index;
    let html = `<div class="head"><span><span class="shape">${agencyShape(agency)}</span> ` +
      `${escapeHtml(t("page.unit.group", {n: index + 1}))} · ${escapeHtml(agency)}</span>` +
      `<button type="button" data-act="remove" title="${escapeHtml(t("page.unit.remove"))}">✕</button></div>`;
    html += `<label>${escapeHtml(t("page.unit.type"))}<select data-field="type">` + types.map(([name, spec]) =>
      `<option value="${escapeHtml(name)}"${name === group.type ? " selected" : ""}>${escapeHtml(name)} (${escapeHtml(spec.agency)})</option>`
    ).join("") + "</select></label>";
    html += `<label>${escapeHtml(t("page.unit.count"))}<input data-field="count" type="number" min="1" max="${S.scenario.limits.units}" value="${group.count || 1}"></label>`;
    html += `<label>${escapeHtml(t("page.unit.mode"))}<select data-field="mode">` + S.scenario.modes.map(mode =>
      `<option value="${mode}"${mode === patrol.mode ? " selected" : ""}>${escapeHtml(t(`page.mode.${mode}`))}</option>`
    ).join("") + (S.scenario.modes.includes(patrol.mode) ? "" : `<option selected>${escapeHtml(patrol.mode)}</option>`) + "</select></label>";
    html += `<label>${escapeHtml(t("page.unit.base"))}${siteSelect("base", group.base)}</label>`;
    if (patrol.mode === "post") {
      html += `<label class="wide">${escapeHtml(t("page.unit.post"))}${siteSelect("at", patrol.at)}</label>`;
    } else if (patrol.mode === "circuit") {
      html += `<div class="wide"><div class="muted">${escapeHtml(t("page.unit.route"))}</div><div class="stops">` +
        (patrol.route || []).map((id, k) => `<span class="stop">${k + 1}. ${escapeHtml(siteName(id))}` +
          `<button type="button" data-act="unstop" data-k="${k}" title="${escapeHtml(t("page.unit.removeStop"))}">✕</button></span>`).join("") +
        `</div>${siteSelect("addstop", null, t("page.unit.addStop"))}</div>`;
    } else if (patrol.mode === "random") {
      html += `<div class="wide muted">${escapeHtml(patrol.road_nodes
        ? t("page.unit.randomNodes", {n: patrol.road_nodes, km: patrol.radius_km || 5})
        : t("page.unit.randomSites", {n: (patrol.sites || S.scenario.sites).length}))}</div>`;
    }
    div.innerHTML = html;
    box.appendChild(div);
  });
}

function onGroupsInput(event) {
  const el = event.target;
  const div = el.closest(".group");
  if (!div) return;
  const index = +div.dataset.group;
  const field = el.dataset.field;
  if (!field) return;
  change(state => {
    const group = state.plan.units[index];
    if (field === "type") group.type = el.value;
    if (field === "count") group.count = Math.max(1, parseInt(el.value, 10) || 1);
    if (field === "base") group.base = el.value;
    if (field === "at") group.patrol.at = el.value;
    if (field === "addstop" && el.value) group.patrol.route = [...(group.patrol.route || []), el.value];
    if (field === "mode") group.patrol = defaultPatrol(el.value, group);
  });
}

function onGroupsClick(event) {
  const button = event.target.closest("button");
  const div = event.target.closest(".group");
  if (!div) return;
  const index = +div.dataset.group;
  if (!button) { select(index); return; }
  if (button.dataset.act === "remove") {
    change(state => { state.plan.units.splice(index, 1); });
  } else if (button.dataset.act === "unstop") {
    change(state => { state.plan.units[index].patrol.route.splice(+button.dataset.k, 1); });
  }
}

function select(index) {
  S.selected = index;
  for (const div of document.querySelectorAll("#groups .group")) div.classList.toggle("selected", +div.dataset.group === index);
  const div = document.querySelector(`#groups .group[data-group="${index}"]`);
  if (div) div.scrollIntoView({block: "nearest"});
}

function defaultPatrol(mode, group) {
  const firstIncidentSite = S.scenario.incident_sites[0];
  if (mode === "post") return {mode: "post", at: group.patrol && group.patrol.at ? group.patrol.at : firstIncidentSite};
  if (mode === "circuit") return {mode: "circuit", route: [group.base, firstIncidentSite === group.base
    ? S.scenario.incident_sites[1] : firstIncidentSite], dwell_min: 10};
  if (mode === "random") return {mode: "random", sites: [...S.scenario.incident_sites], dwell_min: 10};
  return {mode: "base"};
}

function addGroup() {
  const [type] = Object.keys(S.scenario.unit_types);
  const base = (S.current.plan.units[0] || {}).base || S.scenario.sites[0].id;
  change(state => { state.plan.units.push({type, count: 1, base, patrol: {mode: "post", at: S.scenario.incident_sites[0]}}); });
  select(S.current.plan.units.length - 1);
}

// A post dropped at (x, y): the nearest road node, a site there (the scenario's, or a post the page
// placed), else a new post; one vehicle of the group moves there (a group of several is split).
function dropPost(index, x, y) {
  const node = MapView.nearestNode(x, y);
  const id = siteAtNode(node) || newPost(node);
  change(state => {
    const group = state.plan.units[index];
    if (!state.sites.some(s => s.id === id) && !S.scenario.sites.some(s => s.id === id)) {
      state.sites.push(S.newSites.get(id));
    }
    if ((group.count || 1) > 1) {
      group.count -= 1;
      state.plan.units.splice(index + 1, 0, {...clone(group), count: 1, patrol: {...group.patrol, at: id}});
    } else {
      group.patrol.at = id;
    }
  });
}

function siteAtNode(node) {
  for (const [id, pos] of S.positions) if (pos.node === node) return id;
  return null;
}

function nearestCell(x, y) {
  let best = null, bestD = Infinity;
  for (const cell of S.scenario.areas.cells) {
    const d = (cell.x - x) ** 2 + (cell.y - y) ** 2;
    if (d < bestD) { bestD = d; best = cell; }
  }
  return best ? best.name : "";
}

function newPost(node) {
  const nodes = MapView.nodes;
  const x = nodes.x[node], y = nodes.y[node];
  const area = nearestCell(x, y);
  const slug = area.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "road";
  let k = 1;
  while (S.positions.has(`post-${slug}-${k}`)) k += 1;
  const id = `post-${slug}-${k}`;
  const site = {id, name: t("page.post.name", {k, area, node}), kind: POST_KIND,
    lat: nodes.lat[node], lon: nodes.lon[node], note: t("page.post.note", {node})};
  S.newSites.set(id, site);
  S.positions.set(id, {x, y, name: site.name, node});
  return id;
}

function drawPlan() {
  MapView.drawUnits("units", S.current.plan, S.current.sites.map(withXY),
    {draggable: !Play.running, onDrop: dropPost, onClick: select});
  MapView.drawUnits("other", S.compare ? S.compare.state.plan : null, S.compare ? S.compare.state.sites.map(withXY) : [],
    {kind: "other"});
  MapView.drawUnits("ghost", S.proposal ? S.proposal.plan : null, S.proposal ? S.proposal.sites.map(withXY) : [],
    {kind: "ghost"});
  MapView.declutter();
  document.getElementById("plan-name").value = S.current.plan.name;
}

function withXY(site) {
  const pos = S.positions.get(site.id);
  return pos ? {...site, x: pos.x, y: pos.y} : site;
}

function updateButtons() {
  document.getElementById("undo").disabled = !S.history.length;
  document.getElementById("redo").disabled = !S.future.length;
}

// -- actions -------------------------------------------------------------------------------------------------
async function currentId() {
  // the id of an evaluation of the plan as it is now (evaluated first if it has changed)
  while (S.busy || S.timer) await new Promise(r => setTimeout(r, 100));
  if (!S.lastEvaluated || !same(S.lastEvaluated, S.current)) {
    await evaluate();
  }
  if (!S.answer || !same(S.lastEvaluated, S.current)) throw new Error(t("page.error.notEvaluated"));
  return S.answer.id;
}

function download(url, name) {
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

async function saveYaml() {
  try {
    const id = await currentId();
    download(`/api/plan.yaml?id=${id}`, `${S.scenario.name}-${S.current.plan.name}.yaml`);
    S.saved = clone(S.current);
    S.savedLabel = S.current.plan.name;
    setStatus("page.status.saved");
    scheduleEvaluate();
  } catch (error) { showError(error); }
}

async function downloadReport() {
  const button = document.getElementById("report");
  button.disabled = true;
  setStatus("page.status.report");
  try {
    const id = await currentId();
    const response = await fetch(`/api/report?id=${id}&lang=${I18N.lang}`, {credentials: "same-origin"});
    if (!response.ok) throw await apiError(response);
    const url = URL.createObjectURL(await response.blob());
    download(url, "report.html");
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    setStatus("page.status.reportDone");
  } catch (error) { showError(error); } finally { button.disabled = false; }
}

async function optimise() {
  const button = document.getElementById("optimise");
  button.disabled = true;
  setStatus("page.status.optimising");
  try {
    const answer = await api("POST", "/api/optimize", {...clone(S.current), ...runOptions()});
    for (const site of answer.sites) {
      const node = MapView.nearestNode(...xyOf(site));
      S.positions.set(site.id, {x: MapView.nodes.x[node], y: MapView.nodes.y[node], name: site.name, node});
      S.newSites.set(site.id, site);
    }
    S.proposal = answer;
    showProposal();
    drawPlan();
    MapView.bringIntoView();
    setStatus("page.status.optimised");
  } catch (error) { showError(error); } finally { button.disabled = false; }
}

// A site's position in the plane from its degrees, by the nearest node in degrees.
function xyOf(site) {
  const nodes = MapView.nodes;
  let best = 0, bestD = Infinity;
  for (let i = 0; i < nodes.lat.length; i++) {
    const d = (nodes.lat[i] - site.lat) ** 2 + (nodes.lon[i] - site.lon) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  }
  return [nodes.x[best], nodes.y[best]];
}

function showProposal() {
  const box = document.getElementById("proposal");
  if (!S.proposal) { box.hidden = true; box.innerHTML = ""; return; }
  const f = S.proposal.figures || {};
  box.hidden = false;
  box.innerHTML = `<div><b>${escapeHtml(t("page.proposal.title"))}</b></div>` +
    `<div class="hint">${escapeHtml(t("page.proposal.text", {units: S.proposal.units,
      covered: formatNumber(f.covered_demand_pct, 1), target: formatNumber(S.scenario.target_min, 0)}))}</div>` +
    `<div class="buttons"><button type="button" class="primary" id="accept">${escapeHtml(t("page.proposal.accept"))}</button>` +
    `<button type="button" id="discard">${escapeHtml(t("page.proposal.discard"))}</button></div>`;
  box.querySelector("#accept").onclick = () => {
    const proposal = S.proposal;
    S.proposal = null;
    showProposal();
    change(state => { state.plan = {...clone(proposal.plan), name: state.plan.name}; state.sites = clone(proposal.sites); });
  };
  box.querySelector("#discard").onclick = () => { S.proposal = null; showProposal(); drawPlan(); };
}

async function pickCompare(value) {
  if (!value) { S.compare = null; drawPlan(); scheduleEvaluate(); return; }
  const state = value === "__saved" ? clone(S.saved) : stateOf(S.scenario.plans.find(p => p.name === value), []);
  const label = value === "__saved" ? t("page.compare.saved") : value;
  S.compare = {label, state, answer: null};
  drawPlan();
  scheduleEvaluate();   // pairs this plan with the one beside; refreshCompare then fetches its own figures
}
