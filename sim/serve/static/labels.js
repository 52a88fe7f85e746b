// Where each unit's label goes on the map: beside its dot, or a little further out with a short
// leader line to it; never over a dot, another label or a leader line. Units standing at one place
// share one column of labels. Positions are screen pixels; MapView.declutter gathers the units and
// applies the answer.
"use strict";

const LABEL_GAP_PX = 3;       // between a dot and a label beside it
const DOT_RADIUS_PX = 7;
const LABEL_STEPS_PX = [0, 6, 12, 18, 24, 30, 36, 42, 48];   // further out than beside: with a leader line
const LABEL_MAX_PX = DOT_RADIUS_PX + LABEL_GAP_PX + 48;     // no label further from its dot than this
const SAME_PLACE_PX = 5;      // units closer than this on the screen share a column of labels
const COLUMN_MAX = 4;         // labels in one column

// Directions a label may take from its unit, tried in this order: right, left, above, below, the
// corners, then those between (unit vectors, screen y down).
const LABEL_DIRECTIONS = [0, 180, 270, 90, 315, 225, 45, 135, 337.5, 202.5, 22.5, 157.5, 292.5, 247.5, 67.5, 112.5,
  345, 195, 15, 165, 300, 240, 60, 120]
  .map(degrees => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)]);

// Boxes on the screen ({x0, x1, y0, y1} pixels) in a grid of buckets, for quick overlap queries.
class BoxGrid {
  constructor(cellPx = 48) { this.cell = cellPx; this.buckets = new Map(); }

  // Calls f(bucket) for every bucket r touches, until f returns true; whether one did.
  _any(r, f) {
    const c = this.cell;
    for (let i = Math.floor(r.x0 / c), i1 = Math.floor(r.x1 / c); i <= i1; i++) {
      for (let j = Math.floor(r.y0 / c), j1 = Math.floor(r.y1 / c); j <= j1; j++) {
        const bucket = this.buckets.get(i * 65536 + j);
        if (bucket && f(bucket)) return true;
      }
    }
    return false;
  }

  add(r) {
    const c = this.cell;
    for (let i = Math.floor(r.x0 / c), i1 = Math.floor(r.x1 / c); i <= i1; i++) {
      for (let j = Math.floor(r.y0 / c), j1 = Math.floor(r.y1 / c); j <= j1; j++) {
        const key = i * 65536 + j;
        if (!this.buckets.has(key)) this.buckets.set(key, []);
        this.buckets.get(key).push(r);
      }
    }
  }

  // Whether a box shares area with `r`.
  overlaps(r) {
    return this._any(r, bucket => bucket.some(t => r.x0 < t.x1 && r.x1 > t.x0 && r.y0 < t.y1 && r.y1 > t.y0));
  }

  // Whether a box (of those added as points) lies inside `r`.
  holdsPointIn(r) {
    return this._any(r, bucket => bucket.some(t => t.x0 > r.x0 && t.x0 < r.x1 && t.y0 > r.y0 && t.y0 < r.y1));
  }

  // Whether a box holds the point [x, y] inside it.
  covers([x, y]) {
    const bucket = this.buckets.get(Math.floor(x / this.cell) * 65536 + Math.floor(y / this.cell));
    return !!bucket && bucket.some(t => x > t.x0 && x < t.x1 && y > t.y0 && y < t.y1);
  }
}

// The point of box r nearest (x, y).
function nearestOf(r, x, y) {
  return [Math.max(r.x0, Math.min(x, r.x1)), Math.max(r.y0, Math.min(y, r.y1))];
}

// Points every 3 px along the line from p to q, from `skip` px out of p.
function along(p, [qx, qy], skip) {
  const length = Math.hypot(qx - p.x, qy - p.y), points = [];
  for (let d = skip; d < length; d += 3) points.push([p.x + ((qx - p.x) * d) / length, p.y + ((qy - p.y) * d) / length]);
  return points;
}

// Units at one place on the screen, in columns of at most COLUMN_MAX: [[index, ...], ...].
function columnsOf(units) {
  const columns = [], taken = new Set();
  units.forEach((u, i) => {
    if (taken.has(i)) return;
    const column = [i];
    taken.add(i);
    units.forEach((v, j) => {
      if (!taken.has(j) && column.length < COLUMN_MAX && Math.hypot(v.p.x - u.p.x, v.p.y - u.p.y) < SAME_PLACE_PX) {
        column.push(j);
        taken.add(j);
      }
    });
    columns.push(column);
  });
  return columns;
}

