// The map: Leaflet in the network's own plane (L.CRS.Simple, metres; no tiles), the roads shaded
// by drive time from the plan's units, kecamatan cells, sites by share within target, units.
"use strict";
const MapView = {
  map: null, renderer: null, nodes: null, scenario: null, layers: {}, cellLabels: [],
  LABEL_ZOOM: -5.5,   // kecamatan names from this zoom in (further out they cover each other)

  init(scenario) {
    this.scenario = scenario;
    this.nodes = decodeNodes(scenario.outline);
    this.map = L.map("map", {crs: L.CRS.Simple, minZoom: -9, maxZoom: 3, zoomSnap: 0.25, zoomDelta: 0.5,
      attributionControl: false, preferCanvas: true});
    this.renderer = L.canvas({padding: 0.3});
    for (const name of ["cells", "roads", "circuits", "sites", "other", "units", "ghost", "play"]) {
      this.layers[name] = L.layerGroup().addTo(this.map);
    }
    const xs = this.nodes.x, ys = this.nodes.y;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] < x0) x0 = xs[i]; if (xs[i] > x1) x1 = xs[i];
      if (ys[i] < y0) y0 = ys[i]; if (ys[i] > y1) y1 = ys[i];
    }
    this.bounds = L.latLngBounds([y0, x0], [y1, x1]);
    // room for the synthetic-network note at the top and the key at the bottom
    this.map.fitBounds(this.bounds, {paddingTopLeft: [10, 40], paddingBottomRight: [10, 56]});
    this.map.setMaxBounds(this.bounds.pad(0.5));
    this.map.on("zoomend", () => { this.labelsByZoom(); this.declutter(); });
    this.drawCells(null);
    this.drawRoads(null);
    this.labelsByZoom();
  },

  labelsByZoom() {
    this.map.getContainer().classList.toggle("map-hidden-labels", this.map.getZoom() < this.LABEL_ZOOM);
  },

  // Roads by class, each segment in the band of the later of its two ends (as the maps shade them).
  drawRoads(bandText) {
    const layer = this.layers.roads;
    layer.clearLayers();
    const nx = this.nodes.x, ny = this.nodes.y;
    for (const road of this.scenario.outline.roads) {
      const weight = Math.max(0.7, road.width * 1.25);
      const byBand = new Map();
      for (const line of road.lines) {
        let node = 0, prev = -1, run = null, runBand = -1;
        for (let k = 0; k < line.length; k++) {
          node += line[k];
          if (prev >= 0) {
            const band = bandText ? Math.max(+bandText[prev], +bandText[node]) : -1;
            if (band !== runBand || run === null) {
              run = [[ny[prev], nx[prev]]];
              runBand = band;
              if (!byBand.has(band)) byBand.set(band, []);
              byBand.get(band).push(run);
            }
            run.push([ny[node], nx[node]]);
          }
          prev = node;
        }
      }
      for (const [band, runs] of byBand) {
        const colour = band < 0 ? COLOURS.road : bandColour(band);
        L.polyline(runs, {renderer: this.renderer, color: colour, weight, opacity: 0.95, interactive: false,
          smoothFactor: 1.5}).addTo(layer);
      }
    }
  },

  // Kecamatan as nearest-centre cells, shaded by the plan's share within target where rows say it.
  drawCells(areaRows) {
    const layer = this.layers.cells;
    layer.clearLayers();
    const byName = new Map((areaRows || []).filter(row => row.incidents > 0).map(row => [String(row.area), row]));
    for (const cell of this.scenario.areas.cells) {
      const row = byName.get(cell.name);
      const share = row ? shareOf(row) : null;
      const poly = L.polygon(cell.ring.map(([x, y]) => [y, x]), {renderer: this.renderer, color: COLOURS.cellLine,
        weight: 0.8, dashArray: "4 3", fill: row !== undefined, fillColor: shareColour(share), fillOpacity: 0.12,
        interactive: false});
      poly.addTo(layer);
      L.tooltip({permanent: true, direction: "center", className: "cell-label", interactive: false})
        .setLatLng([cell.y, cell.x]).setContent(escapeHtml(cell.name)).addTo(layer);
    }
  },

  drawSites(siteRows) {
    const layer = this.layers.sites;
    layer.clearLayers();
    const rows = new Map((siteRows || []).map(row => [row.site, row]));
    const incidentSites = new Set(this.scenario.incident_sites);
    for (const site of this.scenario.sites) {
      const row = rows.get(site.id);
      const hasIncidents = incidentSites.has(site.id);
      const marker = L.circleMarker([site.y, site.x], hasIncidents
        ? {radius: 7, color: "#222", weight: 1.5, fillColor: shareColour(row && row.incidents ? shareOf(row) : null), fillOpacity: 1}
        : {radius: 3.5, color: "#222", weight: 1, fillColor: "#444", fillOpacity: 1});
      marker.bindTooltip(siteTooltip(site, row, hasIncidents), {direction: "top", offset: [0, -6]});
      marker.addTo(layer);
    }
  },

  // The plan's units: one marker per group where it stands (post, base) or starts (circuit, random).
  drawUnits(layerName, plan, sites, options) {
    const layer = this.layers[layerName];
    layer.clearLayers();
    if (!plan) return;
    const where = sitePositions(this.scenario.sites, sites);
    const stacked = new Map();
    plan.units.forEach((group, index) => {
      const patrol = group.patrol || {mode: "base"};
      const siteId = patrol.mode === "post" ? patrol.at : patrol.mode === "circuit" ? (patrol.route || [])[0] : group.base;
      const pos = where.get(siteId);
      if (!pos) return;
      const key = `${Math.round(pos.x)}:${Math.round(pos.y)}`;
      const k = stacked.get(key) || 0;
      stacked.set(key, k + 1);
      const agency = (this.scenario.unit_types[group.type] || {}).agency || "";
      const symbol = {post: "", base: "⌂ ", circuit: "↻ ", random: "~ "}[patrol.mode] || "";
      const draggable = options.draggable && patrol.mode === "post";
      const cls = ["unit-icon", options.kind || "", draggable ? "draggable" : ""].join(" ");
      const html = `<div class="${cls}" style="background:${agencyColour(agency)}"
        data-group="${index}">${symbol}${group.count || 1}× ${escapeHtml(agency || group.type)}</div>`;
      const marker = L.marker([pos.y, pos.x], {icon: L.divIcon({className: "", html, iconSize: null}),
        draggable, keyboard: false, zIndexOffset: options.kind ? -100 : 100, autoPan: true});
      marker.bindTooltip(unitTooltip(group, patrol, agency, where), {direction: "right", offset: [14, 0]});
      if (options.onClick) marker.on("click", () => options.onClick(index));
      if (draggable) marker.on("dragend", event => {
        const ll = event.target.getLatLng();
        options.onDrop(index, ll.lng, ll.lat);
      });
      marker.addTo(layer);
    });
    this.declutter();
  },

  // Unit markers that would cover each other are moved down, in screen pixels, until they do not
  // (the marker's point stays where the unit stands; a thin line joins a moved badge to it).
  declutter() {
    const placed = [];
    const GAP = 2;
    for (const name of ["units", "other", "ghost"]) {
      this.layers[name].eachLayer(marker => {
        const el = marker.getElement && marker.getElement();
        const badge = el && el.firstElementChild;
        if (!badge) return;
        const p = this.map.latLngToContainerPoint(marker.getLatLng());
        const w = badge.offsetWidth + GAP, h = badge.offsetHeight + GAP;
        const free = (dx, dy) => !placed.some(r => p.x + dx - w / 2 < r.x1 && p.x + dx + w / 2 > r.x0 &&
          p.y + dy - h / 2 < r.y1 && p.y + dy + h / 2 > r.y0);
        // the nearest free spot in rings around the unit: below, above, right, left, then diagonals
        let spot = [0, 0];
        search: for (let ring = 0; ring <= 6; ring++) {
          for (const [kx, ky] of ringOffsets(ring)) {
            if (free(kx * w, ky * h)) { spot = [kx * w, ky * h]; break search; }
          }
        }
        placed.push({x0: p.x + spot[0] - w / 2, x1: p.x + spot[0] + w / 2, y0: p.y + spot[1] - h / 2,
          y1: p.y + spot[1] + h / 2});
        badge.style.transform = `translate(calc(-50% + ${spot[0]}px), calc(-50% + ${spot[1]}px))`;
        badge.classList.toggle("moved", spot[0] !== 0 || spot[1] !== 0);
      });
    }
  },

  drawCircuits(paths) {
    const layer = this.layers.circuits;
    layer.clearLayers();
    for (const path of paths || []) {
      const latlngs = path.map(node => [this.nodes.y[node], this.nodes.x[node]]);
      L.polyline(latlngs, {renderer: this.renderer, color: "#1f3b8f", weight: 2.5, dashArray: "6 5", opacity: 0.8,
        interactive: false}).addTo(layer);
    }
  },

  nearestNode(x, y) {
    const nx = this.nodes.x, ny = this.nodes.y;
    let best = -1, bestD = Infinity;
    for (let i = 0; i < nx.length; i++) {
      const d = (nx[i] - x) ** 2 + (ny[i] - y) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  },
};

