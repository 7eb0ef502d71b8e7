/* Small SVG charts (no library): bar, line, pie, funnel, number, pareto. Data is a list of
   {label, value}; every label is set as text, never parsed. */
(function (xrm) {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#337ab7", "#5cb85c", "#f0ad4e", "#d9534f", "#5bc0de", "#8e6bbf", "#2ca02c", "#ff7f0e", "#7f7f7f", "#bcbd22"];
  var W = 440, H = 260, PAD = {l: 56, r: 12, t: 12, b: 48};

  function svg(tag, attrs, text) {
    var n = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function root(h) {
    return svg("svg", {viewBox: "0 0 " + W + " " + (h || H), width: "100%", role: "img", class: "xrm-svg"});
  }
  function short(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }
  function fmt(v) { return Number(v).toLocaleString(undefined, {maximumFractionDigits: 2}); }
  function max(data) { return Math.max.apply(null, data.map(function (d) { return d.value; }).concat([0])) || 1; }

  function axes(s, top) {
    var h = H - PAD.t - PAD.b;
    for (var i = 0; i <= 4; i++) {
      var y = PAD.t + h - h * i / 4;
      s.appendChild(svg("line", {x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, stroke: "#eee"}));
      s.appendChild(svg("text", {x: PAD.l - 6, y: y + 4, "text-anchor": "end"}, fmt(top * i / 4)));
    }
  }

  function bar(data, opts) {
    var s = root(), top = max(data), w = (W - PAD.l - PAD.r) / Math.max(data.length, 1), h = H - PAD.t - PAD.b;
    axes(s, top);
    data.forEach(function (d, i) {
      var bh = h * d.value / top, x = PAD.l + i * w + w * 0.1;
      var r = svg("rect", {x: x, y: PAD.t + h - bh, width: w * 0.8, height: bh, fill: (opts && opts.colors && opts.colors[i]) || d.color || PALETTE[0]});
      r.appendChild(svg("title", {}, d.label + ": " + fmt(d.value)));
      s.appendChild(r);
      s.appendChild(svg("text", {x: x + w * 0.4, y: H - PAD.b + 14, "text-anchor": "middle"}, short(d.label, Math.max(4, Math.floor(w / 7)))));
    });
    return s;
  }

  function line(data) {
    var s = root(), top = max(data), h = H - PAD.t - PAD.b;
    var step = (W - PAD.l - PAD.r) / Math.max(data.length - 1, 1);
    axes(s, top);
    var pts = data.map(function (d, i) { return [PAD.l + i * step, PAD.t + h - h * d.value / top]; });
    s.appendChild(svg("polyline", {points: pts.map(function (p) { return p.join(","); }).join(" "), fill: "none", stroke: PALETTE[0], "stroke-width": 2}));
    pts.forEach(function (p, i) {
      var c = svg("circle", {cx: p[0], cy: p[1], r: 3, fill: PALETTE[0]});
      c.appendChild(svg("title", {}, data[i].label + ": " + fmt(data[i].value)));
      s.appendChild(c);
      if (data.length <= 6 || i % Math.ceil(data.length / 6) === 0) {
        s.appendChild(svg("text", {x: p[0], y: H - PAD.b + 14, "text-anchor": "middle"}, short(data[i].label, 10)));
      }
    });
    return s;
  }

  function pie(data) {
    var s = root(), total = data.reduce(function (a, d) { return a + Math.max(d.value, 0); }, 0) || 1;
    var cx = 120, cy = H / 2, r = 100, angle = -Math.PI / 2;
    data.forEach(function (d, i) {
      var a = 2 * Math.PI * Math.max(d.value, 0) / total, color = d.color || PALETTE[i % PALETTE.length];
      var x1 = cx + r * Math.cos(angle), y1 = cy + r * Math.sin(angle);
      var x2 = cx + r * Math.cos(angle + a), y2 = cy + r * Math.sin(angle + a);
      var path = a >= 2 * Math.PI - 1e-9
        ? svg("circle", {cx: cx, cy: cy, r: r, fill: color})
        : svg("path", {d: "M" + cx + "," + cy + " L" + x1 + "," + y1 + " A" + r + "," + r + " 0 " + (a > Math.PI ? 1 : 0) + " 1 " + x2 + "," + y2 + " Z", fill: color});
      path.appendChild(svg("title", {}, d.label + ": " + fmt(d.value)));
      s.appendChild(path);
      angle += a;
      if (i < 10) {
        s.appendChild(svg("rect", {x: 250, y: 20 + i * 22, width: 12, height: 12, fill: color}));
        s.appendChild(svg("text", {x: 268, y: 30 + i * 22}, short(d.label, 16) + " (" + Math.round(100 * d.value / total) + "%)"));
      }
    });
    return s;
  }

  function funnel(data) {
    var s = root(Math.max(H, data.length * 34 + 10)), top = max(data), rowH = 30;
    data.forEach(function (d, i) {
      var w = (W - 160) * d.value / top, x = 150 + (W - 160 - w) / 2;
      var r = svg("rect", {x: x, y: 6 + i * (rowH + 4), width: Math.max(w, 2), height: rowH, fill: d.color || PALETTE[i % PALETTE.length], rx: 3});
      r.appendChild(svg("title", {}, d.label + ": " + fmt(d.value)));
      s.appendChild(r);
      s.appendChild(svg("text", {x: 4, y: 6 + i * (rowH + 4) + 19}, short(d.label, 18) + " · " + fmt(d.value)));
    });
    return s;
  }

  function number(value, label) {
    var box = document.createElement("div");
    var n = document.createElement("div");
    n.className = "xrm-number";
    n.textContent = fmt(value);
    box.appendChild(n);
    if (label) { var l = document.createElement("div"); l.className = "text-muted"; l.textContent = label; box.appendChild(l); }
    return box;
  }

  /* ABC analysis: groups by value, descending; A up to 80% of the total, B up to 95%, C the rest. */
  function abc(data) {
    var sorted = data.slice().sort(function (a, b) { return b.value - a.value; });
    var total = sorted.reduce(function (a, d) { return a + Math.max(d.value, 0); }, 0) || 1, run = 0;
    return sorted.map(function (d) {
      var before = run / total;
      run += Math.max(d.value, 0);
      return {label: d.label, value: d.value, share: run / total, cls: before < 0.8 ? "A" : before < 0.95 ? "B" : "C"};
    });
  }
  function pareto(data) {
    var rows = abc(data), colors = {A: "#5cb85c", B: "#f0ad4e", C: "#d9534f"};
    var s = bar(rows, {colors: rows.map(function (r) { return colors[r.cls]; })});
    var h = H - PAD.t - PAD.b, step = (W - PAD.l - PAD.r) / Math.max(rows.length, 1);
    var pts = rows.map(function (r, i) { return [PAD.l + i * step + step / 2, PAD.t + h - h * r.share]; });
    s.appendChild(svg("polyline", {points: pts.map(function (p) { return p.join(","); }).join(" "), fill: "none", stroke: "#333", "stroke-dasharray": "4 3"}));
    var box = document.createElement("div");
    box.appendChild(s);
    var legend = document.createElement("p");
    legend.className = "small xrm-abc";
    ["A", "B", "C"].forEach(function (c) {
      var n = rows.filter(function (r) { return r.cls === c; }).length;
      var span = document.createElement("span");
      span.className = "label";
      span.style.background = colors[c];
      span.style.marginRight = "6px";
      span.dataset.abc = c;
      span.textContent = c + ": " + n + " group" + (n === 1 ? "" : "s");
      legend.appendChild(span);
    });
    box.appendChild(legend);
    return box;
  }

  xrm.charts = {bar: bar, line: line, pie: pie, funnel: funnel, number: number, pareto: pareto, abc: abc};
})(window.xrm);
