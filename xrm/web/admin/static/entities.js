/* Entity list: every entity with its label, the layer it comes from (admin or plugin:<name>)
 * and its field count; filter by text and source. */
(function () {
  "use strict";
  var el = XA.el, items = [];
  var body = document.querySelector("#xa-entities tbody");
  var search = document.getElementById("xa-entity-search");
  var layer = document.getElementById("xa-entity-layer");

  function render() {
    var q = search.value.trim().toLowerCase(), src = layer.value;
    XA.clear(body);
    var shown = items.filter(function (e) {
      return (!src || e.source === src) &&
        (!q || e.name.toLowerCase().indexOf(q) >= 0 || String(e.label || "").toLowerCase().indexOf(q) >= 0);
    });
    if (!shown.length) body.appendChild(el("tr", {}, el("td", {colspan: 5, class: "text-muted"}, "No entity matches.")));
    shown.forEach(function (e) {
      body.appendChild(el("tr", {dataset: {entity: e.name}},
        el("td", {}, el("a", {href: "/admin/entities/" + XA.enc(e.name)}, el("code", {}, e.name))),
        el("td", {}, e.label || ""),
        el("td", {}, el("span", {class: "label " + (e.source === "admin" ? "label-info" : "label-default")}, e.source || "")),
        el("td", {}, e.fields),
        el("td", {class: "text-right"},
          el("a", {class: "btn btn-xs btn-default", href: "/admin/entities/" + XA.enc(e.name)}, "Design"), " ",
          el("a", {class: "btn btn-xs btn-default", href: "/admin/entities/" + XA.enc(e.name) + "/history"}, "History"), " ",
          el("a", {class: "btn btn-xs btn-default", href: "/admin/workflows?entity=" + XA.enc(e.name)}, "Workflows"))));
    });
  }

  XA.api("GET", "/meta/entities").then(function (data) {
    items = data.items.slice().sort(function (a, b) { return a.name < b.name ? -1 : 1; });
    var sources = {};
    items.forEach(function (e) { sources[e.source] = true; });
    Object.keys(sources).sort().forEach(function (s) { layer.appendChild(el("option", {value: s}, s)); });
    render();
  }).catch(function (err) { XA.showError(err, "Could not load the entities"); });
  var removed = new URLSearchParams(window.location.search).get("removed");
  if (removed) XA.alert("success", "Entity " + removed + " removed: its table is archived.");
  search.addEventListener("input", render);
  layer.addEventListener("change", render);
})();