// Offsets (in badge widths and heights) of ring k around a point, nearest first.
function ringOffsets(k) {
  if (k === 0) return [[0, 0]];
  const found = [];
  for (let kx = -k; kx <= k; kx++) for (let ky = -k; ky <= k; ky++) {
    if (Math.max(Math.abs(kx), Math.abs(ky)) === k) found.push([kx, ky]);
  }
  return found.sort((a, b) => (Math.abs(a[0]) + Math.abs(a[1])) - (Math.abs(b[0]) + Math.abs(b[1])) || b[1] - a[1]);
}

function decodeNodes(outline) {
  const n = outline.nodes;
  const arrays = {};
  for (const [name, scale] of [["x", 1], ["y", 1], ["lon7", 1e-7], ["lat7", 1e-7]]) {
    const out = new Float64Array(n);
    let v = 0;
    const deltas = outline[name];
    for (let i = 0; i < n; i++) { v += deltas[i]; out[i] = v; }
    if (scale !== 1) for (let i = 0; i < n; i++) out[i] = Math.round(out[i]) * scale;
    arrays[name] = out;
  }
  return {x: arrays.x, y: arrays.y, lon: arrays.lon7, lat: arrays.lat7};
}

// Site id -> {x, y, name}: the scenario's sites and those the plan adds.
function sitePositions(scenarioSites, planSites) {
  const where = new Map(scenarioSites.map(s => [s.id, {x: s.x, y: s.y, name: s.name}]));
  for (const s of planSites || []) where.set(s.id, {x: s.x, y: s.y, name: s.name});
  return where;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

function siteTooltip(site, row, hasIncidents) {
  let html = `<b>${escapeHtml(site.name)}</b>`;
  if (site.approximate) html += `<br><i>${escapeHtml(t("page.site.approximate"))}</i>`;
  if (!hasIncidents) return html + `<br>${escapeHtml(t("page.site.noIncidents"))}`;
  if (!row || !row.incidents) return html + `<br>${escapeHtml(t("page.site.noCounted"))}`;
  html += `<br>${escapeHtml(t("page.site.share", {share: formatNumber(shareOf(row), 1),
    n: formatNumber(row.incidents, 0)}))}`;
  html += `<br>${escapeHtml(t("page.site.mean", {mean: formatNumber(row.response_mean_min, 1)}))}`;
  return html;
}

function unitTooltip(group, patrol, agency, where) {
  const name = id => escapeHtml((where.get(id) || {name: id}).name);
  let text = `<b>${group.count || 1}× ${escapeHtml(group.type)}</b> (${escapeHtml(agency)})<br>`;
  text += escapeHtml(t(`page.mode.${patrol.mode}`));
  if (patrol.mode === "post") text += `: ${name(patrol.at)}`;
  if (patrol.mode === "circuit") text += `: ${(patrol.route || []).map(name).join(" → ")}`;
  text += `<br>${escapeHtml(t("page.unit.base"))}: ${name(group.base)}`;
  return text;
}
