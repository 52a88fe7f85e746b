/* The coverage map page: roads shaded by minutes from the nearest unit, sites (coloured by their
 * simulated share within target when results came with the map), units, legend, hover for names
 * and minutes, a plan switch and a difference view (roads gained or lost) on compare maps. On a map
 * of many sites (D.many) the sites of site sets are dots, named only once few are in view, and each
 * kecamatan is a circle sized by its incidents and coloured by its share (D.areas). Site names
 * show without hovering wherever there is room. A wide window shows the legend as a column beside the
 * map; a narrow one (a phone) gives the map the full width and puts the legend below it (map.css).
 * Needs panzoom.js (PanZoom) first.
 * Data: the JSON in #map-data (see sim/viz/map_html.py, map_data); coordinates in metres,
 * node and line arrays as differences (undelta). Words: D.messages, the catalogue's "map.page.*"
 * keys in the page's language (sim/i18n), through t(); numbers through num().
 */
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("map-data").textContent);
  // The message ``key`` with its {placeholders} filled from ``values`` (numbers already written by num()).
  function t(key, values) {
    var text = D.messages[key];
    if (text === undefined) return key;
    return values ? text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? String(values[name]) : all; }) : text;
  }
  // A number with ``digits`` decimals (none given: as it is), grouped, with the language's marks.
  function num(value, digits) {
    var text = digits === undefined ? String(value) : Number(value).toFixed(digits);
    var parts = text.split("."), whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, "\u0000");
    return whole.replace(/\u0000/g, D.messages["number.group"]) + (parts.length > 1 ? D.messages["number.decimal"] + parts[1] : "");
  }
  function undelta(a) { var out = new Array(a.length), s = 0; for (var i = 0; i < a.length; i++) { s += a[i]; out[i] = s; } return out; }
  var X = undelta(D.x_m), Y = undelta(D.y_m), N = X.length;
  var roads = D.roads.map(function (r) { return {name: r.name, width: r.width, lines: r.lines.map(undelta)}; });
  var plans = D.plans.map(function (p) {
    return {name: p.name, description: p.description, legend: p.legend, band: p.band, time: p.time_dmin,
            standing: p.standing, circuits: p.circuits.map(undelta), pools: p.pools, paths: null,
            within: p.within, results: p.results, simulated: p.simulated};
  });
  var DIFF = plans.length > 1 ? plans.length : -1;   // the view index of the difference view
  var diffColours = ["neither", "both", "gained", "lost"].map(function (k) { return D.change_colours[k]; });
  var diffPaths = null;
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

  // Roads of the difference view per code: 0 neither, 1 both, 2 gained, 3 lost (both ends within the target).
  function buildDiffPaths() {
    var a = plans[0].within, b = plans[1].within, paths = [];
    roads.forEach(function (r) {
      var byCode = [new Path2D(), new Path2D(), new Path2D(), new Path2D()];
      r.lines.forEach(function (line) {
        for (var i = 1; i < line.length; i++) {
          var m = line[i - 1], n = line[i];
          var inA = a[m] === "1" && a[n] === "1", inB = b[m] === "1" && b[n] === "1";
          var code = inA && inB ? 1 : inB ? 2 : inA ? 3 : 0;
          byCode[code].moveTo(X[m], -Y[m]); byCode[code].lineTo(X[n], -Y[n]);
        }
      });
      paths.push({width: r.width, byBand: byCode});
    });
    return paths;
  }

  // Two layouts (map.css): wide, the canvas fills the window under the title and beside the legend column;
  // narrow (a phone), the page scrolls and the canvas is a block of the full width between title and legend.
  var legendBox = document.getElementById("legend"), head = document.getElementById("head");
  var COLUMN_PX = 350, TITLE_PX = 90, FOOT_PX = 64, MIN_MAP_PX = 240;   // FOOT_PX: the scale bar and the badge
  function stacked() { return getComputedStyle(legendBox).position === "static"; }
  function panelWidth() { return stacked() ? 0 : COLUMN_PX; }
  // The canvas rows under the title when it lies over the canvas (wide): 90 px, more for a title on many lines.
  function titleHeight() { return stacked() ? 0 : Math.max(TITLE_PX, Math.ceil(head.getBoundingClientRect().bottom)); }
  // The whole network clear of the title, the legend column and (narrow) the foot, with a 4% margin.
  function fit() {
    var w = canvas.clientWidth, h = canvas.clientHeight, top = titleHeight(), foot = stacked() ? FOOT_PX : 0;
    state.fit(D.size_m[0], D.size_m[1], [0, top, w - panelWidth(), h - top - foot], 1.04);
  }
  // Narrow: the canvas as tall as the network at the full width and its foot, at most the first screen
  // under the title (but at least MIN_MAP_PX). Set when the width changes: a phone's address bar
  // coming and going changes the height only.
  var laidOut = null;
  function layout() {
    var narrow = stacked(), key = narrow ? "narrow " + canvas.clientWidth : "wide";
    if (key === laidOut) return false;
    var fitted = Math.ceil(canvas.clientWidth * D.size_m[1] / D.size_m[0]) + FOOT_PX;
    canvas.style.height = narrow ? Math.max(MIN_MAP_PX, Math.min(fitted, window.innerHeight - head.offsetHeight)) + "px" : "";
    laidOut = key;
    return true;
  }
  // On a new layout (and the first time) the view is fitted again and the legend's circles sized to the map's;
  // otherwise the view stays where the user left it.
  function resize() {
    if (layout()) { fit(); if (D.areas) legend(); }
    var r = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * r); canvas.height = Math.round(canvas.clientHeight * r);
    draw();
  }
  state.siteScreen = function (id) { return toScreen(siteById[id].x, siteById[id].y); };

  // A site's symbol: its kind's shape in the kinds' ink; ``fill``: the share colour with results.
  function marker(shape, x, y, r, colour, hollow, fill) {
    ctx.beginPath();
    if (shape === "s") ctx.rect(x - r, y - r, 2 * r, 2 * r);
    else if (shape === "D") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.3, y); ctx.lineTo(x, y + r * 1.3); ctx.lineTo(x - r * 1.3, y); ctx.closePath(); }
    else if (shape === "^") { ctx.moveTo(x, y - r * 1.3); ctx.lineTo(x + r * 1.2, y + r); ctx.lineTo(x - r * 1.2, y + r); ctx.closePath(); }
    else if (shape === "v") { ctx.moveTo(x, y + r * 1.3); ctx.lineTo(x + r * 1.2, y - r); ctx.lineTo(x - r * 1.2, y - r); ctx.closePath(); }
    else if (shape === "P") { var a = r * 0.45; ctx.moveTo(x - a, y - r); [[a, -r], [a, -a], [r, -a], [r, a], [a, a], [a, r], [-a, r], [-a, a], [-r, a], [-r, -a], [-a, -a]].forEach(function (d) { ctx.lineTo(x + d[0], y + d[1]); }); ctx.closePath(); }
    else if (shape === "p" || shape === "h") { var k = shape === "p" ? 5 : 6; for (var i = 0; i < k; i++) { var a = -Math.PI / 2 + 2 * Math.PI * i / k; if (i) ctx.lineTo(x + r * 1.15 * Math.cos(a), y + r * 1.15 * Math.sin(a)); else ctx.moveTo(x + r * 1.15 * Math.cos(a), y + r * 1.15 * Math.sin(a)); } ctx.closePath(); }
    else ctx.arc(x, y, shape === "." ? r * 0.6 : r, 0, 2 * Math.PI);
    ctx.fillStyle = hollow ? "#fff" : fill || colour; ctx.fill();
    ctx.lineWidth = fill ? 1.2 : 2.2; ctx.strokeStyle = colour; ctx.stroke();
  }

  // The share colour of a site in plan p (null without results: the kind's ink alone).
  function siteFill(p, s) {
    if (!p || !p.results) return null;
    var res = p.results.sites[s.id];
    return res ? res.colour : D.no_share.colour;
  }

  function draw() {
    var diff = state.plan === DIFF, r = window.devicePixelRatio || 1;
    var p = diff ? null : plans[state.plan];
    var paths, colours;
    if (diff) { diffPaths = diffPaths || buildDiffPaths(); paths = diffPaths; colours = diffColours; }
    else { if (!p.paths) p.paths = buildPaths(p); paths = p.paths; colours = D.band_colours; }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (D.areas) drawAreas();
    // Roads in metres: one transform, widths in screen pixels (growing a little with zoom).
    ctx.setTransform(r * state.scale, 0, 0, r * state.scale, r * state.tx, r * state.ty);
    ctx.lineCap = "round";
    var zoomWidth = Math.max(1, Math.min(3, Math.sqrt(state.scale * 40)));
    paths.forEach(function (road) {
      ctx.lineWidth = road.width * zoomWidth / state.scale;
      road.byBand.forEach(function (path, band) {
        // The difference view draws gains and losses wider: they are what it is for.
        if (diff && band >= 2) ctx.lineWidth = road.width * zoomWidth * 2 / state.scale;
        ctx.strokeStyle = colours[band]; ctx.stroke(path);
        if (diff && band >= 2) ctx.lineWidth = road.width * zoomWidth / state.scale;
      });
    });
    ctx.setTransform(r, 0, 0, r, 0, 0);
    if (!diff) drawUnits(p);
    drawPlaces(p);
    drawScale();
    state.draws += 1;
  }

  // The kecamatan cells under the roads: outlines only (approximate boundaries).
  function drawAreas() {
    D.areas.cells.forEach(function (cell) {
      ctx.beginPath();
      cell.ring.forEach(function (xy, i) { var q = toScreen(xy[0], xy[1]); if (i) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]); });
      ctx.closePath();
      ctx.strokeStyle = D.areas.edge; ctx.lineWidth = 1; ctx.setLineDash([5, 3]); ctx.stroke();
      ctx.setLineDash([]);
    });
  }
  // A circle per kecamatan: area in proportion to its incidents, filled with its share's colour.
  // MARK_PX: the radius of the largest circle; on a map narrower than NARROW_PX (map.css's narrow layout starts
  // there) smaller, down to half, so the circles leave the roads in view.
  var MARK_PX = 24, NARROW_PX = 760;
  function markPx() { return stacked() ? MARK_PX * Math.max(0.5, Math.min(1, canvas.clientWidth / NARROW_PX)) : MARK_PX; }
  function markRadius(size, largest) { return markPx() * Math.sqrt(size / Math.max(largest, 1)); }
  function areaMarks(p) { return (D.areas && p && D.areas.marks[p.name]) || []; }
  function markRadii(p) {
    var marks = areaMarks(p), largest = Math.max.apply(null, marks.map(function (m) { return m[3]; }).concat([1])), out = {};
    marks.forEach(function (m) { out[m[0]] = markRadius(m[3], largest); });
    return out;
  }
  function drawMarks(p, labels) {
    var marks = areaMarks(p), largest = Math.max.apply(null, marks.map(function (m) { return m[3]; }).concat([1]));
    marks.forEach(function (m) {
      var q = toScreen(m[1], m[2]), r = markRadius(m[3], largest);
      ctx.beginPath(); ctx.arc(q[0], q[1], r, 0, 2 * Math.PI);
      ctx.fillStyle = m[4]; ctx.fill(); ctx.lineWidth = 1; ctx.strokeStyle = "#1a1a1a"; ctx.stroke();
      labels.add([q[0] - r, q[1] - r, q[0] + r, q[1] + r]);
    });
  }

  function drawUnits(p) {
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
  }

  // Labels that do not collide: each tries a few places around its point and is left out when
  // none is free; placed boxes sit in a grid of 64 px cells, so thousands of sites stay fast.
  function placer() {
    var cells = {}, CELLPX = 64;
    function keys(b) {
      var out = [];
      for (var i = Math.floor(b[0] / CELLPX); i <= Math.floor(b[2] / CELLPX); i++)
        for (var j = Math.floor(b[1] / CELLPX); j <= Math.floor(b[3] / CELLPX); j++) out.push(i + "," + j);
      return out;
    }
    function free(b) {
      return keys(b).every(function (k) { return !(cells[k] || []).some(function (o) { return b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3]; }); });
    }
    function add(b) { keys(b).forEach(function (k) { (cells[k] = cells[k] || []).push(b); }); }
    // ``pad``: the radius of the mark the label names (a kecamatan circle), so the label sits beside it.
    return {add: add, place: function (x, y, w, h, pad) {
      var W = canvas.clientWidth - panelWidth(), H = canvas.clientHeight, top = titleHeight(), d = Math.max(8, (pad || 0) + 3);
      var tries = [[d, 4], [-d - w, 4], [d, -h + 2], [-d - w, -h + 2], [-w / 2, d + 6], [-w / 2, -h - d]];
      for (var k = 0; k < tries.length; k++) {
        var b = [x + tries[k][0], y + tries[k][1] - h + 4, x + tries[k][0] + w, y + tries[k][1] + 4];
        if (b[0] >= 0 && b[2] <= W && b[1] >= top && b[3] <= H && free(b)) { add(b); return [b[0], b[3] - 4]; }
      }
      return null;
    }};
  }

  var SET_NAMES_IN_VIEW = 150;   // site-set sites are named once no more than this many are in view
  function drawPlaces(p) {
    var labels = placer(), W = canvas.clientWidth - panelWidth(), H = canvas.clientHeight, top = titleHeight();
    var points = D.sites.map(function (s) { return toScreen(s.x, s.y); });
    function inView(q) { return q[0] >= 0 && q[0] <= W && q[1] >= top && q[1] <= H; }
    // Sites of site sets: dots (grey; a share resting on one incident says nothing), growing with zoom.
    var dot = Math.max(1.5, Math.min(4, state.scale * 150)), setInView = 0;
    ctx.fillStyle = D.set_colour;
    D.sites.forEach(function (s, i) {
      if (!s.set) return;
      var q = points[i];
      if (inView(q)) setInView += 1;
      ctx.fillRect(q[0] - dot / 2, q[1] - dot / 2, dot, dot);
    });
    drawMarks(p, labels);
    D.sites.forEach(function (s, i) { if (!s.set) labels.add([points[i][0] - 7, points[i][1] - 7, points[i][0] + 7, points[i][1] + 7]); });
    D.sites.forEach(function (s, i) { if (!s.set) marker(s.marker, points[i][0], points[i][1], 6, s.colour, s.approx && !(p && p.results), siteFill(p, s)); });
    drawStanding(p, labels);
    var radius = markRadii(p);
    state.named = [];   // the labels drawn (tests read them)
    function label(text, x, y, font, colour, pad) {
      ctx.font = font;
      var at = labels.place(x, y, ctx.measureText(text).width, 14, pad);
      if (!at) return false;
      state.named.push(text);
      ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,.9)"; ctx.strokeText(text, at[0], at[1]);
      ctx.fillStyle = colour; ctx.fillText(text, at[0], at[1]);
      return true;
    }
    // The worst kecamatan with their figures first; then the sites that miss the target, where units
    // stand, the towns, the other listed sites, and site-set sites once few are in view.
    var worst = {};
    areaMarks(p).forEach(function (m) {
      if (!m[6]) return;
      var q = toScreen(m[1], m[2]);
      if (label(m[0] + ": " + m[5], q[0], q[1], "bold 12px system-ui, sans-serif", "#111", radius[m[0]])) worst[m[0]] = 1;
    });
    var first = {};
    if (p && p.results && !D.many) Object.keys(p.results.sites).forEach(function (id) { if (p.results.sites[id].misses) first[id] = 1; });
    // Where units stand, also among many sites while the posts are few enough to read.
    if (p && (!D.many || p.standing.length <= D.max_badges)) p.standing.forEach(function (pair) { first[pair[0]] = 1; });
    function siteLabel(s, i) { label(s.name + (s.approx ? t("map.page.approx") : ""), points[i][0], points[i][1], "13px system-ui, sans-serif", "#111"); }
    D.sites.forEach(function (s, i) { if (first[s.id] && inView(points[i])) siteLabel(s, i); });
    var townSite = townSites();
    D.towns.forEach(function (town) {
      if (worst[town.name] || (!D.many && townSite[town.name])) return;
      var q = toScreen(town.xy[0], town.xy[1]);
      if (!D.areas) { ctx.fillStyle = "#555"; ctx.fillRect(q[0] - 2, q[1] - 2, 4, 4); }
      label(town.name, q[0], q[1], "italic 12px system-ui, sans-serif", "#444", radius[town.name]);
    });
    D.sites.forEach(function (s, i) {
      if (s.set || first[s.id] || !inView(points[i]) || (D.many && townSite.bySite[s.id])) return;
      siteLabel(s, i);
    });
    state.setNamed = setInView > 0 && setInView <= SET_NAMES_IN_VIEW;
    if (state.setNamed) D.sites.forEach(function (s, i) { if (s.set && inView(points[i])) siteLabel(s, i); });
  }
  // Posts and bases: a badge counting the vehicles, or (more than D.max_badges posts) a small square.
  function drawStanding(p, labels) {
    if (!p) return;
    var squares = p.standing.length > D.max_badges;
    p.standing.forEach(function (pair) {
      var s = siteById[pair[0]], q = toScreen(s.x, s.y);
      if (squares) {
        ctx.fillStyle = D.unit_colour; ctx.fillRect(q[0] - 4, q[1] - 4, 8, 8);
        ctx.strokeStyle = "#fff"; ctx.lineWidth = 1; ctx.strokeRect(q[0] - 4, q[1] - 4, 8, 8);
        return;
      }
      ctx.beginPath(); ctx.arc(q[0] - 10, q[1] - 10, 8, 0, 2 * Math.PI);
      ctx.fillStyle = D.unit_colour; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
      ctx.fillStyle = "#fff"; ctx.font = "bold 11px system-ui, sans-serif"; ctx.textAlign = "center";
      ctx.fillText(String(pair[1]), q[0] - 10, q[1] - 6); ctx.textAlign = "start";
      labels.add([q[0] - 18, q[1] - 18, q[0] - 2, q[1] - 2]);
    });
  }
  // Towns whose own site carries their name ("Kota Tanggul" at Tanggul): one label for the two.
  var townSiteCache = null;
  function townSites() {
    if (townSiteCache) return townSiteCache;
    townSiteCache = {bySite: {}};
    D.towns.forEach(function (town) {
      D.sites.forEach(function (s) {
        if (!s.set && Math.abs(s.x - town.xy[0]) < 450 && Math.abs(s.y - town.xy[1]) < 450 && s.name.toLowerCase().indexOf(town.name.toLowerCase()) >= 0) {
          townSiteCache[town.name] = s.id; townSiteCache.bySite[s.id] = town.name;
        }
      });
    });
    return townSiteCache;
  }
  function drawScale() {
    // Scale bar: a round number of metres about 120 px long.
    var target = 120 / state.scale, unit = Math.pow(10, Math.floor(Math.log10(target)));
    var len = [1, 2, 5, 10].map(function (k) { return k * unit; }).filter(function (m) { return m <= target; }).pop();
    var h = canvas.clientHeight, x0 = canvas.clientWidth - panelWidth() - 30 - len * state.scale, y0 = h - 44;
    ctx.fillStyle = "#111"; ctx.fillRect(x0, y0, len * state.scale, 4);
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(len >= 1000 ? t("map.page.km", {n: num(len / 1000)}) : t("map.page.metres", {n: num(len)}), x0, y0 - 5);
  }

  // A plan's (or the scenario's) name is never broken at one of its hyphens, as on the PNG map: a word
  // joiner follows each (a name too long for a line of its own still breaks, map.css overflow-wrap).
  function whole(name) { return String(name).replace(/-/g, "-\u2060"); }
  // The same for the names quoted ('tps-posts') or in brackets in a line of text made by Python.
  function names(text) { return String(text).replace(/'[^']*'|\([^()]*\)/g, whole); }

  function legend() {
    var el = legendBox, html = "", diff = state.plan === DIFF;
    if (plans.length > 1) {
      plans.forEach(function (p, i) { html += '<button data-plan="' + i + '" class="' + (i === state.plan ? "on" : "") + '">' + esc(whole(p.name)) + "</button>"; });
      html += '<button data-plan="' + DIFF + '" class="' + (diff ? "on" : "") + '">' + esc(t("map.page.differenceButton")) + "</button>";
      html += '<div class="shares">' + D.difference.map(function (l) { return esc(names(l)); }).join("<br>") + "</div>";
    }
    var lower = 0;
    if (diff) {
      html += "<h3>" + esc(t("map.page.difference", {target: num(D.target_min)})) + "</h3>";
      [["gained", t("map.page.gained", {plan: whole(plans[1].name)})], ["lost", t("map.page.lost", {plan: whole(plans[0].name)})],
       ["both", t("map.page.both")], ["neither", t("map.page.neither")]].forEach(function (row) {
        html += '<span class="row"><span class="sw" style="background:' + D.change_colours[row[0]] + '"></span>' + esc(row[1]) + "</span>";
      });
      plans.forEach(function (p) { html += missedHtml(p); });
    } else {
      var p = plans[state.plan];
      html += "<div><b>" + esc(t("map.page.plan", {plan: whole(p.name)})) + "</b>: " + esc(p.description) + "</div>";
      html += '<div class="shares">' + esc(names(p.simulated)) + "</div>";
      html += '<div class="reach">' + p.legend.map(esc).join("<br>") + "</div>";
      html += "<h3>" + esc(t("map.page.bands", {plan: whole(p.name), target: num(D.target_min)})) + "</h3>";
      D.bands_min.forEach(function (b, i) { html += '<span class="row"><span class="sw" style="background:' + D.band_colours[i] + '"></span>' + esc(t("map.page.band", {low: num(lower), high: num(b)})) + "</span>"; lower = b; });
      html += '<span class="row"><span class="sw" style="background:' + D.band_colours[D.band_colours.length - 1] + '"></span>' + esc(t("map.page.over", {low: num(lower)})) + "</span>";
      if (p.results) {
        html += "<h3>" + esc(t(D.many ? "map.page.share.circles" : "map.page.share.sites", {target: num(D.target_min), plan: whole(p.name)})) + "</h3>";
        D.share_classes.forEach(function (c) { html += '<span class="row"><span class="dot" style="background:' + c[0] + '"></span> ' + esc(c[1]) + "</span>"; });
      }
      if (D.areas) {
        html += "<h3>" + esc(t(D.areas.simulated ? "map.page.circles.incidents" : "map.page.circles.sites")) + "</h3>";
        var marks = areaMarks(p), largest = Math.max.apply(null, marks.map(function (m) { return m[3]; }).concat([1]));
        [largest, Math.round(largest / 4), Math.round(largest / 16)].filter(function (v, i, all) { return v >= 1 && all.indexOf(v) === i; }).forEach(function (v) {
          var d = 2 * markRadius(v, largest);
          html += '<span class="row"><span class="circle" style="width:' + d + "px;height:" + d + 'px"></span> ' + num(v) + "</span>";
        });
      }
    }
    var kinds = {}, setKinds = {};
    D.sites.forEach(function (s) { if (s.set) setKinds[s.kind] = (setKinds[s.kind] || 0) + 1; else kinds[s.kind] = kinds[s.kind] || s; });
    html += "<h3>" + esc(t("map.page.sites")) + "</h3>";
    var glyph = {s: "&#9632;", D: "&#9670;", "^": "&#9650;", v: "&#9660;", o: "&#9679;", P: "&#10010;", p: "&#11039;", h: "&#11042;", ".": "&#8226;"};
    Object.keys(kinds).forEach(function (k) { html += '<span class="row"><span style="color:' + kinds[k].colour + '">' + (glyph[kinds[k].marker] || "&#9679;") + "</span> " + esc(k) + "</span>"; });
    Object.keys(setKinds).forEach(function (k) { html += '<span class="row"><span style="color:' + D.set_colour + '">&#9642;</span> ' + esc(t("map.page.setSites", {kind: k, n: num(setKinds[k])})) + "</span>"; });
    var coloured = diff || !plans[state.plan].results;
    if (coloured && D.sites.some(function (s) { return s.approx && !s.set; })) html += '<span class="row">&#9675; ' + esc(t("map.page.hollow")) + "</span>";
    if (!diff) {
      var pl = plans[state.plan], vehicles = pl.standing.reduce(function (a, b) { return a + b[1]; }, 0);
      html += "<h3>" + esc(t("map.page.units", {plan: whole(pl.name)})) + "</h3>";
      html += pl.standing.length > D.max_badges
        ? '<span class="row"><span style="color:' + D.unit_colour + '">&#9632;</span> ' + esc(t("map.page.posts.many", {vehicles: num(vehicles), posts: num(pl.standing.length)})) + "</span>"
        : '<span class="row"><span style="color:' + D.unit_colour + '">&#11044;</span> ' + esc(t("map.page.posts")) + "</span>";
      html += '<span class="row"><span style="color:' + D.unit_colour + '">- - -</span> ' + esc(t("map.page.circuit")) + "</span>";
      html += '<span class="row"><span style="color:' + D.unit_colour + '">+</span> ' + esc(t("map.page.randomPoints")) + "</span>";
      html += missedHtml(plans[state.plan]);
    }
    el.innerHTML = html;
    Array.prototype.forEach.call(el.querySelectorAll("button"), function (b) {
      b.addEventListener("click", function () { state.plan = +b.getAttribute("data-plan"); legend(); draw(); });
    });
  }
  function missedHtml(p) {
    if (!p.results) return "";
    var lines = p.results.missed;
    return "<h3>" + esc(names(lines[0])) + "</h3>" + (lines.length > 1 ? '<ul class="missed">' + lines.slice(1).map(function (l) { return "<li>" + esc(l.trim()) + "</li>"; }).join("") + "</ul>" : "");
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
  function minutes(n) {
    function time(dmin) { return dmin < 0 ? t("map.page.unreachable") : t("map.page.minutes", {n: num(dmin / 10, 1)}); }
    if (state.plan === DIFF) return t("map.page.fromNearest", {time: plans.map(function (p) { return "'" + p.name + "' " + time(p.time[n]); }).join(", ")});
    var dmin = plans[state.plan].time[n]; return dmin < 0 ? t("map.page.unreachable") : t("map.page.fromNearest", {time: time(dmin)});
  }
  // Every site under the pointer, nearest first, up to HOVER_SITES (sites that share a spot all show).
  var HOVER_SITES = 5;
  function siteText(s) {
    var text = s.name + (s.approx ? t("map.page.approximate") : "") + "\n" + s.kind + ": " + minutes(s.node);
    var p = plans[state.plan];
    if (p && p.results) { var res = p.results.sites[s.id]; text += "\n" + (res ? res.text : t("map.page.simulated", {text: t("map.page.noCounted")})); }
    return text;
  }
  function hover(px, py) {
    var under = [];
    D.sites.forEach(function (s) {
      var q = toScreen(s.x, s.y), dx = q[0] - px, dy = q[1] - py;
      if (Math.abs(dx) < 10 && Math.abs(dy) < 10) under.push({d: dx * dx + dy * dy, site: s});
    });
    under.sort(function (a, b) { return a.d - b.d; });  // stable (ES2019): sites at one spot in file order
    var text = under.slice(0, HOVER_SITES).map(function (u) { return siteText(u.site); }).join("\n\n");
    if (under.length > HOVER_SITES) text += "\n\n" + t("map.page.moreSites", {n: num(under.length - HOVER_SITES)});
    if (!text && state.plan !== DIFF) {
      var marks = areaMarks(plans[state.plan]), largest = Math.max.apply(null, marks.map(function (m) { return m[3]; }).concat([1]));
      marks.forEach(function (m) {
        var q = toScreen(m[1], m[2]), r = markRadius(m[3], largest);
        if (!text && (q[0] - px) * (q[0] - px) + (q[1] - py) * (q[1] - py) <= r * r)
          text = t(D.areas.simulated ? "map.page.kecamatan.simulated" : "map.page.kecamatan", {name: m[0], words: m[5]});
      });
    }
    if (!text) {
      var d = toData(px, py), n = nearestNode(d[0], d[1], 15 / state.scale);
      if (n >= 0) text = t("map.page.road", {time: minutes(n)});
    }
    state.hover = text;
    tooltip.textContent = text;
    tooltip.style.display = text ? "block" : "none";
    // Below right of the pointer, moved left or up where it would leave the window (the tooltip is fixed
    // to the window; the canvas may be scrolled or below the title).
    var at = canvas.getBoundingClientRect(), x = at.left + px, y = at.top + py;
    var W = document.documentElement.clientWidth, H = window.innerHeight, left = x + 14, top = y + 14;
    if (text) {
      if (left + tooltip.offsetWidth > W - 4) left = Math.max(4, x - 14 - tooltip.offsetWidth);
      if (top + tooltip.offsetHeight > H - 4) top = Math.max(4, H - 4 - tooltip.offsetHeight);
    }
    tooltip.style.left = left + "px"; tooltip.style.top = top + "px";
  }

  PanZoom.attach(canvas, state, {changed: draw, reset: fit, hover: hover, zoomRange: [1e-4, 20]});
  // The tooltip is fixed to the window: a scrolled page or a pinched map would leave it beside another place
  // (a tap shows it again: it arrives after its touchstart as a mouse move).
  function hideTooltip() { tooltip.style.display = "none"; }
  canvas.addEventListener("mouseleave", hideTooltip);
  window.addEventListener("scroll", hideTooltip);
  canvas.addEventListener("touchstart", hideTooltip, {passive: true});
  window.addEventListener("resize", resize);

  // A touch screen (its main pointer a finger) is told about fingers, not the wheel.
  document.getElementById("help").textContent = t(window.matchMedia("(pointer: coarse)").matches ? "map.page.helpTouch" : "map.page.help");
  document.getElementById("title").textContent = names(D.title);
  document.getElementById("subtitle").textContent = D.subtitle;
  // The corner badge's words come with the page (the synthetic-network note); real roads need none.
  if (!D.synthetic) document.getElementById("corner").style.display = "none";
  legend(); resize();
})();
