// Every colour of the planning page, in one place. The share of incidents reached within the target
// has one scale in every figure and page (sim/viz/palette.py: cividis classes, colour-blind safe,
// readable in grey), read at start from the palette's own file for pages (share_scale.json; its
// CSS classes come with share_scale.css); the drive-time bands (greens up to the target, oranges
// beyond) and the units' colour come with the scenario from the same module. Agencies are told
// apart by the shape of a unit's dot, never by a colour. The CSS reads the rest as custom properties.
"use strict";
const COLOURS = {
  share: [],              // the share scale's classes, lowest first: {from, colour, ink} (palette)
  noResult: "#eeeeee",    // no counted incidents: no colour of the scale (palette)
  noResultEdge: "#8c8c8c",
  siteKind: "#3d3d3d",    // sites where no incident happens (bases, offices) (palette)
  bands: [],              // minutes to the nearest unit, by band (palette, per scenario)
  beyond: "#c9c9c9",      // beyond the last band (palette)
  unit: "#b0197a",        // the plan's units (palette)
  siteEdge: "#222222",    // the ring of every incident site's circle
  road: "#9a9a9a",
  cellLine: "#7a6f9b",
  cellLabel: "#4a4070",
  circuit: "#1f3b8f",
  other: "#555555",       // the plan shown beside this one
  unitState: ["#8c8c8c", "#1f5fbf", "#f07f00", "#8e2bc9", "#1a9e77"],  // play: standing, patrolling, to incident, on scene, returning
  unitEdge: "#1d1d1f",
  incidentState: ["#ffffff", "#e3111b", "#f0a800", "#8e2bc9", "#2a9d3a", "#8c8c8c", "#ffe600"],
  dispatch: "#f07f00",
  css: {
    "--ink": "#1d1d1f", "--muted": "#5f6368", "--line": "#d9d9de", "--panel": "#f7f7f9", "--accent": "#1f3b8f",
    "--accent-ink": "#ffffff", "--warn": "#8a4b08", "--warn-bg": "#fff4e0", "--progress": "#2171b5",
    "--better": "#1b6fb3", "--worse": "#c0392b", "--unclear": "#666666",
    "--other": "#555555", "--ghost-fill": "rgba(255,255,255,0.88)", "--marker-edge": "rgba(0,0,0,0.6)",
    "--leader": "#1d1d1f", "--leader-halo": "rgba(255,255,255,0.9)",
  },
};

// The palette's share scale and the scenario's band and unit colours (before anything is drawn).
async function loadColours(scenario) {
  const scale = await api("GET", "/static/share_scale.json");
  COLOURS.share = scale.classes.map(c => ({from: c.low_pct, colour: c.colour, ink: c.ink}));
  COLOURS.noResult = scale.none.colour;
  COLOURS.noResultEdge = scale.none.edge;
  COLOURS.siteKind = scale.site_kind_colour;
  COLOURS.bands = scenario.colours.bands;
  COLOURS.beyond = scenario.colours.beyond;
  COLOURS.unit = scenario.colours.unit;
  document.documentElement.style.setProperty("--unit", COLOURS.unit);
}

// The class of a share in the scale (index, lowest first), or -1 for none.
function shareClass(pct) {
  if (pct === null || pct === undefined || Number.isNaN(pct)) return -1;
  let found = 0;
  COLOURS.share.forEach((c, k) => { if (pct >= c.from) found = k; });
  return found;
}
function shareColour(pct) {
  const k = shareClass(pct);
  return k < 0 ? COLOURS.noResult : COLOURS.share[k].colour;
}
// The CSS class of share_scale.css for a share: background and the ink that reads on it.
function shareCss(pct) {
  const k = shareClass(pct);
  return k < 0 ? "share-none" : `share-${k}`;
}
function bandColour(band) {
  return band < COLOURS.bands.length ? COLOURS.bands[band] : COLOURS.beyond;
}
for (const [name, value] of Object.entries(COLOURS.css)) document.documentElement.style.setProperty(name, value);
