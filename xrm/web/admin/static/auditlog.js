/* The audit log: every record write, newest first, filtered by entity, record, user, action
 * and dates (GET /admin/audit), paged with the API's keyset cursor. Filters live in the URL so
 * a filtered view can be shared (and the record page can link here). */
(function () {
  "use strict";
  var el = XA.el;
  var form = document.getElementById("xa-audit-filters");
  var body = document.querySelector("#xa-audit tbody");
  var more = document.getElementById("xa-more");
  var NAMES = ["entity", "record", "user", "action", "from", "to"];
  var next = null;

  function query(extra) {
    var params = new URLSearchParams();
    NAMES.forEach(function (n) { var v = form.elements[n].value.trim(); if (v) params.set(n, v); });
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params;
  }

  function changes(c) {
    var keys = Object.keys(c || {});
    if (!keys.length) return el("span", {class: "text-muted"}, "\u2014");
    return el("ul", {class: "list-unstyled xa-json-cell"}, keys.map(function (k) {
      var pair = Array.isArray(c[k]) ? c[k] : [undefined, c[k]];
      return el("li", {}, el("code", {}, k), ": ", el("del", {class: "text-danger"}, XA.short(pair[0] === undefined ? "" : pair[0], 80)),
        " \u2192 ", el("ins", {class: "text-success"}, XA.short(pair[1], 80)));
    }));
  }

  function load(append) {
    var params = query(append && next ? {before: next} : {});
    if (!append) history.replaceState(null, "", "?" + query().toString());
    return XA.api("GET", "/admin/audit?" + params.toString()).then(function (data) {
      if (!append) XA.clear(body);
      data.items.forEach(function (i) {
        body.appendChild(el("tr", {dataset: {id: String(i.id)}},
          el("td", {}, XA.fmtDate(i.at)), el("td", {}, i.actor), el("td", {}, i.action),
          el("td", {}, el("a", {href: "/admin/audit?entity=" + XA.enc(i.entity) + "&record=" + i.recordId}, i.entity + " #" + i.recordId)),
          el("td", {}, changes(i.changes))));
      });
      if (!body.firstChild) body.appendChild(el("tr", {}, el("td", {colspan: 5, class: "text-muted"}, "No entries match.")));
      next = data.next;
      more.classList.toggle("hidden", !next);
    }).catch(function (err) { XA.showError(err, "Could not load the audit log"); });
  }

  var initial = new URLSearchParams(window.location.search);
  NAMES.forEach(function (n) { if (initial.get(n)) form.elements[n].value = initial.get(n); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(false); });
  more.addEventListener("click", function () { load(true); });
  XA.api("GET", "/meta/entities").then(function (d) {
    var list = document.getElementById("xa-entity-names");
    d.items.forEach(function (e) { list.appendChild(el("option", {value: e.name})); });
  }).catch(function () { /* the list is a convenience only */ });
  load(false);
})();
