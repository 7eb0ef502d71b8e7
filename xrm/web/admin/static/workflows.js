/* Workflow and rule-set lists (GET /meta/workflows|rules[?entity=]): each with its entity,
 * source, revision and whether it is active or invalid (with the problems that keep it from
 * running). The page's section says which collection it lists. */
(function () {
  "use strict";
  var el = XA.el;
  var rules = XA.root.dataset.section === "rules";
  var collection = rules ? "rules" : "workflows", noun = rules ? "rule set" : "workflow";
  var body = document.querySelector((rules ? "#xa-rules" : "#xa-workflows") + " tbody");
  var entity = new URLSearchParams(window.location.search).get("entity");
  if (entity) document.getElementById(rules ? "xa-new-rules" : "xa-new-workflow").href = "/admin/" + collection + "/new?entity=" + XA.enc(entity);
  XA.api("GET", "/meta/" + collection + (entity ? "?entity=" + XA.enc(entity) : "")).then(function (data) {
    XA.clear(body);
    data.items.forEach(function (w) {
      var row = el("tr", {dataset: {name: w.name}},
        el("td", {}, el("a", {href: "/admin/" + collection + "/" + XA.enc(w.name)}, el("code", {}, w.name))),
        el("td", {}, w.entity), el("td", {}, w.source), el("td", {}, w.revision),
        el("td", {}, el("span", {class: "label label-" + (w.status === "active" ? "success" : "danger")}, w.status),
          (w.problems || []).length ? el("ul", {class: "small text-danger"}, w.problems.map(function (p) { return el("li", {}, typeof p === "string" ? p : (p.pointer || "") + " " + p.message); })) : null),
        el("td", {}, XA.fmtDate(w.updatedAt) + (w.updatedBy ? " \u00b7 " + w.updatedBy : "")));
      row.dataset[rules ? "rules" : "workflow"] = w.name;
      body.appendChild(row);
    });
    if (!data.items.length) body.appendChild(el("tr", {}, el("td", {colspan: 6, class: "text-muted"}, "No " + noun + (entity ? " for " + entity : "") + " yet.")));
  }).catch(function (err) { XA.showError(err, "Could not load the " + noun + "s"); });
})();
