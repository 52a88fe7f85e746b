// Every colour of the planning page, in one place (the report and maps may take theirs from here
// later). The CSS reads them as custom properties set from COLOURS.css at start.
// "Share within target" uses a ColorBrewer RdYlBu scale (colour-blind safe: red, orange, blue),
// drive-time bands a blue-to-orange scale (within the target blue, beyond it orange, far grey).
"use strict";
const COLOURS = {
  share: [            // sites by share of incidents reached within the target, lowest class first
    {from: 0, colour: "#d7191c"},
    {from: 50, colour: "#fdae61"},
    {from: 90, colour: "#2c7bb6"},
  ],
  noResult: "#9e9e9e",
  siteEdge: "#222222",    // the ring of every site's circle
  otherSite: "#444444",   // sites where no incident happens (bases, offices)
  bands: ["#08306b", "#2171b5", "#6baed6", "#f4a259"],  // minutes to the nearest unit, by band
  beyond: "#c8c8c8",
  road: "#9a9a9a",
  cellLine: "#7a6f9b",
  cellLabel: "#4a4070",
  agency: {Polri: "#1f3b8f", TNI: "#4d6b1f", "Satpol PP": "#8a4b08", Dishub: "#5b2c83", other: "#333333"},
  ghost: "#e6007e",       // the optimiser's proposal
  other: "#555555",       // the plan shown beside this one
  unitState: ["#8c8c8c", "#1f5fbf", "#f07f00", "#8e2bc9", "#1a9e77"],  // standing, patrolling, to incident, on scene, returning
  incidentState: ["#ffffff", "#e3111b", "#f0a800", "#8e2bc9", "#2a9d3a", "#8c8c8c", "#ffe600"],
  dispatch: "#f07f00",
  better: "#1b6fb3",
  worse: "#c0392b",
  unclear: "#666666",
  css: {
    "--ink": "#1d1d1f", "--muted": "#5f6368", "--line": "#d9d9de", "--panel": "#f7f7f9", "--accent": "#1f3b8f",
    "--accent-ink": "#ffffff", "--warn": "#8a4b08", "--warn-bg": "#fff4e0", "--progress": "#2171b5",
    "--better": "#1b6fb3", "--worse": "#c0392b", "--unclear": "#666666", "--ghost": "#e6007e",
    "--other": "#555555", "--ghost-fill": "rgba(255,255,255,0.88)", "--marker-edge": "rgba(0,0,0,0.6)",
    "--leader": "#1d1d1f", "--leader-halo": "rgba(255,255,255,0.9)",
  },
};
function shareColour(pct) {
  if (pct === null || pct === undefined || Number.isNaN(pct)) return COLOURS.noResult;
  let colour = COLOURS.share[0].colour;
  for (const c of COLOURS.share) if (pct >= c.from) colour = c.colour;
  return colour;
}
// Ink that reads on a share's colour: white on dark classes, black on light ones.
function shareInk(pct) {
  const [r, g, b] = [1, 3, 5].map(k => parseInt(shareColour(pct).slice(k, k + 2), 16) / 255);
  return 0.299 * r + 0.587 * g + 0.114 * b < 0.5 ? "#ffffff" : "#000000";
}
function bandColour(band) {
  return band < COLOURS.bands.length ? COLOURS.bands[band] : COLOURS.beyond;
}
function agencyColour(agency) {
  return COLOURS.agency[agency] || COLOURS.agency.other;
}
for (const [name, value] of Object.entries(COLOURS.css)) document.documentElement.style.setProperty(name, value);
