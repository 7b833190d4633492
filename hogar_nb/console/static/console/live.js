// The live deployment page: the topology coloured by node health and six Plotly panels,
// first drawn from the stored history, then extended by Server-Sent Events (about 1/s).
// The same stream carries the deployment's state, URL, error and which controls apply.
(function () {
  "use strict";
  const MAX_POINTS = 3600;
  const EVENT_COLOURS = { recovery: "#d62728", restart: "#d62728", reconfigure: "#1f77b4", fault: "#ff7f0e", start: "#2ca02c", stop: "#555", failed: "#5c0a0a" };
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }
  // With no point yet, a time axis spans the last five minutes (plotly's empty default
  // is January 2000); the first sample gives the axis back to autorange.
  const TIME_PANELS = ["panel-throughput", "panel-latency", "panel-errors", "panel-queue", "panel-replicas"];
  let emptyAxes = false;
  const layoutBase = (title, ytitle) => ({
    title: { text: title, font: { size: 13 } }, margin: { l: 50, r: 10, t: 30, b: 30 },
    xaxis: emptyAxes ? { type: "date", range: [new Date(Date.now() - 300000), new Date()] } : { type: "date" },
    yaxis: emptyAxes ? { title: { text: ytitle }, range: [0, 1] } : { title: { text: ytitle }, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.2, font: { size: 10 } }, showlegend: true,
  });
  const config = { displaylogo: false, displayModeBar: false, responsive: true };

  const state = { points: 0, samples: 0, causes: {}, workers: [], cy: null, last: null, events: [] };
  window.hogarLive = state;

  function fmtTime(t) { return new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19); }

  function addEventRows(events) {
    const body = document.querySelector("#events tbody");
    for (const e of events) {
      const tr = document.createElement("tr");
      tr.className = "event " + e.kind;
      for (const text of [fmtTime(e.time), e.kind, e.node || "", e.text]) tr.insertCell().textContent = text;
      body.prepend(tr);
    }
  }

  function eventTrace(events) {
    return {
      x: events.map((e) => new Date(e.time * 1000)), y: events.map(() => 0), mode: "markers", type: "scatter",
      name: "events", text: events.map((e) => e.kind + ": " + e.text), hoverinfo: "x+text",
      marker: { symbol: "triangle-up", size: 11, color: events.map((e) => EVENT_COLOURS[e.kind] || "#555") },
    };
  }

  function eventShapes(events) {
    return events.filter((e) => e.kind !== "start").map((e) => ({
      type: "line", xref: "x", yref: "paper", x0: new Date(e.time * 1000), x1: new Date(e.time * 1000), y0: 0, y1: 1,
      line: { color: EVENT_COLOURS[e.kind] || "#555", width: 1, dash: "dot" },
    }));
  }

  function series(points, f) { return points.map(f); }

  // Errors per second over the seconds a point covers (a live sample ~1 s, a stored row
  // ~10 s), so the live panel and the same minutes loaded from history agree.
  function perSecond(p, n) { return (n || 0) / (p.dt > 0 ? p.dt : 1); }

  function initPanels(points, events) {
    emptyAxes = points.length === 0;
    const x = points.map((p) => new Date(p.t * 1000));
    Plotly.newPlot("panel-throughput", [{ x, y: series(points, (p) => p.rps), name: "requests/s", mode: "lines", line: { color: "#1f77b4" } }],
      layoutBase("Throughput", "requests/s"), config);
    Plotly.newPlot("panel-latency", ["p50", "p95", "p99"].map((q, i) => ({
      x, y: series(points, (p) => p[q]), name: q, mode: "lines", line: { color: ["#2ca02c", "#ff7f0e", "#d62728"][i] },
    })), layoutBase("Latency", "ms"), config);
    const causes = new Set();
    points.forEach((p) => Object.keys(p.by_cause || {}).forEach((c) => causes.add(c)));
    // Trace 0 is every error together, so the panel has a time axis before the first error.
    const causeTraces = [{ x, y: series(points, (p) => perSecond(p, p.errors)), name: "all causes", mode: "lines",
      line: { color: "#999", dash: "dot", width: 1 } }];
    for (const c of causes) {
      state.causes[c] = causeTraces.length;
      causeTraces.push({ x, y: series(points, (p) => perSecond(p, (p.by_cause || {})[c])), name: c, type: "scatter", mode: "lines", stackgroup: "errors" });
    }
    Plotly.newPlot("panel-errors", causeTraces, layoutBase("Errors by cause", "errors/s"), config);
    const qTraces = [{ x, y: series(points, (p) => p.queue), name: "all queues", mode: "lines", line: { color: "#9467bd" } }];
    Plotly.newPlot("panel-queue", qTraces, layoutBase("Queue depth", "requests waiting"), config);
    const repl = state.workers.map((n) => ({
      x, y: series(points, (p) => (p.alive || {})[n]), name: n, mode: "lines", line: { shape: "hv" },
    }));
    repl.push(eventTrace(events));
    const rl = layoutBase("Replicas alive and events", "replicas");
    rl.shapes = eventShapes(events);
    Plotly.newPlot("panel-replicas", repl, rl, config);
    const dl = layoutBase("Response latency distribution (last sample)", "responses");
    dl.xaxis = { title: { text: "ms (bucket upper bound)" }, type: "category" };
    Plotly.newPlot("panel-distribution", [{ x: [], y: [], type: "bar", name: "responses", marker: { color: "#17becf" } }], dl, config);
    state.points = points.length;
  }

  function extend(p) {
    const t = [new Date(p.t * 1000)];
    if (emptyAxes) {
      emptyAxes = false;
      for (const id of TIME_PANELS) Plotly.relayout(id, { "xaxis.autorange": true, "yaxis.autorange": true, "yaxis.rangemode": "tozero" });
    }
    Plotly.extendTraces("panel-throughput", { x: [t], y: [[p.rps]] }, [0], MAX_POINTS);
    Plotly.extendTraces("panel-latency", { x: [t, t, t], y: [[p.p50], [p.p95], [p.p99]] }, [0, 1, 2], MAX_POINTS);
    for (const c of Object.keys(p.by_cause || {})) {
      if (!(c in state.causes)) {
        state.causes[c] = document.getElementById("panel-errors").data.length;
        Plotly.addTraces("panel-errors", { x: [], y: [], name: c, type: "scatter", mode: "lines", stackgroup: "errors" });
      }
    }
    const names = Object.keys(state.causes);
    Plotly.extendTraces("panel-errors", {
      x: [t, ...names.map(() => t)], y: [[perSecond(p, p.errors)], ...names.map((c) => [perSecond(p, (p.by_cause || {})[c])])],
    }, [0, ...names.map((c) => state.causes[c])], MAX_POINTS);
    Plotly.extendTraces("panel-queue", { x: [t], y: [[p.queue]] }, [0], MAX_POINTS);
    if (state.workers.length) {
      Plotly.extendTraces("panel-replicas", {
        x: state.workers.map(() => t), y: state.workers.map((n) => [((p.nodes || {})[n] || {}).alive]),
      }, state.workers.map((_, i) => i), MAX_POINTS);
    }
    if (p.hist && p.bounds && p.bounds.length && p.hist.some((n) => n > 0)) {
      // Only the buckets between the fastest and the slowest response of the last second.
      const first = p.hist.findIndex((n) => n > 0);
      let last = p.hist.length - 1;
      while (last > first && p.hist[last] === 0) last -= 1;
      const labels = p.bounds.slice(first, last + 1).map((b) => (b === null ? "inf" : "≤" + (b * 1000).toPrecision(3)));
      Plotly.react("panel-distribution", [{ x: labels, y: p.hist.slice(first, last + 1), type: "bar", name: "responses", marker: { color: "#17becf" } }],
        document.getElementById("panel-distribution").layout, config);
    }
    state.points += 1;
  }

  // A node's replica count changed (an operator scaled it): its label's "×N" badge, its
  // attribute rows, and the details panel when it shows this node.
  function showReplicas(node, n) {
    if (node.data("replicas") === n) return;
    node.data("replicas", n);
    const badges = [n !== 1 ? "×" + n : "", node.data("gpu") || ""].filter(Boolean).join(" · ");
    node.data("label", badges ? node.id() + "\n" + badges : node.id());
    node.data("attrs", (node.data("attrs") || []).map(([k, v]) => [k, k === "replicas" ? String(n) : v]));
    const panel = document.getElementById("details");
    if (panel.dataset.node === node.id()) {
      for (const tr of panel.querySelectorAll("table.node-attrs tr")) {
        if (tr.cells[0].textContent === "replicas") tr.cells[1].querySelector("code").textContent = String(n);
      }
    }
  }

  function colourNodes(p) {
    if (!state.cy || !p.nodes) return;
    state.cy.batch(() => {
      for (const [name, h] of Object.entries(p.nodes)) {
        const node = state.cy.getElementById(name);
        if (!node.length) continue;
        const want = "health-" + h.level;
        if (!node.hasClass(want)) {
          node.classes((node.classes() || []).filter((c) => !c.startsWith("health-")).concat([want]));
        }
        node.data("health", h);
        if (h.replicas) showReplicas(node, h.replicas);
      }
    });
    for (const [name, h] of Object.entries(p.nodes)) {
      const row = document.querySelector('table.settings tr[data-node="' + CSS.escape(name) + '"]');
      if (!row) continue;
      row.querySelector(".alive").textContent = h.alive + "/" + h.replicas;
      row.querySelector(".replicas").textContent = h.replicas;
      const cell = row.querySelector(".health");
      cell.textContent = h.level + (h.reason ? " (" + h.reason + ")" : "");
      cell.dataset.level = h.level;
    }
  }

  function onEvents(events) {
    state.events = state.events.concat(events);
    addEventRows(events);
    const div = document.getElementById("panel-replicas");
    const last = div.data.length - 1;
    const tr = eventTrace(state.events);
    Plotly.restyle(div, { x: [tr.x], y: [tr.y], text: [tr.text], "marker.color": [tr.marker.color] }, [last]);
    Plotly.relayout(div, { shapes: eventShapes(state.events) });
  }

  // The model quality table, redrawn from the rows the stream sends when the server's
  // report changes; numbers as the page first rendered them (Django's floatformat).
  function fmtScore(v) { return Number.isInteger(v) ? String(v) : v.toFixed(4); }
  function joined(obj, fmt) {
    const parts = Object.entries(obj || {}).map(([k, v]) => k + " " + fmt(v));
    return parts.length ? parts.join(" · ") : "—";
  }
  function renderQuality(rows) {
    const body = document.querySelector("#quality tbody");
    if (!body) return;
    state.quality = rows;
    state.qualityUpdates = (state.qualityUpdates || 0) + 1;
    const fresh = document.createElement("tbody");
    for (const q of rows) {
      const tr = fresh.insertRow();
      tr.dataset.node = q.node;
      const cells = [
        ["", q.node], ["", q.variant || "—"],
        ["drift-share", q.drift_share === null || q.drift_share === undefined ? "—" : q.drift_share.toFixed(2)],
        ["drifted", (q.drifted || []).join(", ") || "none"],
        ["scores", joined(q.quality, fmtScore)], ["labels", joined(q.labels, String)],
      ];
      for (const [cls, text] of cells) {
        const td = tr.insertCell();
        if (cls) td.className = cls;
        td.textContent = text;
      }
    }
    body.replaceWith(fresh);
    const when = document.getElementById("quality-when");
    if (when) when.textContent = rows.length ? "live" : "no report from the server yet";
    refreshLabels();
  }

  // The labels posted to the console, read again when the server's report changed.
  const LABEL_OUTCOMES = ["matched", "unknown", "expired", "duplicate", "pending", "refused"];
  async function refreshLabels() {
    const line = document.getElementById("console-labels");
    if (!line) return;
    try {
      const response = await fetch(line.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const t = (await response.json()).labels;
      line.querySelector(".totals").textContent = t.received + " received, " + t.undelivered + " waiting for the server" +
        LABEL_OUTCOMES.map((o) => ", " + t[o] + " " + o).join("");
    } catch (err) { /* the next report tries again */ }
  }

  // The deployment's state as the stream sends it: the header, the error box and the controls.
  function applyStatus(s) {
    state.status = s;
    const badge = document.getElementById("dep-state");
    badge.textContent = s.state;
    badge.className = "state " + s.state;
    if ("url" in s) {
      document.getElementById("dep-url").textContent = s.url || "";
      document.getElementById("dep-where").hidden = !s.url;
    }
    if ("error" in s) {
      const box = document.getElementById("dep-error");
      box.textContent = s.error || "";
      box.hidden = !s.error;
    }
    if ("server_restarts" in s) document.getElementById("dep-server-restarts").textContent = s.server_restarts;
    const when = document.getElementById("quality-when");
    if (when && s.state !== "running" && when.textContent === "live") {
      when.textContent = "as last reported (the server does not answer now)";
    }
    const live = document.getElementById("live-controls");
    const stopped = document.getElementById("stopped-controls");
    if (live) live.hidden = !s.live;
    if (stopped) stopped.hidden = s.live || s.state === "removed";
  }

  // Apply and fault forms post in place: progress, then the answer, with no page load.
  function showAction(text, kind) {
    const line = document.getElementById("action-status");
    line.textContent = text;
    line.className = "action-status " + kind;
    line.hidden = false;
  }

  async function postInPlace(form, submitter) {
    const body = new FormData(form, submitter);
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    showAction(form.id === "reconfigure-form"
      ? "applying " + body.get("node") + "." + body.get("attr") + " = " + body.get("value") + " …"
      : "sending to the server …", "progress");
    try {
      let response, answer;
      for (;;) {
        response = await fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
        try { answer = await response.json(); } catch (err) { answer = { error: { message: "the console answered " + response.status } }; }
        // More than the machine or the cluster holds: applied only once the operator confirms.
        if (response.status !== 409 || !answer.error || !answer.error.confirm) break;
        if (!window.confirm(answer.error.message + ".\n\nApply it anyway?")) {
          showAction("not applied: " + answer.error.message, "error");
          return;
        }
        body.set("confirm", "1");
      }
      if (response.ok) {
        showAction(answer.message, "success");
        if (form.id === "reconfigure-form") showSettings(body.get("node"), answer.result || {});
      } else {
        showAction((answer.error && answer.error.message) || "the console answered " + response.status, "error");
      }
    } catch (err) {
      showAction("the console did not answer: " + err.message, "error");
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // The settings row of a node after a change, from what the server answered.
  function showSettings(node, r) {
    const row = document.querySelector('table.settings tr[data-node="' + CSS.escape(node) + '"]');
    if (!row) return;
    const ms = (v) => (v >= 1000 ? v / 1000 + " s" : v + " ms");
    const cells = { replicas: r.replicas, batch: r.batch, batch_wait: r.batch_wait_ms !== undefined ? ms(r.batch_wait_ms) : undefined,
      timeout: r.timeout_ms !== undefined ? ms(r.timeout_ms) : undefined, retries: r.retries };
    for (const [cls, value] of Object.entries(cells)) {
      if (value !== undefined && value !== null) row.querySelector("." + cls).textContent = value;
    }
  }

  function loadPlotly(src) {
    if (window.Plotly) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = resolve;
      script.onerror = () => reject(new Error("cannot load " + src));
      document.head.append(script);
    });
  }

  document.addEventListener("DOMContentLoaded", async function () {
    const marks = (state.marks = { start: performance.now() });
    const cfg = data("live-config");
    const elements = data("graph-elements");
    state.workers = cfg.traced;
    state.cy = window.hogarDrawGraph(document.getElementById("cy"), elements, data("graph-style"),
      { details: document.getElementById("details") });
    window.hogarCy = state.cy;
    marks.drawn = performance.now();
    state.cy.on("tap", "node", (ev) => {
      const h = ev.target.data("health");
      if (!h) return;
      const div = document.createElement("div");
      div.className = "node-health";
      div.textContent = "health: " + h.level + (h.reason ? " (" + h.reason + ")" : "") +
        (h.rps !== undefined ? ", " + h.rps + " rps, queue " + h.queue : "") + ", " + h.alive + "/" + h.replicas + " alive";
      document.getElementById("details").prepend(div);
    });
    // The topology is drawn; plotly.js (large) compiles off the main thread meanwhile.
    const hist = data("live-history");
    state.events = hist.events;
    state.status = data("dep-status");
    // Forms that ask first (stop, remove).
    for (const form of document.querySelectorAll("form[data-confirm]")) {
      form.addEventListener("submit", (ev) => { if (!window.confirm(form.dataset.confirm)) ev.preventDefault(); });
    }
    for (const form of document.querySelectorAll("#reconfigure-form, #fault-form")) {
      form.addEventListener("submit", (ev) => { ev.preventDefault(); postInPlace(form, ev.submitter); });
    }
    // The stream starts before plotly loads, so state changes show at once.
    const source = new EventSource(cfg.stream + "?after=" + hist.event_seq);
    state.source = source;
    const early = [];
    source.addEventListener("status", (ev) => {
      const s = JSON.parse(ev.data);
      applyStatus(s);
      if (s.state === "removed") source.close();  // removed in another tab: nothing more will come
    });
    source.addEventListener("quality", (ev) => renderQuality(JSON.parse(ev.data)));
    source.addEventListener("timeline", (ev) => {
      if (state.ready) onEvents(JSON.parse(ev.data)); else early.push(JSON.parse(ev.data));
    });
    source.addEventListener("sample", (ev) => {
      if (!state.ready) return;
      const p = JSON.parse(ev.data);
      if (state.last && p.t <= state.last.t) return;
      state.last = p;
      state.samples += 1;
      extend(p);
      colourNodes(p);
      if (p.restarts !== undefined) document.getElementById("dep-replica-restarts").textContent = p.restarts;
    });
    if (cfg.running && hist.points.length) colourNodes({ nodes: hist.latest });
    await loadPlotly(document.querySelector(".panels").dataset.plotly);
    marks.plotly = performance.now();
    initPanels(hist.points, hist.events);
    state.ready = true;
    state.readyAt = performance.now();  // ms since the navigation started
    for (const events of early.splice(0)) onEvents(events);
  });
})();
