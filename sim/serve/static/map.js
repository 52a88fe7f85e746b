// The map: Leaflet in the network's own plane (L.CRS.Simple, metres; no tiles), the roads shaded
// by drive time from the plan's units, kecamatan cells, sites by share within target, units.
"use strict";
const MapView = {
  map: null, renderer: null, nodes: null, scenario: null, layers: {}, cellLabels: [],
  siteMarkers: new Map(), sites: null, hiddenLabels: 0,
  LABEL_ZOOM: -5.5,   // kecamatan names from this zoom in (further out they cover each other)
  SITE_CLUSTER_PX: 36,   // sites closer than this on screen are drawn as one circle with their count
  CROWDED_UNITS: 40,     // more units than this in view: their labels never cover a site

  init(scenario) {
    this.scenario = scenario;
    this.nodes = decodeNodes(scenario.outline);
    this.map = L.map("map", {crs: L.CRS.Simple, minZoom: -9, maxZoom: 3, zoomSnap: 0.25, zoomDelta: 0.5,
      attributionControl: false, preferCanvas: true});
    this.renderer = L.canvas({padding: 0.3});
    // sites on a canvas of their own above the roads (roads are drawn again after every answer)
    this.map.createPane("sites").style.zIndex = 450;
    this.siteRenderer = L.canvas({padding: 0.3, pane: "sites"});
    for (const name of ["cells", "roads", "circuits", "other", "units", "ghost", "play"]) {
      this.layers[name] = L.layerGroup().addTo(this.map);
    }
    // Sites crowding together on screen become one circle (Leaflet.markercluster): its count, and the
    // pooled share of its incidents within the target; a click zooms in until they stand apart.
    this.sites = L.markerClusterGroup({maxClusterRadius: this.SITE_CLUSTER_PX, animate: false,
      showCoverageOnHover: false, spiderfyOnMaxZoom: true, zoomToBoundsOnClick: true, chunkedLoading: true,
      iconCreateFunction: cluster => siteClusterIcon(cluster)});
    this.layers.sites = this.sites;
    this.map.addLayer(this.sites);
    const xs = this.nodes.x, ys = this.nodes.y;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] < x0) x0 = xs[i]; if (xs[i] > x1) x1 = xs[i];
      if (ys[i] < y0) y0 = ys[i]; if (ys[i] > y1) y1 = ys[i];
    }
    this.bounds = L.latLngBounds([y0, x0], [y1, x1]);
    // room for the synthetic-network note at the top and the key at the bottom (when it lies over the map)
    const keyOver = getComputedStyle(document.getElementById("map-legend")).position === "absolute";
    this.map.fitBounds(this.bounds, {paddingTopLeft: [10, 40], paddingBottomRight: [10, keyOver ? 56 : 10]});
    this.map.setMaxBounds(this.bounds.pad(0.5));
    this.map.on("zoomend", () => { this.labelsByZoom(); this.declutter(); });
    this.map.on("resize", () => this.declutter());
    this.drawCells(null);
    this.drawRoads(null);
    this.labelsByZoom();
  },

  // Scroll the page to the map when it is out of sight (in the one-column layout Play and Optimise
  // stand below it); the wide layout never scrolls.
  bringIntoView() {
    const box = document.getElementById("map-box").getBoundingClientRect();
    if (document.documentElement.scrollHeight > window.innerHeight && (box.top < 0 || box.bottom > window.innerHeight)) {
      document.getElementById("map-box").scrollIntoView({behavior: "smooth", block: "start"});
    }
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

  // Every site once (a circle, in the cluster group); each answer restyles them: incident sites by
  // their share within the target, others small and dark.
  drawSites(siteRows) {
    const rows = new Map((siteRows || []).map(row => [row.site, row]));
    const incidentSites = new Set(this.scenario.incident_sites);
    const fresh = !this.siteMarkers.size;
    for (const site of this.scenario.sites) {
      const row = rows.get(site.id);
      const hasIncidents = incidentSites.has(site.id);
      const share = row && row.incidents ? shareOf(row) : null;
      const style = hasIncidents
        ? {radius: 7, color: share === null ? COLOURS.noResultEdge : COLOURS.siteEdge, weight: 1.5,
          fillColor: shareColour(share), fillOpacity: 1}
        : {radius: 3.5, color: COLOURS.siteKind, weight: 1, fillColor: COLOURS.siteKind, fillOpacity: 1};
      let marker = this.siteMarkers.get(site.id);
      if (!marker) {
        marker = L.circleMarker([site.y, site.x], {...style, renderer: this.siteRenderer, pane: "sites"});
        marker.bindTooltip(() => siteTooltip(site, marker.row, hasIncidents), {direction: "top", offset: [0, -6]});
        this.siteMarkers.set(site.id, marker);
      } else {
        marker.setStyle(style);
      }
      marker.row = row;
      marker.incidents = row && row.incidents ? row.incidents : 0;
      marker.within = share === null ? 0 : (share * marker.incidents) / 100;
    }
    if (fresh) this.sites.addLayers([...this.siteMarkers.values()]);
    else this.sites.refreshClusters();
  },

  // The plan's units: one marker per group where it stands (post, base) or starts (circuit, random):
  // a dot at the place, and its label beside it (declutter() places the labels: call it once after).
  drawUnits(layerName, plan, sites, options) {
    const layer = this.layers[layerName];
    layer.clearLayers();
    if (!plan) return;
    const where = sitePositions(this.scenario.sites, sites);
    plan.units.forEach((group, index) => {
      const patrol = group.patrol || {mode: "base"};
      const siteId = patrol.mode === "post" ? patrol.at : patrol.mode === "circuit" ? (patrol.route || [])[0] : group.base;
      const pos = where.get(siteId);
      if (!pos) return;
      const agency = (this.scenario.unit_types[group.type] || {}).agency || "";
      const symbol = {post: "", base: "⌂ ", circuit: "↻ ", random: "~ "}[patrol.mode] || "";
      const draggable = options.draggable && patrol.mode === "post";
      const kind = options.kind || "plan";
      const html = `<div class="unit-leader ${kind}"></div>` +
        `<div class="unit-dot ${kind}" data-group="${index}">${agencyShape(agency)}</div>` +
        `<div class="unit-icon ${kind}${draggable ? " draggable" : ""}" ` +
        `data-group="${index}">${symbol}${group.count || 1}× ${escapeHtml(agency || group.type)}</div>`;
      const marker = L.marker([pos.y, pos.x], {icon: L.divIcon({className: "unit-marker", html, iconSize: [0, 0],
        iconAnchor: [0, 0]}), draggable, keyboard: false, zIndexOffset: options.kind ? 500 : 1000, autoPan: true});
      marker.bindTooltip(unitTooltip(group, patrol, agency, where), {direction: "right", offset: [10, 0]});
      if (options.onClick) marker.on("click", () => options.onClick(index));
      if (draggable) marker.on("dragend", event => {
        const ll = event.target.getLatLng();
        options.onDrop(index, ll.lng, ll.lat);
      });
      marker.addTo(layer);
    });
  },

  // Each unit's label beside its dot, or a little further out with a leader line (labels.js); a
  // label covers no dot, label, leader line or box over the map, and avoids the sites' circles
  // where it can (always, with more than CROWDED_UNITS units in view). A label with no such place
  // is not shown (its dot and its tooltip are): the map says how many.
  declutter() {
    const size = this.map.getSize();
    // the key lies over the bottom of the map in the wide layout, below it in the narrow one
    const legend = document.getElementById("map-legend");
    const overlaid = legend && getComputedStyle(legend).position === "absolute";
    const bottom = size.y - (overlaid ? legend.offsetHeight : 0) - 2;
    const seen = p => p.x >= 0 && p.y >= 0 && p.x <= size.x && p.y <= bottom;
    const units = [];
    for (const name of ["units", "ghost", "other"]) {
      this.layers[name].eachLayer(marker => {
        const el = marker.getElement && marker.getElement();
        if (!el) return;
        const label = el.querySelector(".unit-icon");
        label.style.display = "";
        units.push({label, leaderEl: el.querySelector(".unit-leader"),
          p: this.map.latLngToContainerPoint(marker.getLatLng())});
      });
    }
    for (const u of units) { u.w = u.label.offsetWidth; u.h = u.label.offsetHeight; }   // one layout for all
    const solid = new BoxGrid(), sites = new BoxGrid();
    // the boxes floating over the map (zoom buttons, the synthetic-network note, the proposal, the clock)
    const origin = this.map.getContainer().getBoundingClientRect();
    for (const el of document.querySelectorAll("#map-wrap .leaflet-control, #synthetic, #proposal, #play-box")) {
      const r = el.getBoundingClientRect();
      if (r.width && r.height) solid.add({x0: r.left - origin.left, x1: r.right - origin.left, y0: r.top - origin.top,
        y1: r.bottom - origin.top});
    }
    for (const r of this.siteBoxes(seen)) sites.add(r);
    // with many units in view a label gives way to the sites' circles (the dots' colours say the agency)
    const crowded = units.filter(({p}) => seen(p)).length > this.CROWDED_UNITS;
    const places = placeLabels(units, solid, sites, size.x, bottom, crowded);
    let hidden = 0;
    units.forEach((u, i) => {
      const place = places[i];
      if (!place) {
        u.label.style.display = "none";
        u.leaderEl.style.display = "none";
        if (seen(u.p)) hidden += 1;   // a unit off the screen has no label to miss
        return;
      }
      u.label.style.left = `${place.dx}px`;
      u.label.style.top = `${place.dy}px`;
      drawLeader(u.leaderEl, place.leader);
    });
    this.hiddenLabels = hidden;
    const note = document.getElementById("labels-hidden");
    if (note) {
      note.hidden = !hidden;
      note.style.bottom = `${size.y - bottom + 6}px`;
      note.textContent = hidden ? t("page.map.labelsHidden", {n: hidden}) : "";
    }
  },

  // What stands for a site on the map now: its own circle, the circle of the sites crowding with it,
  // or null (out of view). (getVisibleParent alone knows only icons, and a site's circle is none.)
  siteShownAs(marker) {
    return this.map.hasLayer(marker) ? marker : this.sites.getVisibleParent(marker);
  },

  // Boxes (screen pixels) of the sites' circles and clusters in view.
  siteBoxes(seen) {
    const shown = new Set();
    for (const marker of this.siteMarkers.values()) {
      const parent = this.siteShownAs(marker);
      if (parent) shown.add(parent);
    }
    const boxes = [];
    for (const layer of shown) {
      const p = this.map.latLngToContainerPoint(layer.getLatLng());
      if (!seen(p)) continue;
      const icon = layer.getElement && layer.getElement();
      const r = icon ? icon.offsetWidth / 2 : layer.getRadius() + 1;
      boxes.push({x0: p.x - r, x1: p.x + r, y0: p.y - r, y1: p.y + r});
    }
    return boxes;
  },

  drawCircuits(paths) {
    const layer = this.layers.circuits;
    layer.clearLayers();
    for (const path of paths || []) {
      const latlngs = path.map(node => [this.nodes.y[node], this.nodes.x[node]]);
      L.polyline(latlngs, {renderer: this.renderer, color: COLOURS.circuit, weight: 2.5, dashArray: "6 5", opacity: 0.8,
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

// A unit's dot: its agency told by its shape (the scenario's agencies in turn), as SVG.
const SHAPES = {
  circle: '<circle r="6"/>',
  square: '<rect x="-5.5" y="-5.5" width="11" height="11"/>',
  diamond: '<polygon points="0,-7.5 7.5,0 0,7.5 -7.5,0"/>',
  triangle: '<polygon points="0,-7.5 7,5.5 -7,5.5"/>',
  hexagon: '<polygon points="0,-7 6,-3.5 6,3.5 0,7 -6,3.5 -6,-3.5"/>',
};
function agencies() {
  return [...new Set(Object.values(MapView.scenario.unit_types).map(spec => spec.agency))];
}
function agencyShape(agency) {
  const names = Object.keys(SHAPES);
  const k = agencies().indexOf(agency);
  return `<svg viewBox="-8 -8 16 16" width="16" height="16" aria-hidden="true">${SHAPES[names[Math.max(k, 0) % names.length]]}</svg>`;
}

// A circle standing for several sites: their number, coloured by the pooled share of their incidents
// within the target (no colour of the scale when none has counted incidents).
function siteClusterIcon(cluster) {
  const markers = cluster.getAllChildMarkers();
  let incidents = 0, within = 0;
  for (const m of markers) { incidents += m.incidents || 0; within += m.within || 0; }
  const share = incidents ? (100 * within) / incidents : null;
  const n = markers.length;
  const px = Math.round(Math.min(40, 18 + 5 * Math.log10(n) * 2));
  const title = t("page.site.cluster", {n: formatNumber(n, 0), incidents: formatNumber(incidents, 0),
    share: share === null ? "–" : formatNumber(share, 0)});
  return L.divIcon({className: "site-cluster", iconSize: [px, px], html:
    `<div title="${escapeHtml(title)}" class="${shareCss(share)}" ` +
    `style="width:${px}px;height:${px}px;line-height:${px}px">${formatNumber(n, 0)}</div>`});
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
