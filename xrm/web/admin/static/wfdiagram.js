/* The state diagram of a workflow document, laid out here (no library): states in columns by
 * their distance from the initial state (breadth-first), transitions as curved arrows with
 * their label; "*" (every state that is not final) is drawn from each such state, dashed.
 * XA.wfDiagram(doc) -> <svg>. All text is set with textContent. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 150, H = 44, GX = 90, GY = 36, PAD = 30;

  function svg(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function fromList(t, states, doc) {
    if (t.from === "*") return states.filter(function (s) { return !(doc.states[s] || {}).final; });
    return [].concat(t.from || []).filter(function (s) { return s in doc.states; });
  }

  function layout(doc) {
    var states = Object.keys(doc.states || {});
    var initial = states.filter(function (s) { return doc.states[s].initial; })[0] || states[0];
    var level = {}, queue = [];
    if (initial !== undefined) { level[initial] = 0; queue.push(initial); }
    var edges = [];
    (doc.transitions || []).forEach(function (t, i) {
      if (!(t.to in (doc.states || {}))) return;
      fromList(t, states, doc).forEach(function (f) { edges.push({from: f, to: t.to, label: t.label || t.name || "", index: i, any: t.from === "*"}); });
    });
    while (queue.length) {
      var s = queue.shift();
      edges.forEach(function (e) {
        if (e.from === s && !(e.to in level)) { level[e.to] = level[s] + 1; queue.push(e.to); }
      });
    }
    var maxLevel = Math.max.apply(null, [0].concat(Object.keys(level).map(function (k) { return level[k]; })));
    states.forEach(function (s) { if (!(s in level)) level[s] = maxLevel + 1; });  // unreachable: last column
    var columns = {};
    states.forEach(function (s) { (columns[level[s]] = columns[level[s]] || []).push(s); });
    var pos = {};
    Object.keys(columns).forEach(function (c) {
      columns[c].forEach(function (s, row) { pos[s] = {x: PAD + c * (W + GX), y: PAD + row * (H + GY)}; });
    });
    return {states: states, pos: pos, edges: edges, level: level};
  }

  function draw(doc) {
    var l = layout(doc);
    var width = PAD * 2 + W, height = PAD * 2 + H;
    l.states.forEach(function (s) { width = Math.max(width, l.pos[s].x + W + PAD); height = Math.max(height, l.pos[s].y + H + PAD + 40); });
    var root = svg("svg", {width: width, height: height, viewBox: "0 0 " + width + " " + height, role: "img",
      "aria-label": "State diagram of " + (doc.label || doc.name || "the workflow"), class: "xa-wf-svg"});
    var defs = svg("defs");
    var marker = svg("marker", {id: "xa-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"});
    marker.appendChild(svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#555"}));
    defs.appendChild(marker);
    root.appendChild(defs);
    var pairCount = {};
    l.edges.forEach(function (e) {
      var a = l.pos[e.from], b = l.pos[e.to];
      var key = e.from + ">" + e.to, k = pairCount[key] = (pairCount[key] || 0) + 1;
      var g = svg("g", {class: "xa-edge", "data-transition": String(e.index)});
      var d, lx, ly;
      if (e.from === e.to) {
        var x = a.x + W / 2, y = a.y;
        d = "M" + (x - 15) + "," + y + " C" + (x - 40) + "," + (y - 45 - 10 * k) + " " + (x + 40) + "," + (y - 45 - 10 * k) + " " + (x + 15) + "," + y;
        lx = x; ly = y - 38 - 10 * k;
      } else {
        var forward = l.level[e.to] > l.level[e.from];
        var sx = forward ? a.x + W : a.x + W / 2, sy = forward ? a.y + H / 2 : a.y + H;
        var tx = forward ? b.x : b.x + W / 2, ty = forward ? b.y + H / 2 : b.y + H;
        if (!forward && l.level[e.to] === l.level[e.from]) { sx = a.x + W; sy = a.y + H / 2; tx = b.x + W; ty = b.y + H / 2; }
        var bend = (forward ? 0 : 50) + (k - 1) * 22;
        var mx = (sx + tx) / 2 + (!forward && sx === tx ? 40 + bend : 0), my = (sy + ty) / 2 + (forward ? (k - 1) * 22 : bend);
        d = "M" + sx + "," + sy + " Q" + mx + "," + my + " " + tx + "," + ty;
        lx = (sx + 2 * mx + tx) / 4; ly = (sy + 2 * my + ty) / 4 - 4;
      }
      g.appendChild(svg("path", {d: d, fill: "none", stroke: "#555", "stroke-width": 1.4, "marker-end": "url(#xa-arrow)",
        "stroke-dasharray": e.any ? "5,4" : "none"}));
      var label = svg("text", {x: lx, y: ly, "text-anchor": "middle", fill: "#333", "font-size": 11}, e.label);
      g.appendChild(svg("title", {}, (e.any ? "from any open state: " : "") + e.label));
      g.appendChild(label);
      root.appendChild(g);
    });
    l.states.forEach(function (s) {
      var st = doc.states[s] || {}, p = l.pos[s];
      var colour = /^#[0-9a-fA-F]{6}$/.test(st.colour || "") ? st.colour : "#777777";
      var g = svg("g", {class: "xa-node", "data-state": s});
      g.appendChild(svg("rect", {x: p.x, y: p.y, width: W, height: H, rx: 8, fill: colour + "22", stroke: colour, "stroke-width": st.initial ? 3 : 1.5}));
      if (st.final) g.appendChild(svg("rect", {x: p.x + 3, y: p.y + 3, width: W - 6, height: H - 6, rx: 6, fill: "none", stroke: colour, "stroke-width": 1}));
      g.appendChild(svg("text", {x: p.x + W / 2, y: p.y + H / 2 + 4, "text-anchor": "middle", fill: "#222", "font-weight": "bold"}, st.label || s));
      if (st.initial) {
        g.appendChild(svg("circle", {cx: p.x - 14, cy: p.y + H / 2, r: 5, fill: "#222"}));
        g.appendChild(svg("path", {d: "M" + (p.x - 9) + "," + (p.y + H / 2) + " L" + (p.x - 1) + "," + (p.y + H / 2), stroke: "#222", "marker-end": "url(#xa-arrow)"}));
      }
      g.appendChild(svg("title", {}, s + (st.initial ? " (initial)" : "") + (st.final ? " (final)" : "")));
      root.appendChild(g);
    });
    return root;
  }

  XA.wfDiagram = draw;
  XA.wfLayout = layout;
})();
