/* Version history of one entity: each revision's operations (with risk) and the diff of its
 * document against the revision before. */
(function () {
  "use strict";
  var el = XA.el, box = document.getElementById("xa-history"), name = XA.page.entity;

  XA.api("GET", "/meta/entities/" + XA.enc(name) + "/history").then(function (data) {
    XA.clear(box);
    var items = data.items;
    items.slice().reverse().forEach(function (rev) {
      var index = items.indexOf(rev), previous = index > 0 ? items[index - 1].definition : null;
      var ops = rev.operations || [];
      box.appendChild(el("div", {class: "panel panel-default xa-revision", dataset: {revision: String(rev.revision)}},
        el("div", {class: "panel-heading"},
          el("strong", {}, "Revision " + rev.revision), " \u00b7 metadata version " + rev.metadataVersion +
          " \u00b7 " + XA.fmtDate(rev.appliedAt) + (rev.appliedBy ? " \u00b7 by " + rev.appliedBy : "")),
        el("div", {class: "panel-body"},
          ops.length ? el("ul", {class: "list-unstyled"}, ops.map(function (op) {
            return el("li", {}, XA.riskBadge(op.risk), " ", el("code", {}, op.op), " ", op.description || "");
          })) : el("p", {class: "text-muted"}, "No operations recorded."),
          rev.definition ? el("details", {open: index === items.length - 1 ? true : null},
            el("summary", {}, index === 0 ? "Document as created" : "Changes to the document"),
            XA.diffView(XA.jsonDiff(previous, rev.definition), index === 0 ? 1000 : 2))
            : el("p", {class: "text-muted"}, "The entity was removed in this revision."))));
    });
    if (!items.length) box.appendChild(el("p", {}, "No history."));
  }).catch(function (err) { XA.clear(box); XA.showError(err, "Could not load the history"); });
})();
