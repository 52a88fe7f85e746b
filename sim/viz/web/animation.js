/* The animation page: the network drawn once, units, incidents and dispatch lines per frame,
 * a play button and a time slider. Needs panzoom.js (PanZoom) first, for the view transform.
 * Data: the JSON in #data (see sim/viz/animate_html.py, html_data); per-frame arrays are base64
 * typed arrays, frame-major ([k * U + u]); positions are 0..65535 across the view.
 */
const D = JSON.parse(document.getElementById("data").textContent);
function decode(b64, Type) {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  return new Type(bytes.buffer);
}
const unitX = decode(D.unit_x, Uint16Array), unitY = decode(D.unit_y, Uint16Array);
const unitState = decode(D.unit_state, Uint8Array), unitTarget = decode(D.unit_target, Int16Array);
const incState = decode(D.incident_state, Uint8Array), incOpacity = decode(D.incident_opacity, Uint8Array);
const segments = decode(D.segments, Int32Array), segClass = decode(D.segment_class, Uint8Array);
const unitSpots = decode(D.unit_spots, Int8Array), unitText = decode(D.unit_text, D.unit_text_bytes === 1 ? Int8Array : Int16Array);
const U = D.units, I = D.incident_x.length, T = D.frames;

document.getElementById("title").textContent = D.title;
document.title = D.title + (D.synthetic ? " (" + D.note + ")" : "");
document.getElementById("note").textContent = D.synthetic ? D.note : "";
document.getElementById("speed").textContent = D.speed;

const canvas = document.getElementById("map");
// Fit the map to the window so the controls stay in view; it is drawn at a fixed size and scaled.
function fit() {
  const room = Math.max(window.innerHeight - 230, 240) * D.view_m[0] / D.view_m[1];
  document.getElementById("wrap").style.maxWidth = Math.min(1100, Math.floor(room)) + "px";
}
window.addEventListener("resize", fit);
fit();
const W = D.map_px[0], H = D.map_px[1];   // the size animate_html.py placed the labels for
const ratio = window.devicePixelRatio || 1;
canvas.width = W * ratio; canvas.height = H * ratio;
const ctx = canvas.getContext("2d");
ctx.scale(ratio, ratio);
// The whole view box fills the canvas; this page has no pan or zoom, so the view stays put.
const view = PanZoom.view();
view.fit(D.view_m[0], D.view_m[1], [0, 0, W, H], 1);
// Units and incidents come as 0..65535 across the view.
const quantised = (qx, qy) => view.toScreen(qx / 65535 * D.view_m[0], qy / 65535 * D.view_m[1]);

// The box a text drawn with textBaseline "bottom" covers: [x0, y0, x1, y1] on the canvas.
function textBox(g, text, x, y, align) {
  const m = g.measureText(text);
  const x0 = align === "left" ? x : align === "right" ? x - m.width : x - m.width / 2;
  return [x0, y - m.actualBoundingBoxAscent, x0 + m.width, y + m.actualBoundingBoxDescent];
}
// The labels drawn: the sites' once, the units' of the frame shown (what tests check for overlaps).
const siteLabelBoxes = [];
let unitLabelBoxes = [];

