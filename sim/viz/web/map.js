/* The coverage map page: roads shaded by minutes from the nearest unit, sites, units, legend,
 * hover for names and minutes, a plan switch on compare maps. Needs panzoom.js (PanZoom) first.
 * Data: the JSON in #map-data (see sim/viz/map_html.py, map_data); coordinates in metres,
 * node and line arrays as differences (undelta).
 */
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("map-data").textContent);
  function undelta(a) { var out = new Array(a.length), s = 0; for (var i = 0; i < a.length; i++) { s += a[i]; out[i] = s; } return out; }
  var X = undelta(D.x_m), Y = undelta(D.y_m), N = X.length;
  var roads = D.roads.map(function (r) { return {name: r.name, width: r.width, lines: r.lines.map(undelta)}; });
  var plans = D.plans.map(function (p) {
    return {name: p.name, description: p.description, legend: p.legend, band: p.band, time: p.time_dmin,
            standing: p.standing, circuits: p.circuits.map(undelta), pools: p.pools, paths: null};
  });
  var siteById = {}; D.sites.forEach(function (s) { siteById[s.id] = s; });
  var canvas = document.getElementById("map"), ctx = canvas.getContext("2d");
  var tooltip = document.getElementById("tooltip");
  // The view (scale, tx, ty; see panzoom.js) and the page's own state in one object.
  var state = PanZoom.view({plan: 0, hover: "", draws: 0});
  window.patrolMap = state;   // inspected by tests and handy in the console
  var toScreen = state.toScreen, toData = state.toData;

  // Road paths per (class, band) for the current plan, built once per plan.
  function buildPaths(p) {
    var nb = D.band_colours.length, paths = [];
    roads.forEach(function (r) {
      var byBand = []; for (var b = 0; b < nb; b++) byBand.push(new Path2D());
      r.lines.forEach(function (line) {
        for (var i = 1; i < line.length; i++) {
          var a = line[i - 1], c = line[i];
          var band = Math.max(+p.band[a], +p.band[c]);
          var path = byBand[band];
          path.moveTo(X[a], -Y[a]); path.lineTo(X[c], -Y[c]);
        }
      });
      paths.push({width: r.width, byBand: byBand});
    });
    return paths;
  }

  // The whole network below the 90 px title, with a 4% margin.
  function fit() {
    var w = canvas.clientWidth, h = canvas.clientHeight;
    state.fit(D.size_m[0], D.size_m[1], [0, 90, w, h - 90], 1.04);
  }
  function resize() {
    var r = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * r); canvas.height = Math.round(canvas.clientHeight * r);
    draw();
  }
  state.siteScreen = function (id) { return toScreen(siteById[id].x, siteById[id].y); };

  function marker(shape, x, y, r, colour, hollow) {
    ctx.beginPath();
    if (shape === "s") ctx.rect(x - r, y - r, 2 * r, 2 * r);
    else if (shape === "D") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y); ctx.closePath(); }
    else if (shape === "^") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.2, y + r); ctx.lineTo(x - r * 1.2, y + r); ctx.closePath(); }
    else if (shape === "v") { ctx.moveTo(x, y + r * 1.3); ctx.lineTo(x + r * 1.2, y - r); ctx.lineTo(x - r * 1.2, y - r); ctx.closePath(); }
    else ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fillStyle = hollow ? "#fff" : colour; ctx.fill();
    ctx.lineWidth = 2.2; ctx.strokeStyle = colour; ctx.stroke();
  }

  function draw() {
    var p = plans[state.plan], r = window.devicePixelRatio || 1;
    if (!p.paths) p.paths = buildPaths(p);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    // Roads in metres: one transform, widths in screen pixels (growing a little with zoom).
    ctx.setTransform(r * state.scale, 0, 0, r * state.scale, r * state.tx, r * state.ty);
    ctx.lineCap = "round";
    var zoomWidth = Math.max(1, Math.min(3, Math.sqrt(state.scale * 40)));
    p.paths.forEach(function (road) {
      ctx.lineWidth = road.width * zoomWidth / state.scale;
      road.byBand.forEach(function (path, band) { ctx.strokeStyle = D.band_colours[band]; ctx.stroke(path); });
    });
    ctx.setTransform(r, 0, 0, r, 0, 0);
    // Circuits and random-patrol points.
    ctx.strokeStyle = D.unit_colour; ctx.lineWidth = 2; ctx.setLineDash([7, 4]);
    p.circuits.forEach(function (path) {
      ctx.beginPath();
      path.forEach(function (n, i) { var q = toScreen(X[n], Y[n]); if (i) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]); });
      ctx.stroke();
    });
    ctx.setLineDash([]); ctx.lineWidth = 1.5;
    p.pools.forEach(function (pool) {
      pool.forEach(function (n) {
        var q = toScreen(X[n], Y[n]);
        ctx.beginPath(); ctx.moveTo(q[0] - 4, q[1]); ctx.lineTo(q[0] + 4, q[1]); ctx.moveTo(q[0], q[1] - 4); ctx.lineTo(q[0], q[1] + 4); ctx.stroke();
      });
    });
    // Towns, then sites with names when zoomed in enough to read them.
    ctx.font = "italic 12px system-ui, sans-serif"; ctx.fillStyle = "#555";
    D.towns.forEach(function (t) { var q = toScreen(t.xy[0], t.xy[1]); ctx.fillRect(q[0] - 2, q[1] - 2, 4, 4); ctx.fillText(t.name, q[0] + 5, q[1] - 4); });
    var showNames = state.scale > 0.03;
    D.sites.forEach(function (s) {
      var q = toScreen(s.x, s.y);
      marker(s.marker, q[0], q[1], 6, s.colour, s.approx);
      if (showNames) {
        var label = s.name + (s.approx ? " (approx.)" : "");
        ctx.font = "13px system-ui, sans-serif"; ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.85)";
        ctx.strokeText(label, q[0] + 10, q[1] + 4); ctx.fillStyle = "#111"; ctx.fillText(label, q[0] + 10, q[1] + 4);
      }
    });
    p.standing.forEach(function (pair) {
      var s = siteById[pair[0]], q = toScreen(s.x, s.y);
      ctx.beginPath(); ctx.arc(q[0] - 10, q[1] - 10, 8, 0, 2 * Math.PI);
      ctx.fillStyle = D.unit_colour; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
      ctx.fillStyle = "#fff"; ctx.font = "bold 11px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText(String(pair[1]), q[0] - 10, q[1] - 6); ctx.textAlign = "start";
    });
    // Scale bar: a round number of metres about 120 px long.
    var target = 120 / state.scale, unit = Math.pow(10, Math.floor(Math.log10(target)));
    var len = [1, 2, 5, 10].map(function (k) { return k * unit; }).filter(function (m) { return m <= target; }).pop();
    var h = canvas.clientHeight, x0 = canvas.clientWidth - 30 - len * state.scale, y0 = h - 44;
    ctx.fillStyle = "#111"; ctx.fillRect(x0, y0, len * state.scale, 4);
    ctx.font = "12px system-ui, sans-serif"; ctx.fillText(len >= 1000 ? (len / 1000) + " km" : len + " m", x0, y0 - 5);
    state.draws += 1;
  }

  function legend() {
    var el = document.getElementById("legend"), html = "";
    if (plans.length > 1) {
      plans.forEach(function (p, i) { html += '<button data-plan="' + i + '" class="' + (i === state.plan ? "on" : "") + '">' + esc(p.name) + "</button>"; });
      html += '<div class="shares">' + D.difference.map(esc).join("<br>") + "</div>";
    }
    var p = plans[state.plan];
    html += "<div><b>plan '" + esc(p.name) + "'</b>: " + esc(p.description) + "</div>";
    html += '<div class="shares">' + p.legend.map(esc).join("<br>") + "</div>";
    html += "<div>Minutes from the nearest unit (target " + D.target_min + "):</div>";
    var lower = 0;
    D.bands_min.forEach(function (b, i) { html += '<span class="row"><span class="sw" style="background:' + D.band_colours[i] + '"></span>' + lower + "&ndash;" + b + " min</span>"; lower = b; });
    html += '<span class="row"><span class="sw" style="background:' + D.band_colours[D.band_colours.length - 1] + '"></span>over ' + lower + " min</span>";
    var kinds = {};
    D.sites.forEach(function (s) { kinds[s.kind] = s; });
    html += "<div>";
    var glyph = {s: "&#9632;", D: "&#9670;", "^": "&#9650;", v: "&#9660;", o: "&#9679;"};
    Object.keys(kinds).forEach(function (k) { html += '<span class="row"><span style="color:' + kinds[k].colour + '">' + (glyph[kinds[k].marker] || "&#9679;") + "</span> " + esc(k) + "</span>"; });
    if (D.sites.some(function (s) { return s.approx; })) html += '<span class="row">&#9675; hollow: approximate position</span>';
    html += '<span class="row"><span style="color:' + D.unit_colour + '">&#11044;</span> vehicles at a post or base (number)</span>';
    html += '<span class="row"><span style="color:' + D.unit_colour + '">- - -</span> circuit route</span>';
    html += '<span class="row"><span style="color:' + D.unit_colour + '">+</span> random-patrol road points</span></div>';
    el.innerHTML = html;
    Array.prototype.forEach.call(el.querySelectorAll("button"), function (b) {
      b.addEventListener("click", function () { state.plan = +b.getAttribute("data-plan"); legend(); draw(); });
    });
  }
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  // Nearest node under the pointer: a grid of 500 m cells.
  var CELL = 500, grid = {};
  for (var i = 0; i < N; i++) { var key = Math.floor(X[i] / CELL) + "," + Math.floor(Y[i] / CELL); (grid[key] = grid[key] || []).push(i); }
  function nearestNode(x, y, maxM) {
    var best = -1, bestD = maxM * maxM, cx = Math.floor(x / CELL), cy = Math.floor(y / CELL), reach = Math.ceil(maxM / CELL);
    for (var gx = cx - reach; gx <= cx + reach; gx++) for (var gy = cy - reach; gy <= cy + reach; gy++) {
      (grid[gx + "," + gy] || []).forEach(function (n) { var d = (X[n] - x) * (X[n] - x) + (Y[n] - y) * (Y[n] - y); if (d < bestD) { bestD = d; best = n; } });
    }
    return best;
  }
  function minutes(n) { var t = plans[state.plan].time[n]; return t < 0 ? "not reachable" : (t / 10).toFixed(1) + " min from the nearest unit"; }
  function hover(px, py) {
    var text = "";
    D.sites.forEach(function (s) {
      var q = toScreen(s.x, s.y);
      if (!text && Math.abs(q[0] - px) < 10 && Math.abs(q[1] - py) < 10)
        text = s.name + (s.approx ? " (approximate position)" : "") + "\n" + s.kind + ": " + minutes(s.node);
    });
    if (!text) {
      var d = toData(px, py), n = nearestNode(d[0], d[1], 15 / state.scale);
      if (n >= 0) text = "road: " + minutes(n);
    }
    state.hover = text;
    tooltip.textContent = text;
    tooltip.style.display = text ? "block" : "none";
    tooltip.style.left = (px + 14) + "px"; tooltip.style.top = (py + 14) + "px";
  }

  PanZoom.attach(canvas, state, {changed: draw, reset: fit, hover: hover, zoomRange: [1e-4, 20]});
  canvas.addEventListener("mouseleave", function () { tooltip.style.display = "none"; });
  window.addEventListener("resize", resize);

  document.getElementById("title").textContent = D.title;
  document.getElementById("subtitle").textContent = D.subtitle;
  // The corner badge's words come with the page (the synthetic-network note); real roads need none.
  if (!D.synthetic) document.getElementById("corner").style.display = "none";
  legend(); fit(); resize();
})();
