/* The animation page: the network drawn once per panel (the regency and the city beside it, or
 * the city), units, incidents and dispatch lines per frame, a play button and a time slider.
 * Data: the JSON in #data (see sim/viz/animate_html.py, html_data); per-frame arrays are base64
 * typed arrays, frame-major ([k * U + u]); positions are 0..65535 across the extent. Each panel
 * maps metres from the extent's corner to the canvas: x = tx + s * xm, y = ty - s * ym.
 */
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const S = D.style;
function decode(b64, Type) {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return new Type(bytes.buffer);
}
const unitX = decode(D.unit_x, Uint16Array), unitY = decode(D.unit_y, Uint16Array);
const unitState = decode(D.unit_state, Uint8Array), unitTarget = decode(D.unit_target, Int16Array);
const incState = decode(D.incident_state, Uint8Array), incOpacity = decode(D.incident_opacity, Uint8Array);
const segments = decode(D.segments, Int32Array), segClass = decode(D.segment_class, Uint8Array);
const unitText = decode(D.unit_text, D.unit_text_bytes === 1 ? Int8Array : Int16Array);
const panels = D.panels.map(p => Object.assign({}, p, {spots: decode(p.unit_spots, Int8Array)}));
const U = D.units, I = D.incident_x.length, T = D.frames;
const isJoint = text => text >= U && text < U + D.joint_count;   // a joint patrol's marker (a ring)

// The message ``key`` (the catalogue's anim.*, in the page's language) with its {placeholders} filled.
function t(key, values) {
  const text = D.messages[key];
  if (text === undefined) return key;
  return values ? text.replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all)) : text;
}
// A number with ``digits`` decimals (none given: as it is), grouped, with the language's marks.
function num(value, digits) {
  const text = digits === undefined ? String(value) : Number(value).toFixed(digits);
  const [whole, fraction] = text.split(".");
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u0000").replace(/\u0000/g, D.messages["number.group"]) +
    (fraction === undefined ? "" : D.messages["number.decimal"] + fraction);
}

document.getElementById("title").textContent = D.title;
document.title = D.title + (D.synthetic ? " (" + D.note + ")" : "");
document.getElementById("note").textContent = D.synthetic ? D.note : "";
document.getElementById("note").style.color = S.note;
document.getElementById("speed").textContent = D.speed;

const canvas = document.getElementById("map");
// Fit the map to the window so the controls stay in view; it is drawn at a fixed size and scaled.
function fit() {
  const room = Math.max(window.innerHeight - 230, 240) * D.map_px[0] / D.map_px[1];
  document.getElementById("wrap").style.maxWidth = Math.min(D.map_px[0], Math.floor(room)) + "px";
}
window.addEventListener("resize", fit);
fit();
const W = D.map_px[0], H = D.map_px[1];   // the size animate_html.py placed the labels for
const ratio = window.devicePixelRatio || 1;
canvas.width = W * ratio; canvas.height = H * ratio;
const ctx = canvas.getContext("2d");
ctx.scale(ratio, ratio);
// Canvas position of metres from the extent's corner, and of a quantised position, in a panel.
const toCanvas = (p, xm, ym) => [p.transform[1] + p.transform[0] * xm, p.transform[2] - p.transform[0] * ym];
const quantised = (p, qx, qy) => toCanvas(p, qx / 65535 * D.extent_m[0], qy / 65535 * D.extent_m[1]);
function clipTo(g, p) { g.save(); g.beginPath(); g.rect(p.rect[0], p.rect[1], p.rect[2], p.rect[3]); g.clip(); }
// Whether a unit's point lies in a panel's rectangle (it is drawn there).
function inPanel(p, at) {
  return at[0] >= p.rect[0] && at[0] <= p.rect[0] + p.rect[2] && at[1] >= p.rect[1] && at[1] <= p.rect[1] + p.rect[3];
}

// The box a text drawn with textBaseline "bottom" covers: [x0, y0, x1, y1] on the canvas.
function textBox(g, text, x, y, align) {
  const m = g.measureText(text);
  const x0 = align === "left" ? x : align === "right" ? x - m.width : x - m.width / 2;
  return [x0, y - m.actualBoundingBoxAscent, x0 + m.width, y + m.actualBoundingBoxDescent];
}
// What was drawn (what tests check): fixed labels once, the shown frame's unit labels and leader lines,
// each unit label with its marker's point.
const siteLabelBoxes = [], siteLabelTexts = [];
let unitLabelBoxes = [], unitLabelPoints = [], leaderLines = [];

