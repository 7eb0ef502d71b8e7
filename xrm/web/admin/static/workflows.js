/* Workflow list (GET /meta/workflows[?entity=]): each with its entity, source, revision and
 * whether it is active or invalid (with the problems that keep it from running). */
(function () {
  "use strict";
  var el = XA.el, body = document.querySelector("#xa-workflows tbody");
  var entity = new URLSearchParams(window.location.search).get("entity");
  if (entity) document.getElementById("xa-new-workflow").href = "/admin/workflows/new?entity=" + XA.enc(entity);
  XA.api("GET", "/meta/workflows" + (entity ? "?entity=" + XA.enc(entity) : "")).then(function (data) {
    XA.clear(body);
    data.items.forEach(function (w) {
      body.appendChild(el("tr", {dataset: {workflow: w.name}},
        el("td", {}, el("a", {href: "/admin/workflows/" + XA.enc(w.name)}, el("code", {}, w.name))),
        el("td", {}, w.entity), el("td", {}, w.source), el("td", {}, w.revision),
        el("td", {}, el("span", {class: "label label-" + (w.status === "active" ? "success" : "danger")}, w.status),
          (w.problems || []).length ? el("ul", {class: "small text-danger"}, w.problems.map(function (p) { return el("li", {}, typeof p === "string" ? p : (p.pointer || "") + " " + p.message); })) : null),
        el("td", {}, XA.fmtDate(w.updatedAt) + (w.updatedBy ? " \u00b7 " + w.updatedBy : ""))));
    });
    if (!data.items.length) body.appendChild(el("tr", {}, el("td", {colspan: 6, class: "text-muted"}, "No workflow" + (entity ? " for " + entity : "") + " yet.")));
  }).catch(function (err) { XA.showError(err, "Could not load the workflows"); });
})();