// The network is drawn once onto an off-screen canvas; each frame copies it.
const background = document.createElement("canvas");
background.width = canvas.width; background.height = canvas.height;
(function drawBackground() {
  const g = background.getContext("2d");
  g.scale(ratio, ratio);
  g.fillStyle = "#ffffff"; g.fillRect(0, 0, W, H);
  const styles = [["#a9adb3", 1.6], ["#c4c7cc", 1.0], ["#dcdee1", 0.6]];
  for (let rank = 2; rank >= 0; rank--) {
    g.strokeStyle = styles[rank][0]; g.lineWidth = styles[rank][1];
    g.beginPath();
    for (let s = 0; s < segClass.length; s++) {
      if (segClass[s] !== rank) continue;
      // Decimetres from the view's corner.
      const a = view.toScreen(segments[4 * s] / 10, segments[4 * s + 1] / 10);
      const b = view.toScreen(segments[4 * s + 2] / 10, segments[4 * s + 3] / 10);
      g.moveTo(a[0], a[1]); g.lineTo(b[0], b[1]);
    }
    g.stroke();
  }
  g.font = "11px system-ui, sans-serif";
  g.lineJoin = "round";
  for (const [name, fx, fy, isBase] of D.sites) {
    const [x, y] = view.toScreen(fx * D.view_m[0], fy * D.view_m[1]);   // fractions of the view
    g.fillStyle = isBase ? "#333" : "#777";
    g.beginPath();
    if (isBase) { g.moveTo(x, y - 6); g.lineTo(x + 5, y + 4); g.lineTo(x - 5, y + 4); }
    else { g.rect(x - 3, y - 3, 6, 6); }
    g.fill();
  }
  // Labels where animate_html.py placed them (clear of each other and of the markers); the rest show on hover.
  g.textBaseline = "bottom";
  for (const [name, , , , label] of D.sites) {
    if (!label) continue;
    const [lx, ly, align] = label;
    g.textAlign = align;
    g.strokeStyle = "rgba(255,255,255,0.9)"; g.lineWidth = 3; g.strokeText(name, lx, ly);
    g.fillStyle = "#444"; g.fillText(name, lx, ly);
    siteLabelBoxes.push(textBox(g, name, lx, ly, align));
  }
  if (D.synthetic) {
    g.fillStyle = "#b00020"; g.textAlign = "right"; g.textBaseline = "alphabetic"; g.fillText(D.note, W - 8, H - 8);
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

function draw(k) {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(background, 0, 0);
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const base = k * U;
  ctx.setLineDash([6, 3]); ctx.lineWidth = 1.6; ctx.strokeStyle = D.unit_colours[2];
  for (let u = 0; u < U; u++) {
    const i = unitTarget[base + u];
    if (i < 0) continue;
    const from = quantised(unitX[base + u], unitY[base + u]), to = quantised(D.incident_x[i], D.incident_y[i]);
    ctx.beginPath();
    ctx.moveTo(from[0], from[1]);
    ctx.lineTo(to[0], to[1]);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.lineWidth = 0.7; ctx.strokeStyle = "#000";
  for (let i = 0; i < I; i++) {
    const s = incState[k * I + i];
    if (s === 0) continue;
    ctx.globalAlpha = incOpacity[k * I + i] / 255;
    ctx.fillStyle = D.incident_colours[s];
    const at = quantised(D.incident_x[i], D.incident_y[i]);
    star(at[0], at[1], 11 * D.incident_scale[s]);
  }
  ctx.globalAlpha = 1; ctx.lineWidth = 1.2; ctx.strokeStyle = "#222";
  for (let u = 0; u < U; u++) {
    const text = unitText[base + u];
    if (text < 0) continue;   // inside another vehicle's joint-patrol marker
    const at = quantised(unitX[base + u], unitY[base + u]);
    if (text >= U) {   // a joint patrol: the leading vehicle's dot in a white disc with a dark ring
      ctx.fillStyle = "#fff"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(at[0], at[1], D.unit_label.joint_px - 1, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.lineWidth = 1.2;
    }
    ctx.fillStyle = D.unit_colours[unitState[base + u]];
    ctx.beginPath();
    ctx.arc(at[0], at[1], 6, 0, 2 * Math.PI);
    ctx.fill(); ctx.stroke();
  }
  // Unit names at the spot animate_html.py found free (-1: no room; the name shows on hover).
  ctx.font = D.unit_label.font_px + "px system-ui, sans-serif"; ctx.lineWidth = 2.5;
  ctx.strokeStyle = "rgba(255,255,255,.9)"; ctx.fillStyle = "#111"; ctx.textBaseline = "bottom";
  const L = D.unit_label;
  unitLabelBoxes = [];
  for (let u = 0; u < U; u++) {
    const spot = unitSpots[base + u];
    if (spot < 0) continue;
    const [sx, sy] = L.spots[spot], at = quantised(unitX[base + u], unitY[base + u]);
    // The box's near edge is reach_px (per unit state) from the point (see animate_labels.spot_box); y is down here.
    const name = D.unit_names[unitText[base + u]];
    const reach = L.reach_px[unitState[base + u]] + (unitText[base + u] >= U ? L.joint_extra_px : 0);
    const lx = at[0] + sx * (reach + L.pad_px), ly = at[1] - (sy * reach + (sy - 1) * L.height_px / 2 + 1);
    const align = sx > 0 ? "left" : sx < 0 ? "right" : "center";
    ctx.textAlign = align;
    ctx.strokeText(name, lx, ly); ctx.fillText(name, lx, ly);
    unitLabelBoxes.push(textBox(ctx, name, lx, ly, align));
  }
  ctx.textAlign = "start"; ctx.textBaseline = "alphabetic";
  ctx.lineWidth = 1.2; ctx.strokeStyle = "#222";
  clock.textContent = D.clock[k];
  const n = D.answered[k];
  figures.innerHTML = "";
  const line1 = n ? "mean response in the shown window " + D.mean_response_min[k].toFixed(1) + " min (" + n + " answered, " +
      Math.round(D.within_target_pct[k]) + "% within " + D.target_min + " min)"
    : "mean response in the shown window: no incident answered yet";
  const line2 = "incidents waiting for a unit " + D.waiting[k] + ", unit on the way " + D.on_the_way[k];
  for (const text of [line1, line2]) {
    const div = document.createElement("div"); div.textContent = text; figures.appendChild(div);
  }
  slider.value = k;
}

let timer = null;
function stop() { clearInterval(timer); timer = null; play.innerHTML = "&#9654; play"; }
function start() {
  if (frame >= T - 1) frame = 0;
  play.innerHTML = "&#10074;&#10074; pause";
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
  for (let u = 0; u < U; u++) {
    const text = unitText[frame * U + u];
    if (text < 0) continue;
    const at = quantised(unitX[frame * U + u], unitY[frame * U + u]), d = Math.hypot(at[0] - px, at[1] - py);
    if (d < bestD) { best = D.unit_names[text]; bestD = d; }
  }
  if (!best) {
    for (const [name, fx, fy] of D.sites) {
      const at = view.toScreen(fx * D.view_m[0], fy * D.view_m[1]), d = Math.hypot(at[0] - px, at[1] - py);
      if (d < bestD) { best = name; bestD = d; }
    }
  }
  canvas.title = best;
});
play.addEventListener("click", () => (timer === null ? start() : stop()));
slider.addEventListener("input", () => { frame = Number(slider.value); draw(frame); });
document.addEventListener("keydown", e => { if (e.key === " ") { e.preventDefault(); play.click(); } });

const legend = document.getElementById("legend");
D.unit_labels.forEach((label, s) => {
  legend.insertAdjacentHTML("beforeend", '<span><span class="dot"></span></span>');
  const item = legend.lastChild; item.firstChild.style.background = D.unit_colours[s];
  item.appendChild(document.createTextNode("unit " + label));
});
D.incident_labels_state.forEach((label, s) => {
  if (!label) return;  // state 0, and states this animation does not show
  legend.insertAdjacentHTML("beforeend", '<span><span class="star">&#9733;</span></span>');
  const item = legend.lastChild; item.firstChild.style.color = D.incident_colours[s];
  item.appendChild(document.createTextNode("incident: " + label));
});
legend.insertAdjacentHTML("beforeend", "<span>- - - dispatch line: unit to its incident</span>");
if (D.joint) legend.insertAdjacentHTML("beforeend", '<span><span class="dot joint"></span>joint patrol (its vehicles together)</span>');
legend.insertAdjacentHTML("beforeend", "<span>hover a unit or a site for its name</span>");
if (T > 0) draw(0);