function halo(g, text, x, y, colour, width) {
  g.strokeStyle = S.halo; g.lineWidth = width; g.strokeText(text, x, y);
  g.fillStyle = colour; g.fillText(text, x, y);
}

// The network, sites and fixed names are drawn once onto an off-screen canvas; each frame copies it.
const background = document.createElement("canvas");
background.width = canvas.width; background.height = canvas.height;
(function drawBackground() {
  const g = background.getContext("2d");
  g.scale(ratio, ratio);
  g.fillStyle = S.halo; g.fillRect(0, 0, W, H);
  g.lineJoin = "round";
  for (const p of panels) {
    clipTo(g, p);
    for (let rank = 2; rank >= 0; rank--) {
      g.strokeStyle = S.roads[rank][0]; g.lineWidth = S.roads[rank][1] * 1.15;
      g.beginPath();
      for (let s = 0; s < segClass.length; s++) {
        if (segClass[s] !== rank) continue;
        const a = toCanvas(p, segments[4 * s] / 10, segments[4 * s + 1] / 10);   // decimetres
        const b = toCanvas(p, segments[4 * s + 2] / 10, segments[4 * s + 3] / 10);
        g.moveTo(a[0], a[1]); g.lineTo(b[0], b[1]);
      }
      g.stroke();
    }
    for (const [, xm, ym, isBase, named, beyond] of D.sites) {   // the unnamed many first, small
      if (named) continue;
      const [x, y] = toCanvas(p, xm, ym), r = beyond ? 1.5 : 1;
      g.fillStyle = beyond ? S.beyond : S.many_site; g.fillRect(x - r, y - r, 2 * r, 2 * r);
    }
    for (const [, xm, ym, isBase, named, beyond] of D.sites) {
      if (!named) continue;
      const [x, y] = toCanvas(p, xm, ym);
      if (beyond) {
        g.strokeStyle = S.beyond; g.lineWidth = 2;
        g.beginPath(); g.arc(x, y, 7.5, 0, 2 * Math.PI); g.stroke();
      }
      g.fillStyle = isBase ? S.base : S.site;
      g.beginPath();
      if (isBase) { g.moveTo(x, y - 6); g.lineTo(x + 5, y + 4); g.lineTo(x - 5, y + 4); }
      else { g.rect(x - 3, y - 3, 6, 6); }
      g.fill();
    }
    if (p.city_box_m) {
      const a = toCanvas(p, p.city_box_m[0], p.city_box_m[1]), b = toCanvas(p, p.city_box_m[2], p.city_box_m[3]);
      g.strokeStyle = S.city_box; g.lineWidth = 1.2; g.strokeRect(a[0], b[1], b[0] - a[0], a[1] - b[1]);
    }
    // Labels where animate_html.py placed them (clear of each other and of the markers); the rest show on hover.
    g.textBaseline = "bottom";
    for (const [text, lx, ly, align, style, px, py, line] of p.labels) {
      if (style === "town") { g.fillStyle = S.town_text; g.fillRect(px - 1.5, py - 1.5, 3, 3); }   // its centre
      if (line) {   // set farther out: a leader line from its marker
        g.strokeStyle = S.leader; g.lineWidth = 1;
        g.beginPath(); g.moveTo(line[0], line[1]); g.lineTo(line[2], line[3]); g.stroke();
      }
      g.font = (style === "beyond" ? "bold " : style === "town" ? "italic " : "") +
        (style === "town" ? D.fonts_px.town : D.fonts_px.site) + "px system-ui, sans-serif";
      g.textAlign = align;
      halo(g, text, lx, ly, style === "beyond" ? S.beyond : style === "town" ? S.town_text : S.site_text, 3);
      siteLabelBoxes.push(textBox(g, text, lx, ly, align)); siteLabelTexts.push(text);
    }
    g.restore();
    g.strokeStyle = S.panel_edge; g.lineWidth = 1; g.strokeRect(p.rect[0] + 0.5, p.rect[1] + 0.5, p.rect[2] - 1, p.rect[3] - 1);
  }
  if (D.synthetic) {
    g.font = D.fonts_px.note + "px system-ui, sans-serif";
    g.fillStyle = S.note; g.textAlign = "right"; g.textBaseline = "alphabetic"; g.fillText(D.note, W - 8, H - 8);
  }
})();

