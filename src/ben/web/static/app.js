// ben's web interface: small page scripts over vendored uPlot, Cytoscape.js and htmx. No build step.
"use strict";
const ben = (() => {
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const json = (id) => JSON.parse(document.getElementById(id).textContent);
  const fmt = (v) => typeof v === "number" ? (Math.abs(v) >= 1e4 ? v.toExponential(3) : +v.toPrecision(4)) : v;

  // What a refused answer says, as text: the site's error page's message, a plain-text answer's line (a 401 of a
  // token that changed, a 400 naming a field), else the status. (A 401 was "the web interface does not answer".)
  async function why(r) {
    const text = await r.text().catch(() => "");
    if (/^\s*</.test(text)) return new DOMParser().parseFromString(text, "text/html").querySelector("#error-message")
      ?.textContent || `${r.status} ${r.statusText}`;
    try { const d = JSON.parse(text); if (d && d.error) return String(d.error); } catch (e) { /* not JSON */ }
    return text.trim().slice(0, 500) || `${r.status} ${r.statusText}`;
  }
  function live(handlers) {
    const src = new EventSource("/live");
    const dot = document.getElementById("live-dot"), note = document.getElementById("live-status");
    src.onopen = () => { if (dot) dot.classList.add("on"); if (note) note.hidden = true; };
    src.onerror = async () => {
      if (dot) dot.classList.remove("on");
      // The web interface stopped (restarted, gone): the browser asks again every second, and the page stayed as it
      // was, only the dot grey, as if what it shows were live. Said until the stream is back (onopen hides it).
      if (src.readyState === EventSource.CONNECTING && note && note.hidden) {
        note.textContent = `live updates paused at ${new Date().toLocaleTimeString()}: the web interface does not ` +
          "answer (asking again every second; what is shown may be out of date)";
        note.hidden = false;
      }
      // A stream the server refused (a 401 once the access token changed, a 403) is closed for good by the browser,
      // which never asks again: the page stayed as it was with only a grey dot. Say why, and that a reload is needed.
      if (src.readyState !== EventSource.CLOSED || !note) return;
      let reason = "the web interface does not answer";
      try { const r = await fetch("/static/favicon.svg", {cache: "no-store"}); if (!r.ok) reason = await why(r); } catch (e) { /* down */ }
      note.textContent = `live updates stopped at ${new Date().toLocaleTimeString()}: ${reason} (reload the page)`;
      note.hidden = false;
    };
    for (const [name, fn] of Object.entries(handlers)) src.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    return src;
  }

  // -- map -------------------------------------------------------------------------------------------
  function nodeLabel(n) {
    const h = Object.entries(n.health || {}).filter(([k]) => /wal_records|lag|refus|oldest|open_/.test(k)).slice(0, 4);
    return n.label + (h.length ? "\n" + h.map(([k, v]) => `${k} ${fmt(v)}`).join("\n") : "");
  }
  function nodeColor(n) {
    if (!n.up) return "#dc2626";
    if (n.kind === "subsystem") return {critical: "#7f1d1d", high: "#dc2626", medium: "#f59e0b", warning: "#f59e0b", low: "#eab308"}[n.worst] || "#16a34a";
    return {spine: "#2563eb", store: "#7c3aed", sidecar: "#0891b2"}[n.kind] || "#6b7280";
  }
  function elements(model) {
    const ids = new Set(model.nodes.map((n) => n.id));
    return [
      ...model.nodes.map((n) => ({data: {...n, display: nodeLabel(n), color: nodeColor(n)}})),
      ...model.edges.filter((e) => ids.has(e.source) && ids.has(e.target))
        .map((e) => ({data: {id: `${e.source}->${e.target}`, source: e.source, target: e.target}})),
    ];
  }
  function mapPage() {
    let model = json("map-model");
    const cy = cytoscape({
      container: document.getElementById("map"), elements: elements(model), wheelSensitivity: 0.3,
      style: [
        {selector: "node", style: {"background-color": "data(color)", label: "data(display)", "text-wrap": "wrap",
          "font-size": 10, "text-valign": "bottom", "text-margin-y": 4, width: 28, height: 28}},
        {selector: "edge", style: {width: 2, "line-color": "#94a3b8", "target-arrow-color": "#94a3b8",
          "target-arrow-shape": "triangle", "curve-style": "bezier"}},
      ],
      layout: {name: "breadthfirst", directed: true, spacingFactor: 1.1},
    });
    window.benMap = cy;
    let selected = null;
    const info = (n) => {
      if (!n) return;
      const d = n.data();
      const rows = Object.entries(d.health || {}).map(([k, v]) => `<tr><td>${esc(k)}</td><td class="num">${esc(fmt(v))}</td></tr>`).join("");
      const subLinks = (sub) => { const s = encodeURIComponent(sub);
        return `<a href="/incidents?subsystem=${s}">incidents</a> · <a href="/series?subsystem=${s}">series</a>`; };
      let links = `<a href="/status">status</a>`;
      if (d.kind === "subsystem") links = subLinks(d.label);
      if (d.kind === "sidecar") {  // the subsystems it carries: their series and incidents
        const subs = n.incomers("node").filter((m) => m.data("kind") === "subsystem").map((m) => m.data("label"));
        links += subs.map((sub) => `<br>${esc(sub)}: ${subLinks(sub)}`).join("");
      }
      document.getElementById("node-info").innerHTML = `<h2>${esc(d.label)}</h2><p>${d.up ? "up" : '<span class="error">down</span>'}
        ${d.error ? `<br><span class="error">${esc(d.error)}</span>` : ""}</p><table>${rows}</table><p>${links}</p>`;
    };
    cy.on("tap", "node", (e) => { selected = e.target.id(); info(e.target); });
    // The nodes are drawn on a canvas, which the keyboard cannot reach: a keyboard-only user (or a screen reader)
    // could open no node's figures. A button per node beside the map does what a click on it does.
    const keys = document.getElementById("node-list");
    const buttons = () => {
      keys.replaceChildren(...cy.nodes().map((n) => {
        const b = document.createElement("button");
        b.type = "button"; b.textContent = n.data("label"); b.dataset.node = n.id();
        b.addEventListener("click", () => { selected = n.id(); info(cy.getElementById(selected)); });
        return b;
      }));
    };
    buttons();
    live({map: (m) => {
      const same = m.nodes.length === model.nodes.length && m.nodes.every((n, i) => n.id === model.nodes[i].id);
      model = m;
      if (same) {
        for (const n of m.nodes) cy.getElementById(n.id).data({...n, display: nodeLabel(n), color: nodeColor(n)});
      } else {
        cy.elements().remove(); cy.add(elements(m)); cy.layout({name: "breadthfirst", directed: true, spacingFactor: 1.1}).run();
        buttons();
      }
      document.getElementById("map").dataset.updated = String(m.ts);
      if (selected) info(cy.getElementById(selected));
    }});
  }

  // -- feed ------------------------------------------------------------------------------------------
  function feedPage() {
    // A change among the newest incidents re-asks the server for this page's list, with the filters the
    // page was asked with: the store filters (a filtered list may reach past the newest 100 the live
    // message carries), and the server renders every item the same way.
    // A list that could not be read again (the spine stopped) says so above it, with the time it is from:
    // it stayed as it was, as if live, in silence.
    let asked = 0, asOf = new Date();
    live({incidents: async () => {
      const mine = ++asked;
      const feed = document.getElementById("feed"), note = document.getElementById("feed-status");
      let text = null, reason = "";
      try {
        const r = await fetch(`/incidents/items${location.search}`);
        if (r.ok) text = await r.text();
        else reason = await why(r);
      } catch (e) { reason = "the web interface does not answer"; }
      if (mine !== asked) return;
      if (text !== null) {
        // The list is drawn again: a keyboard user's place in it (a focused incident link) went with the old one,
        // focus falling back to the page's top at every live update. It stays on the same incident's link.
        const held = feed.contains(document.activeElement) ? document.activeElement.closest("li[data-id]")?.dataset.id : null;
        feed.innerHTML = text; feed.dataset.updated = String(mine); asOf = new Date();
        if (held) [...feed.querySelectorAll("li[data-id]")].find((li) => li.dataset.id === held)?.querySelector("a")?.focus();
      }
      // what "sigma" means, under the list while a narrative in it gives one (as ben explain says it once)
      const sigma = document.getElementById("sigma-said");
      if (sigma && text !== null) sigma.hidden = !feed.textContent.includes(" sigma");
      note.hidden = text !== null;
      note.textContent = text !== null ? "" : `not updated since ${asOf.toLocaleTimeString()}: ${reason}`;
    }});
  }

  // -- plots -----------------------------------------------------------------------------------------
  function shade(t1, t2) {  // a uPlot hook drawing the anomaly episode behind the series
    return (u) => {
      const x1 = u.valToPos(t1, "x", true), x2 = u.valToPos(t2, "x", true);
      u.ctx.save(); u.ctx.fillStyle = "rgba(220,38,38,0.12)";
      u.ctx.fillRect(x1, u.bbox.top, Math.max(1, x2 - x1), u.bbox.height); u.ctx.restore();
    };
  }
  function incidentPage() {
    json("plots").forEach((p, i) => {
      const el = document.querySelector(`[data-plot="${i}"]`);
      if (!el) return;
      if (p.error || !p.t || !p.t.length) { el.textContent = p.error || "no stored points in this window"; return; }
      const n = p.t.length, fill = (v) => new Array(n).fill(v);
      const hasBand = p.band_lo !== null && p.band_hi !== null;
      const series = [{}, {label: "observed (mean)", stroke: "#2563eb", width: 1.5}, {label: "min", stroke: "#93c5fd"},
        {label: "max", stroke: "#93c5fd"}, {label: "baseline", stroke: "#16a34a", dash: [6, 4]}];
      const data = [p.t, p.mean, p.lo, p.hi, fill(p.baseline)];
      if (hasBand) { series.push({label: "band p01", stroke: "#86efac"}, {label: "band p99", stroke: "#86efac"}); data.push(fill(p.band_lo), fill(p.band_hi)); }
      const tip = document.createElement("div");
      tip.className = "tip"; tip.dataset.testid = "detector-tip";
      const stats = Object.entries(p.evidence || {}).map(([d, ev]) => `${d}: ` + (ev && typeof ev === "object"
        ? Object.entries(ev).map(([k, v]) => `${k}=${fmt(v)}`).join(", ") : String(ev))).join("; ");
      const hover = (u) => {  // detector statistics while the cursor is over the episode
        const t = u.cursor.left >= 0 ? u.posToVal(u.cursor.left, "x") : null;
        const inside = t !== null && t >= p.start && t <= p.end;
        tip.textContent = inside ? `episode: score ${fmt(p.score)}; ${stats}` : "";
        tip.style.visibility = inside ? "visible" : "hidden";
      };
      window.benPlots = window.benPlots || [];
      window.benPlots[i] = new uPlot({title: p.title, width: Math.min(1000, el.clientWidth || 900), height: 260, series,
        bands: hasBand ? [{series: [6, 5], fill: "rgba(22,163,74,0.12)"}] : [],
        hooks: {drawClear: [shade(p.start, p.end)], setCursor: [hover]}}, data, el);
      el.appendChild(tip);
    });
  }
  function seriesPage() {
    const pick = document.getElementById("series-pick"), range = document.getElementById("series-range");
    const el = document.getElementById("series-plot"), infoEl = document.getElementById("series-info");
    let plot = null;
    async function show(from, to) {
      if (!pick.value) { infoEl.textContent = "no series stored yet"; return; }
      const {subsystem, name} = pick.selectedOptions[0].dataset;  // a subsystem may hold '|' (was split on it)
      // Without a zoom: the chosen range up to the series' newest point (the server finds it).
      const q = new URLSearchParams({subsystem, name, width: Math.min(1200, el.clientWidth || 1000),
                                     attributes: document.getElementById("series-attrs").value,
                                     ...(to === undefined ? {range: range.value} : {from, to})});
      const started = performance.now();
      let r;
      try { r = await fetch(`/api/series?${q}`); }
      catch (e) { infoEl.textContent = "the web interface does not answer"; return; }
      if (!r.ok) { infoEl.textContent = await why(r); return; }  // a 401 or 403 is text, not JSON
      const d = await r.json();
      if (!d.points) {  // was "0 points in 0 buckets" and an empty plot: nothing said of what was asked
        if (plot) { plot.destroy(); plot = null; }
        const attrs = document.getElementById("series-attrs").value.trim();
        infoEl.textContent = `no stored points of ${subsystem} · ${name}${attrs ? ` with ${attrs}` : ""} in this range ` +
          "(choose a longer range, or other attributes)";
        return;
      }
      infoEl.textContent = `${d.points.toLocaleString()} points in ${d.buckets} buckets, ${Math.round(performance.now() - started)} ms`;
      if (plot) plot.destroy();
      plot = new uPlot({title: `${subsystem} · ${name}`, width: Math.min(1200, el.clientWidth || 1000), height: 360,
        series: [{}, {label: "mean", stroke: "#2563eb"}, {label: "min", stroke: "#93c5fd"}, {label: "max", stroke: "#93c5fd"}],
        bands: [{series: [3, 2], fill: "rgba(37,99,235,0.12)"}],
        hooks: {setSelect: [(u) => { if (u.select.width > 4) { const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x"); show(a, b); } }]},
        cursor: {drag: {setScale: false, x: true, y: false}}}, [d.t, d.mean, d.lo, d.hi], el);
    }
    document.getElementById("series-form").addEventListener("submit", (e) => { e.preventDefault(); show(); });
    show();
  }
  function sqlPage() {
    const r = json("sql-result"), el = document.getElementById("sql-chart");
    const numeric = r.meta.filter((m) => /Int|Float|Decimal/.test(m.type)).map((m) => m.name);
    if (!numeric.length || !r.data.length) return;
    const first = r.meta[0].name, xNum = numeric.includes(first) && numeric.length > 1;
    const ys = xNum ? numeric.filter((n) => n !== first) : numeric;
    const rows = xNum ? [...r.data].sort((a, b) => Number(a[first]) - Number(b[first])) : r.data;
    const x = rows.map((row, i) => xNum ? Number(row[first]) : i);
    const colors = ["#2563eb", "#dc2626", "#16a34a", "#f59e0b", "#7c3aed"];
    new uPlot({title: xNum ? `by ${first}` : "by row", width: Math.min(900, el.clientWidth || 900), height: 240, scales: {x: {time: false}},
      series: [{label: xNum ? first : "row"}, ...ys.map((n, i) => ({label: n, stroke: colors[i % 5]}))]},
      [x, ...ys.map((n) => rows.map((row) => Number(row[n])))], el);
  }
  // The SQL form posts (a statement may be long): Back to a page of results was the browser's "Confirm Form
  // Resubmission" (ERR_CACHE_MISS), and reload asked again. The statement run goes into the page's address
  // instead (/sql?q=..., which runs it the same), when it is short enough to be one.
  function sqlHistory() {
    const ran = document.getElementById("sql-form")?.dataset.ran || "";
    if (!ran || ran.length > 4000 || new URLSearchParams(location.search).get("q") === ran) return;
    history.replaceState(null, "", `/sql?${new URLSearchParams({q: ran})}`);
  }
  // htmx swaps only 2xx answers: a refused or failed acknowledgement (a name with '/', the spine stopped, the
  // web interface gone) left its result empty, as if the button did nothing. Its text goes there, as text.
  const said = (e, text) => { const t = e.detail.target; if (t) { t.textContent = text; t.className = "error"; } };
  document.addEventListener("htmx:responseError", (e) => said(e, e.detail.xhr.responseText.slice(0, 500)
    || `${e.detail.xhr.status}: nothing was acknowledged`));
  document.addEventListener("htmx:sendError", (e) => said(e, "the web interface does not answer: nothing was acknowledged"));
  document.addEventListener("htmx:afterRequest", (e) => { if (e.detail.successful && e.detail.target) e.detail.target.className = ""; });
  return {mapPage, feedPage, incidentPage, seriesPage, sqlPage, sqlHistory, live};
})();
