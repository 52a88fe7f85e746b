/* The view transform and pan/zoom by mouse and fingers of the map page (map.js).
 *
 * A view maps the plane in metres (x east, y north) to CSS pixels of a canvas:
 *   screen = (tx + x * scale, ty - y * scale)        (y flips: north is up)
 * PanZoom.view(obj) adds scale, tx, ty, toScreen, toData and fit to obj and returns it, so a page
 * can keep its own state in the same object. PanZoom.attach(canvas, view, on) lets the mouse
 * move the view: wheel zooms about the pointer, dragging pans, double-click resets. On a touch
 * screen two fingers pinch and pan; one finger is left to the page, which it scrolls on a phone
 * (a tap arrives as a mouse move, so it shows what a hover shows).
 */
"use strict";
var PanZoom = (function () {
  function view(target) {
    var v = target || {};
    v.scale = 1; v.tx = 0; v.ty = 0;
    v.toScreen = function (x, y) { return [v.tx + x * v.scale, v.ty - y * v.scale]; };
    v.toData = function (px, py) { return [(px - v.tx) / v.scale, (v.ty - py) / v.scale]; };
    // Show a widthM x heightM box (corner at 0, 0) centred in rect [left, top, width, height]
    // of the screen, at one scale both ways, with room (1.04: 4% margin) around it.
    v.fit = function (widthM, heightM, rect, room) {
      var s = Math.min(rect[2] / (widthM * room), rect[3] / (heightM * room));
      v.scale = s; v.tx = rect[0] + (rect[2] - widthM * s) / 2; v.ty = rect[1] + (rect[3] + heightM * s) / 2;
    };
    return v;
  }

  // on.changed(): redraw after a pan or zoom; on.reset(): the view for a double-click;
  // on.hover(px, py): the pointer moved with no button held (optional);
  // on.zoomRange: [smallest, largest] scale in CSS pixels per metre.
  function attach(canvas, v, on) {
    var drag = null, range = on.zoomRange || [1e-4, 20];
    canvas.addEventListener("mousedown", function (e) { drag = [e.clientX, e.clientY, v.tx, v.ty]; canvas.classList.add("dragging"); });
    window.addEventListener("mouseup", function () { drag = null; canvas.classList.remove("dragging"); });
    canvas.addEventListener("mousemove", function (e) {
      if (drag) { v.tx = drag[2] + e.clientX - drag[0]; v.ty = drag[3] + e.clientY - drag[1]; on.changed(); }
      else if (on.hover) on.hover(e.offsetX, e.offsetY);
    });
    canvas.addEventListener("wheel", function (e) {
      e.preventDefault();   // the wheel zooms the map instead of scrolling the page
      var k = Math.exp(-e.deltaY * 0.0015), d = v.toData(e.offsetX, e.offsetY);
      v.scale = Math.max(range[0], Math.min(range[1], v.scale * k));
      // Keep the point under the pointer where it is.
      v.tx = e.offsetX - d[0] * v.scale; v.ty = e.offsetY + d[1] * v.scale;
      on.changed();
    }, {passive: false});
    canvas.addEventListener("dblclick", function () { on.reset(); on.changed(); });

    // Two fingers: the point first between them stays between them, the view scaled as they spread.
    var pinch = null;
    function fingers(e) {
      var box = canvas.getBoundingClientRect(), a = e.touches[0], b = e.touches[1];
      return {x: (a.clientX + b.clientX) / 2 - box.left, y: (a.clientY + b.clientY) / 2 - box.top,
              apart: Math.max(1, Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY))};
    }
    canvas.addEventListener("touchstart", function (e) {
      if (e.touches.length !== 2) { pinch = null; return; }
      e.preventDefault();   // the map moves, not the page
      var f = fingers(e);
      pinch = {apart: f.apart, scale: v.scale, at: v.toData(f.x, f.y)};
    }, {passive: false});
    canvas.addEventListener("touchmove", function (e) {
      if (!pinch || e.touches.length !== 2) return;
      e.preventDefault();
      var f = fingers(e);
      v.scale = Math.max(range[0], Math.min(range[1], pinch.scale * f.apart / pinch.apart));
      v.tx = f.x - pinch.at[0] * v.scale; v.ty = f.y + pinch.at[1] * v.scale;
      on.changed();
    }, {passive: false});
    canvas.addEventListener("touchend", function (e) { if (e.touches.length < 2) pinch = null; });
    canvas.addEventListener("touchcancel", function () { pinch = null; });
  }

  return {view: view, attach: attach};
})();
