// "Play": one replication of the plan as it is now, on the map: units by state, incidents by state
// (deterred and spotted-by-patrol marks too), a line from each unit to the incident it drives to.
"use strict";
const PLAY_HOURS = [3, 6, 12, 24, 48];
const PLAY_SPEEDS = [5, 15, 30, 60, 120];   // simulated minutes per second of playback
const Play = {
  running: false, data: null, frame: 0, shown: -1, timer: null, units: [], incidents: [], lines: [],

  setup() {
    const hours = document.getElementById("play-hours");
    hours.innerHTML = PLAY_HOURS.filter(h => h <= S.scenario.limits.animation_hours)
      .map(h => `<option value="${h}"${h === 6 ? " selected" : ""}>${h}</option>`).join("");
    this.speedOptions();
    document.getElementById("play").onclick = () => this.start();
    document.getElementById("play-stop").onclick = () => this.stop();
  },

  speedOptions() {
    const speed = document.getElementById("play-speed");
    const chosen = speed.value || "30";
    speed.innerHTML = PLAY_SPEEDS.map(s => `<option value="${s}"${String(s) === chosen ? " selected" : ""}>` +
      `${escapeHtml(t("page.play.perSecond", {min: s}))}</option>`).join("");
  },

  async start() {
    const button = document.getElementById("play");
    button.disabled = true;
    setStatus("page.status.animating");
    try {
      const id = await currentId();
      const hours = +document.getElementById("play-hours").value;
      // from ten in the morning of the first day after the warm-up: units at their posts, incidents by day
      const clockHour = new Date(S.scenario.clock.start).getHours();
      let start = ((10 - clockHour) % 24 + 24) % 24;
      while (start < S.scenario.clock.warmup_hours) start += 24;
      this.data = await api("GET", `/api/animation?id=${id}&hours=${hours}&from=${start}&frames_per_min=1`);
    } catch (error) {
      showError(error);
      button.disabled = false;
      return;
    }
    button.disabled = false;
    this.running = true;
    this.frame = 0;
    MapView.layers.units.clearLayers();
    MapView.layers.ghost.clearLayers();
    MapView.declutter();
    document.getElementById("play").hidden = true;
    document.getElementById("play-stop").hidden = false;
    document.getElementById("play-box").hidden = false;
    MapView.bringIntoView();
    this.legend();
    this.build();
    this.tick();
    setStatus("page.status.playing", {n: this.data.incidents_shown});
  },

  stop() {
    clearTimeout(this.timer);
    this.running = false;
    MapView.layers.play.clearLayers();
    document.getElementById("play").hidden = false;
    document.getElementById("play-stop").hidden = true;
    document.getElementById("play-box").hidden = true;
    drawPlan();
  },

  build() {
    const layer = MapView.layers.play;
    layer.clearLayers();
    const d = this.data;
    this.lines = d.units.map(() => L.polyline([], {color: COLOURS.dispatch, weight: 2, dashArray: "4 4",
      interactive: false}).addTo(layer));
    this.incidents = d.incident_x.map((x, i) => L.circleMarker([d.incident_y[i], x], {radius: 8, weight: 2,
      color: "#000", fillOpacity: 0.9, opacity: 0}).bindTooltip(escapeHtml(d.incident_types[i])).addTo(layer));
    this.units = d.units.map((name, u) => L.circleMarker([d.unit_y[0][u], d.unit_x[0][u]], {radius: 6, weight: 2,
      color: COLOURS.unitEdge, fillOpacity: 1}).bindTooltip(escapeHtml(name)).addTo(layer));
  },

  incidentState(i, frame) {
    let state = 0;
    for (const [k, value] of this.data.incident_changes[i]) { if (k > frame) break; state = value; }
    return state;
  },

  draw(frame) {
    const d = this.data;
    this.shown = frame;
    d.units.forEach((_, u) => {
      const marker = this.units[u];
      marker.setLatLng([d.unit_y[frame][u], d.unit_x[frame][u]]);
      marker.setStyle({fillColor: COLOURS.unitState[d.unit_state[frame][u]]});
      const target = d.unit_target[frame][u];
      this.lines[u].setLatLngs(target >= 0 ? [[d.unit_y[frame][u], d.unit_x[frame][u]],
        [d.incident_y[target], d.incident_x[target]]] : []);
    });
    this.incidents.forEach((marker, i) => {
      const state = this.incidentState(i, frame);
      marker.setStyle({opacity: state ? 1 : 0, fillOpacity: state ? 0.9 : 0,
        fillColor: COLOURS.incidentState[state], radius: state === 6 ? 13 : 8});
    });
    const share = d.within_target_pct[frame];
    document.getElementById("play-clock").innerHTML = `<div>${escapeHtml(this.clockText(frame))}</div><div class="figures">` +
      escapeHtml(t("page.play.figures", {answered: d.answered[frame], share: share === null ? "–" : formatNumber(share, 1),
        waiting: d.waiting[frame]})) + "</div>";
  },

  // The frame's date and time in the page's language (the scenario's clock is local time: no zone).
  clockText(frame) {
    const d = this.data;
    const at = new Date(Date.parse(`${d.start.slice(0, 19)}Z`) + d.minutes[frame] * 60000);
    return at.toLocaleString(I18N.lang === "id" ? "id-ID" : "en-GB", {timeZone: "UTC", weekday: "short",
      day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false});
  },

  tick() {
    if (!this.running) return;
    this.draw(this.frame);
    const perSecond = +document.getElementById("play-speed").value * this.data.frames_per_min;
    const step = Math.max(1, Math.round(perSecond / 20));   // at most 20 pictures a second
    this.frame += step;
    if (this.frame >= this.data.frames) { this.frame = this.data.frames - 1; this.draw(this.frame); return; }
    this.timer = setTimeout(() => this.tick(), (1000 * step) / perSecond);
  },

  legend() {
    const box = document.getElementById("play-legend");
    const item = (colour, key) => `<div class="item"><span class="dot" style="background:${colour}"></span>` +
      `${escapeHtml(t(key))}</div>`;
    box.innerHTML = ["standing", "patrolling", "toIncident", "onScene", "returning"]
      .map((key, k) => item(COLOURS.unitState[k], `page.play.unit.${key}`)).join("") +
      ["waiting", "onTheWay", "onScene", "cleared", "deterred", "spotted"]
        .map((key, k) => item(COLOURS.incidentState[k + 1], `page.play.incident.${key}`)).join("");
  },
};
