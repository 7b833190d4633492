// Draw a graph version with cytoscape.js (dagre layout, left to right); a click on a
// node lists its resolved EARG attributes in the side panel. Text is set with
// textContent only, so names from uploads are never read as HTML.
(function () {
  "use strict";
  function data(id) { return JSON.parse(document.getElementById(id).textContent); }

  function showNode(panel, node) {
    panel.replaceChildren();
    const head = document.createElement("div");
    head.className = "node-head";
    const b = document.createElement("b");
    b.textContent = node.id();
    const kind = document.createElement("span");
    kind.className = "muted";
    kind.textContent = " " + node.data("kind");
    head.append(b, kind);
    const table = document.createElement("table");
    table.className = "node-attrs";
    for (const [key, value] of node.data("attrs") || []) {
      const tr = table.insertRow();
      tr.insertCell().textContent = key;
      const code = document.createElement("code");
      code.textContent = value;
      tr.insertCell().append(code);
    }
    const io = document.createElement("div");
    io.textContent = "in: " + (node.incomers("node").map((n) => n.id()).join(", ") || "—") +
      " · out: " + (node.outgoers("node").map((n) => n.id()).join(", ") || "—");
    panel.append(head, table, io);
    panel.dataset.node = node.id();
  }

  window.hogarDrawGraph = function (container, elements, style, options) {
    if (window.cytoscapeDagre && !window.hogarDagreRegistered) {
      cytoscape.use(cytoscapeDagre);
      window.hogarDagreRegistered = true;
    }
    const allPlaced = elements.every((e) => e.group !== "nodes" || e.position);
    const cy = cytoscape({
      container: container, elements: elements, style: style,
      layout: allPlaced ? { name: "preset", fit: true, padding: 20 } : {
        name: "dagre", rankDir: "LR", nodeSep: 45, rankSep: 80, edgeSep: 8, fit: true, padding: 20, animate: false,
      },
      minZoom: 0.05, maxZoom: 4, wheelSensitivity: 0.3,
    });
    // A small graph is not blown up to fill the canvas.
    if (cy.zoom() > 1.6) { cy.zoom(1.6); cy.center(); }
    const panel = (options && options.details) || null;
    if (panel) cy.on("tap", "node", (ev) => showNode(panel, ev.target));
    container._cy = cy;
    return cy;
  };

  document.addEventListener("DOMContentLoaded", function () {
    // A form that takes a while (deploy) says so and cannot be sent twice.
    for (const form of document.querySelectorAll("form[data-progress]")) {
      form.addEventListener("submit", () => {
        const button = form.querySelector("button[type=submit]");
        button.textContent = form.dataset.progress;
        setTimeout(() => { button.disabled = true; });  // after the browser has read the form
      });
    }
    const el = document.getElementById("cy");
    if (!el || !document.getElementById("graph-elements")) return;
    window.hogarCy = window.hogarDrawGraph(el, data("graph-elements"), data("graph-style"),
      { details: document.getElementById("details") });
  });
})();