function star(x, y, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
    ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath(); ctx.fill(); ctx.stroke();
}

const clock = document.getElementById("clock"), figures = document.getElementById("figures");
const slider = document.getElementById("slider"), play = document.getElementById("play");
slider.max = Math.max(T - 1, 0);
let frame = 0;
const L = D.unit_label;

function drawPanel(p, k) {
  const base = k * U;
  clipTo(ctx, p);
  ctx.setLineDash([6, 3]); ctx.lineWidth = 1.6; ctx.strokeStyle = S.dispatch;
  for (let u = 0; u < U; u++) {
    const i = unitTarget[base + u];
    if (i < 0) continue;
    const from = quantised(p, unitX[base + u], unitY[base + u]), to = quantised(p, D.incident_x[i], D.incident_y[i]);
    if (!inPanel(p, from)) continue;
    ctx.beginPath(); ctx.moveTo(from[0], from[1]); ctx.lineTo(to[0], to[1]); ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.lineWidth = 0.7; ctx.strokeStyle = S.star_edge;
  for (let i = 0; i < I; i++) {
    const s = incState[k * I + i];
    if (s === 0) continue;
    ctx.globalAlpha = incOpacity[k * I + i] / 255;
    ctx.fillStyle = S.incident_colours[s];
    const at = quantised(p, D.incident_x[i], D.incident_y[i]);
    star(at[0], at[1], 11 * D.incident_scale[s]);
  }
  ctx.globalAlpha = 1; ctx.lineWidth = 1.2; ctx.strokeStyle = S.edge;
  for (let u = 0; u < U; u++) {
    const text = unitText[base + u];
    if (text < 0) continue;   // inside another vehicle's joint-patrol marker
    const at = quantised(p, unitX[base + u], unitY[base + u]);
    if (isJoint(text)) {   // a joint patrol: the leading vehicle's dot in a white disc with a dark ring
      ctx.fillStyle = S.halo; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(at[0], at[1], L.joint_px - 1, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.lineWidth = 1.2;
    }
    ctx.fillStyle = S.unit_colours[unitState[base + u]];
    ctx.beginPath(); ctx.arc(at[0], at[1], 6, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
  }
  // Unit names at the spot animate_html.py found free (-1: no room here; the name shows on hover).
  ctx.font = L.font_px + "px system-ui, sans-serif"; ctx.textBaseline = "bottom";
  for (let u = 0; u < U; u++) {
    const spot = p.spots[base + u];
    if (spot < 0) continue;
    const [sx, sy, ring] = L.spots[spot], at = quantised(p, unitX[base + u], unitY[base + u]);
    // The box's near edge is reach_px (per unit state, far_px more on the outer ring) from the point
    // (see animate_labels.spot_box); y is down here.
    const joint = isJoint(unitText[base + u]), name = D.unit_names[unitText[base + u]];
    const reach = L.reach_px[unitState[base + u]] + (joint ? L.joint_extra_px : 0) + ring * L.far_px;
    if (ring > 0 || (sx !== 0 && sy !== 0)) {   // a corner or farther out: a short leader line from the marker's edge
      const edge = (joint ? L.joint_px : L.unit_px) / (sx !== 0 && sy !== 0 ? Math.SQRT2 : 1);
      const line = [at[0] + sx * edge, at[1] - sy * edge, at[0] + sx * (reach + L.pad_px), at[1] - sy * reach];
      ctx.strokeStyle = S.leader; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(line[0], line[1]); ctx.lineTo(line[2], line[3]); ctx.stroke();
      leaderLines.push([name, line]);
    }
    const lx = at[0] + sx * (reach + L.pad_px), ly = at[1] - (sy * reach + (sy - 1) * L.height_px / 2 + 1);
    const align = sx > 0 ? "left" : sx < 0 ? "right" : "center";
    ctx.textAlign = align;
    halo(ctx, name, lx, ly, S.unit_text, 2.5);
    unitLabelBoxes.push(textBox(ctx, name, lx, ly, align));
    unitLabelPoints.push([name, at[0], at[1], joint]);
  }
  ctx.restore();
}

// A panel's title, over whatever moves beneath it (animate_html.py keeps labels off it).
function drawTitle(p) {
  ctx.font = D.fonts_px.site + "px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "top";
  ctx.fillStyle = S.halo; ctx.fillRect(p.rect[0] + 1, p.rect[1] + 1, ctx.measureText(p.title).width + 10, D.fonts_px.site + 8);
  ctx.fillStyle = S.city_box; ctx.fillText(p.title, p.rect[0] + 6, p.rect[1] + 4);
}

function draw(k) {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(background, 0, 0);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  unitLabelBoxes = []; unitLabelPoints = []; leaderLines = [];
  for (const p of panels) drawPanel(p, k);
  for (const p of panels) if (p.title) drawTitle(p);
  ctx.textAlign = "start"; ctx.textBaseline = "alphabetic";
  clock.textContent = D.clock[k];
  const n = D.answered[k];
  figures.innerHTML = "";
  const line1 = n ? t("anim.figures.mean", {mean: num(D.mean_response_min[k], 1), answered: n,
                                             share: num(D.within_target_pct[k], 0), target: num(D.target_min)})
    : t("anim.figures.none");
  const line2 = t("anim.figures.waiting", {waiting: D.waiting[k], onTheWay: D.on_the_way[k]});
  for (const text of [line1, line2]) {
    const div = document.createElement("div"); div.textContent = text; figures.appendChild(div);
  }
  slider.value = k;
}

let timer = null;
function stop() { clearInterval(timer); timer = null; play.textContent = "\u25B6 " + t("anim.page.play"); }
function start() {
  if (frame >= T - 1) frame = 0;
  play.textContent = "\u275A\u275A " + t("anim.page.pause");
  timer = setInterval(() => {
    if (frame >= T - 1) { stop(); return; }
    frame += 1; draw(frame);
  }, 1000 / D.fps);
}
// Hovering a unit or a site shows its name (labels that found no room are left off the map).
canvas.addEventListener("mousemove", e => {
  const r = canvas.getBoundingClientRect();
  const px = (e.clientX - r.left) * W / r.width, py = (e.clientY - r.top) * H / r.height;
  let best = "", bestD = 10;
  for (const p of panels) {
    if (!inPanel(p, [px, py])) continue;
    for (let u = 0; u < U; u++) {
      const text = unitText[frame * U + u];
      if (text < 0) continue;
      const at = quantised(p, unitX[frame * U + u], unitY[frame * U + u]), d = Math.hypot(at[0] - px, at[1] - py);
      if (d < bestD) { best = D.unit_names[text]; bestD = d; }
    }
    if (!best) {
      for (const [name, xm, ym] of D.sites) {
        const at = toCanvas(p, xm, ym), d = Math.hypot(at[0] - px, at[1] - py);
        if (d < bestD) { best = name; bestD = d; }
      }
    }
  }
  canvas.title = best;
});
play.addEventListener("click", () => (timer === null ? start() : stop()));
slider.addEventListener("input", () => { frame = Number(slider.value); draw(frame); });
document.addEventListener("keydown", e => { if (e.key === " ") { e.preventDefault(); play.click(); } });

const legend = document.getElementById("legend");
function legendItem(html, colour, text, styleProperty) {
  legend.insertAdjacentHTML("beforeend", "<span>" + html + "</span>");
  const item = legend.lastChild;
  if (colour) item.firstChild.style[styleProperty] = colour;
  item.appendChild(document.createTextNode(text));
  return item;
}
D.unit_labels.forEach((label, s) => legendItem('<span class="dot"></span>', S.unit_colours[s], t("anim.legend.unit", {state: label}), "background"));
D.incident_labels_state.forEach((label, s) => {
  if (label) legendItem('<span class="star">&#9733;</span>', S.incident_colours[s], t("anim.legend.incident", {state: label}), "color");
});
legendItem('<span class="dash"></span>', S.dispatch, t("anim.page.dispatch"), "borderColor");
if (D.joint) legendItem('<span class="dot joint"></span>', null, t("anim.legend.joint"));
for (const words of D.unnamed_kinds) legendItem('<span class="many"></span>', S.many_site, words, "background");
if (D.beyond_words) legendItem('<span class="ring"></span>', S.beyond, D.beyond_words, "borderColor").style.color = S.beyond;
if (panels.some(p => p.labels.some(label => label[4] === "town"))) {
  legendItem('<span class="many"></span>', S.town_text, t("anim.legend.town"), "background");
}
legendItem("", null, t("anim.page.hover"));
stop();
if (T > 0) draw(0);