// Places for the labels of `units` ({p: {x, y}, w, h}, screen pixels): for each, null (no room) or
// {dx, dy} (its top-left corner from its unit) and `leader` ([x, y] from its unit, or null).
// `solid`: boxes no label may cover (BoxGrid); `sites`: boxes a label covers only when nothing else
// is free, and never when `crowded`; labels stay inside 0..width, 0..bottom.
function placeLabels(units, solid, sites, width, bottom, crowded) {
  const labels = new BoxGrid(), lines = new BoxGrid();
  for (const u of units) solid.add({x0: u.p.x - DOT_RADIUS_PX, x1: u.p.x + DOT_RADIUS_PX, y0: u.p.y - DOT_RADIUS_PX,
    y1: u.p.y + DOT_RADIUS_PX});
  const fits = (r, avoidSites) => r.x0 >= 0 && r.y0 >= 0 && r.x1 <= width && r.y1 <= bottom &&
    !solid.overlaps(r) && !(avoidSites && sites.overlaps(r)) && !lines.holdsPointIn(r);
  const columns = columnsOf(units).map(members => {
    const p = units[members[0]].p;
    const near = units.filter(o => Math.abs(o.p.x - p.x) + Math.abs(o.p.y - p.y) < 60).length;
    return {members, p, near, w: Math.max(...members.map(i => units[i].w)),
      h: members.reduce((sum, i) => sum + units[i].h, 0) + members.length - 1};
  });
  columns.sort((a, b) => b.near - a.near);   // the most crowded choose first: fewest places are left them later
  const found = units.map(() => null);
  for (const column of columns) {
    const {p, w, h, members} = column;
    let best = null;
    search: for (const avoidSites of crowded ? [true] : [true, false]) {
      for (const step of LABEL_STEPS_PX) {
        const d = DOT_RADIUS_PX + LABEL_GAP_PX + step;
        for (const [ux, uy] of LABEL_DIRECTIONS) {
          // the column's top-left corner: its side nearest the unit d px away in direction (ux, uy)
          const x0 = p.x + (ux > 0.38 ? d * ux : ux < -0.38 ? d * ux - w : d * ux - w / 2);
          const y0 = p.y + (uy > 0.38 ? d * uy : uy < -0.38 ? d * uy - h : d * uy - h / 2);
          const r = {x0, x1: x0 + w, y0, y1: y0 + h};
          if (!fits(r, avoidSites)) continue;
          const rows = rowsOf(units, members, r, ux);
          const far = rows.some((row, k) => {
            const q = units[members[k]].p, [x, y] = nearestOf(row, q.x, q.y);
            return Math.hypot(x - q.x, y - q.y) > LABEL_MAX_PX;
          });
          if (far) continue;
          const leader = step ? along(p, nearestOf(r, p.x, p.y), DOT_RADIUS_PX + 1) : [];
          if (!leader.some(point => labels.covers(point))) { best = {r, rows, leader, step}; break search; }
        }
      }
    }
    if (!best) continue;
    const placed = {x0: best.r.x0 - 1, x1: best.r.x1 + 1, y0: best.r.y0 - 1, y1: best.r.y1 + 1};
    solid.add(placed);
    labels.add(placed);
    for (const [x, y] of best.leader) lines.add({x0: x, x1: x, y0: y, y1: y});
    members.forEach((i, k) => {
      const u = units[i], row = best.rows[k];
      const end = nearestOf(best.r, p.x, p.y);
      found[i] = {dx: row.x0 - u.p.x, dy: row.y0 - u.p.y,
        leader: best.step && k === 0 ? [end[0] - u.p.x, end[1] - u.p.y] : null};
    });
  }
  return found;
}

// The rows of a column of labels in its box r: against the side nearest the units (right-aligned
// when the column stands to their left, centred above or below them).
function rowsOf(units, members, r, ux) {
  let y = r.y0;
  return members.map(i => {
    const {w, h} = units[i];
    const x0 = ux < -0.38 ? r.x1 - w : ux > 0.38 ? r.x0 : (r.x0 + r.x1 - w) / 2;
    const row = {x0, x1: x0 + w, y0: y, y1: y + h};
    y += h + 1;
    return row;
  });
}

// A thin line from the unit's point to (x, y) relative to it (null: none), as a rotated box.
function drawLeader(el, to) {
  if (!to) { el.style.display = "none"; return; }
  const [x, y] = to;
  el.style.display = "block";
  el.style.width = `${Math.hypot(x, y)}px`;
  el.style.transform = `rotate(${Math.atan2(y, x)}rad)`;
}
