/* A dashboard: each chart of the plugin's document is one GET /api/v1/data/<e>/aggregate. */
(function (xrm) {
  "use strict";
  var el = xrm.el, page = xrm.page, dash = page.dashboard;
  var root = document.getElementById("xrm-dashboard");

  function measureOf(chart) { return String(chart.measure || "count").replace(":", "."); }
  function valueOf(v) {
    if (v === null || v === undefined) return 0;
    if (typeof v === "object") return Number(v.amount) || 0;
    return Number(v) || 0;
  }

  function labels(chart, meta, items) {
    var f = chart.groupBy ? xrm.fieldMap(meta)[String(chart.groupBy).split(":")[0]] : null;
    var colors = {};
    if (f && f.type === "reference") {
      return xrm.loadTitles(f.target, items.map(function (i) { return i.key; })).then(function () {
        return items.map(function (i) { return i.key === null ? "(none)" : xrm.titles[f.target + ":" + i.key] || "#" + i.key; });
      });
    }
    if (meta.workflow && f && f.name === meta.workflow.stateField) {
      meta.workflow.states.forEach(function (s) { colors[s.name] = s; });
    }
    return Promise.resolve(items.map(function (i) {
      if (i.key === null) return "(none)";
      if (colors[i.key]) return colors[i.key].label;
      return f ? xrm.format(f, i.key) : String(i.key);
    }));
  }

  function order(chart, meta, items) {
    // A funnel follows the workflow's or the choice's own order; the rest keep the key order.
    var f = chart.groupBy ? xrm.fieldMap(meta)[String(chart.groupBy).split(":")[0]] : null;
    var seq = meta.workflow && f && f.name === meta.workflow.stateField
      ? meta.workflow.states.map(function (s) { return s.name; })
      : f && f.options ? f.options.map(function (o) { return o.value; }) : null;
    if (!seq) return items;
    return items.slice().sort(function (a, b) {
      var ia = seq.indexOf(a.key), ib = seq.indexOf(b.key);
      return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib);
    });
  }

  function render(chart, i) {
    var body = el("div", {class: "xrm-chart-body"}, el("span", {class: "text-muted"}, "Loading…"));
    var box = el("div", {class: "xrm-chart", dataset: {chart: i, type: chart.type}}, el("h4", {}, chart.title || ""), body);
    root.appendChild(box);
    var measure = measureOf(chart);
    var pairs = [["measure", measure]];
    if (chart.groupBy && chart.type !== "number") pairs.push(["group", chart.groupBy]);
    var q = new URLSearchParams(chart.query || "").toString();
    var url = "/data/" + encodeURIComponent(chart.entity) + "/aggregate?" + (q ? q + "&" : "") + xrm.qs(pairs);
    return Promise.all([xrm.entityMeta(chart.entity), xrm.api("GET", url)]).then(function (res) {
      var meta = res[0], items = order(chart, meta, res[1].data.items);
      return labels(chart, meta, items).then(function (names) {
        var f = chart.groupBy ? xrm.fieldMap(meta)[String(chart.groupBy).split(":")[0]] : null;
        var data = items.map(function (it, j) {
          var opt = f && f.options ? f.options.filter(function (o) { return o.value === it.key; })[0] : null;
          return {label: names[j], value: valueOf(it[measure]), color: opt && opt.color ? opt.color : undefined};
        });
        xrm.clear(body);
        if (chart.type === "number") {
          body.appendChild(xrm.charts.number(data.reduce(function (a, d) { return a + d.value; }, 0), measure === "count" ? meta.labelPlural : ""));
        } else {
          var draw = xrm.charts[chart.type] || xrm.charts.bar;
          body.appendChild(draw(data));
        }
        body.dataset.values = JSON.stringify(data.map(function (d) { return d.value; }));
      });
    }).catch(function (err) { xrm.clear(body).appendChild(el("span", {class: "text-danger"}, err.message)); });
  }

  (dash.charts || []).forEach(render);
  if (!(dash.charts || []).length) root.appendChild(el("p", {class: "text-muted"}, "This dashboard has no chart you may see."));
})(window.xrm);
