/* The versions of a workflow, each with the diff of its document and the records it moved. */
(function () {
  "use strict";
  var el = XA.el, tab = document.getElementById("xa-wf-history-tab"), box = document.getElementById("xa-wf-history");
  if (!tab) return;
  var loaded = false;
  function load() {
    if (loaded) return;
    loaded = true;
    XA.api("GET", "/meta/workflows/" + XA.enc(XA.page.workflow) + "/history").then(function (data) {
      var items = data.items;
      items.slice().reverse().forEach(function (rev) {
        var i = items.indexOf(rev), prev = i > 0 ? items[i - 1].document : null;
        box.appendChild(el("div", {class: "panel panel-default"},
          el("div", {class: "panel-heading"}, el("strong", {}, "Revision " + rev.revision),
            " \u00b7 " + (rev.source || "") + (rev.appliedAt || rev.savedAt ? " \u00b7 " + XA.fmtDate(rev.appliedAt || rev.savedAt) : "") +
            (rev.appliedBy || rev.savedBy ? " \u00b7 by " + (rev.appliedBy || rev.savedBy) : "")),
          el("div", {class: "panel-body"},
            (rev.moved || []).length ? el("p", {}, "Records moved: " + rev.moved.map(function (m) { return m.from + " \u2192 " + m.to + " (" + m.count + ")"; }).join(", ")) : null,
            rev.document ? XA.diffView(XA.jsonDiff(prev, rev.document), i === 0 ? 1000 : 2) : el("p", {class: "text-muted"}, "Removed."))));
      });
    }).catch(function (err) { loaded = false; XA.showError(err, "Could not load the history"); });
  }
  tab.addEventListener("click", load);
})();
