/* Rule set designer: validations, computed fields, defaults, form rules, roll-ups and
 * automations (with the structured action editor) of one entity. The verifier runs as you type
 * (POST /meta/rules/verify, debounced) and its findings land at their inputs; saving
 * (PUT /meta/rules/<name>) verifies again and activates the new revision. */
(function () {
  "use strict";
  var el = XA.el, K = XA.kit;
  var name = XA.page.rules;
  var state = {doc: null, entities: [], fields: [], roles: [], actionTypes: [], findings: null};
  var editor = document.getElementById("xa-rs-editor");
  var header = document.getElementById("xa-rs-header");
  var sections = document.getElementById("xa-rs-sections");
  var findingsBox = document.getElementById("xa-rs-findings");
  var jsonArea = document.getElementById("xa-rs-json");
  var verifyTimer = null, verifySeq = 0;

  function ctx() {
    return {fields: state.fields, roles: state.roles, entities: state.entities, actionTypes: state.actionTypes, changed: changed};
  }

  function changed(rerender, soon) {
    if (rerender) renderSections();
    if (document.activeElement !== jsonArea) jsonArea.value = JSON.stringify(state.doc, null, 2);
    clearTimeout(verifyTimer);
    verifyTimer = setTimeout(verify, soon ? 700 : 400);
  }

  function renderHeader() {
    var doc = state.doc, c = ctx();
    XA.clear(header);
    var nameIn = K.input(doc, {key: "name", label: "Name", name: "rs-name", placeholder: "namespace.rules_name"}, "", c);
    if (name) nameIn.disabled = true;
    var entity = K.input(doc, {key: "entity", kind: "select", label: "Entity", name: "rs-entity", options: state.entities}, "", {changed: function () {
      loadEntity().then(function () { changed(true); });
    }});
    if (name) entity.disabled = true;
    XA.append(header, [el("div", {class: "row"},
      el("div", {class: "col-sm-4"}, K.group("Name", nameIn)),
      el("div", {class: "col-sm-4"}, K.group("Label", K.input(doc, {key: "label", label: "Label", name: "rs-label"}, "", c))),
      el("div", {class: "col-sm-4"}, K.group("Entity", entity))),
      K.group("Description", K.input(doc, {key: "description", label: "Description", name: "rs-description"}, "", c))]);
  }

  var SECTIONS = [
    {key: "validations", title: "Validation rules", help: "the record is refused with the message when the expression is false",
      noun: "validation rule", width: 3, fields: [
        {key: "name", label: "Name", name: "val-name"},
        {key: "field", kind: "field", label: "Shown at field", name: "val-field", placeholder: "(the whole record)"},
        {key: "message", label: "Message", name: "val-message", width: 6},
        {key: "expression", kind: "cel", label: "Must hold (CEL)", name: "val-expression", placeholder: "record.amount >= 0.0", width: 6},
        {key: "when", kind: "cel", label: "Only when (CEL, optional)", name: "val-when", width: 6}]},
    {key: "computed", title: "Computed fields", help: "evaluated on every write", noun: "computed field", fields: [
        {key: "field", kind: "field", label: "Field", name: "comp-field", width: 3},
        {key: "expression", kind: "cel", label: "Expression (CEL)", name: "comp-expression", placeholder: "record.quantity * record.price", width: 9}]},
    {key: "defaults", title: "Defaults", help: "for empty fields of new records; the first that applies wins", noun: "default", fields: [
        {key: "field", kind: "field", label: "Field", name: "def-field", width: 3},
        {key: "expression", kind: "cel", label: "Value (CEL)", name: "def-expression", width: 5},
        {key: "when", kind: "cel", label: "Only when (CEL, optional)", name: "def-when", width: 4}]},
    {key: "formRules", title: "Form rules", help: "while the condition holds: show, hide, require or lock fields", noun: "form rule", width: 3, fields: [
        {key: "name", label: "Name", name: "form-name", width: 4},
        {key: "when", kind: "cel", label: "While (CEL)", name: "form-when", width: 8},
        {key: "show", kind: "fields", label: "Show only then", name: "form-show"},
        {key: "hide", kind: "fields", label: "Hide", name: "form-hide"},
        {key: "require", kind: "fields", label: "Require", name: "form-require"},
        {key: "readOnly", kind: "fields", label: "Read-only", name: "form-readonly"}]},
    {key: "rollups", title: "Roll-ups", help: "aggregates of child records kept in a field of this entity", noun: "roll-up", width: 2, fields: [
        {key: "field", kind: "field", label: "Result field", name: "roll-field"},
        {key: "entity", kind: "select", label: "Child entity", name: "roll-entity", options: function () { return state.entities; }},
        {key: "via", label: "Child's reference field", name: "roll-via"},
        {key: "aggregate", kind: "select", label: "Aggregate", name: "roll-aggregate", options: ["count", "sum", "min", "max", "avg"]},
        {key: "of", label: "Of child field", name: "roll-of", placeholder: "(not for count)"},
        {key: "filter", kind: "json", label: "Filter (JSON)", name: "roll-filter", placeholder: "{\"status\": \"open\"}"}]},
    {key: "automations", title: "Automations", help: "actions run on create, update, delete, a transition, a schedule or a date", noun: "automation", width: 3, fields: [
        {key: "name", label: "Name", name: "auto-name"},
        {key: "label", label: "Label", name: "auto-label"},
        {key: "on", kind: "select", label: "On", name: "auto-on", rerender: true, options: ["create", "update", "delete", "transition", "schedule", "date"]},
        {key: "mode", kind: "select", label: "Mode", name: "auto-mode", placeholder: "sync (default)", options: ["sync", "async"]},
        {key: "fields", kind: "fields", label: "Only when one of these changed", name: "auto-fields", show: function (a) { return a.on === "update"; }},
        {key: "transition", label: "Transition", name: "auto-transition", show: function (a) { return a.on === "transition"; }},
        {key: "cron", label: "Cron (UTC): minute hour day month weekday", name: "auto-cron", placeholder: "0 7 * * 1", show: function (a) { return a.on === "schedule"; }},
        {key: "field", kind: "field", label: "Date field", name: "auto-field", show: function (a) { return a.on === "date"; }},
        {key: "offset", label: "Offset (ISO 8601, -P1D: a day before)", name: "auto-offset", show: function (a) { return a.on === "date"; }},
        {key: "when", kind: "cel", label: "Only when (CEL, optional)", name: "auto-when", width: 12}],
      make: function () { return {name: "", on: "create", actions: [{type: "setFields", values: {}}]}; },
      extra: function (item, ip, c) { return el("div", {}, el("h5", {}, "Actions"), K.actionsEditor(item, "actions", ip + "/actions", c)); }}
  ];

  function renderSections() {
    XA.clear(sections);
    var c = ctx();
    SECTIONS.forEach(function (s) {
      sections.appendChild(el("div", {class: "xa-section", dataset: {section: s.key}},
        el("h4", {dataset: {ptr: "/" + s.key}}, s.title, el("small", {}, s.help)),
        K.listEditor(state.doc, s.key, "/" + s.key, {id: s.key, noun: s.noun, width: s.width, fields: s.fields, make: s.make, extra: s.extra}, c)));
    });
    showMarks();
  }

  /* -- verification ------------------------------------------------------------------------ */

  function verify() {
    var seq = ++verifySeq;
    if (!state.doc.entity) return Promise.resolve();
    return XA.api("POST", "/meta/rules/verify", state.doc).then(function (res) {
      if (seq === verifySeq) showFindings(res.errors || [], res.warnings || []);
    }).catch(function (err) { if (seq === verifySeq) XA.showError(err, "Verification failed"); });
  }

  function showFindings(errors, warnings) {
    state.findings = {errors: errors, warnings: warnings};
    if (!errors.length) Array.prototype.forEach.call(document.querySelectorAll("#xa-alerts .alert-danger"), function (n) { n.remove(); });
    XA.clear(findingsBox);
    findingsBox.appendChild(el("h4", {}, "Verifier ", errors.length
      ? el("span", {class: "label label-danger", id: "xa-rs-status"}, errors.length + " error(s)")
      : el("span", {class: "label label-success", id: "xa-rs-status"}, "no errors"),
      warnings.length ? el("span", {class: "label label-warning"}, " " + warnings.length + " warning(s)") : null));
    var list = el("ul", {class: "xa-findings list-unstyled"});
    errors.map(function (f) { return [f, "error"]; }).concat(warnings.map(function (f) { return [f, "warning"]; })).forEach(function (p) {
      list.appendChild(el("li", {class: p[1], dataset: {pointer: p[0].pointer || ""}},
        el("i", {class: "fa " + (p[1] === "error" ? "fa-times-circle" : "fa-exclamation-triangle")}), " ",
        el("a", {href: "#", onclick: function (ev) {
          ev.preventDefault();
          var n = K.inputFor(editor, p[0].pointer || "");
          if (n) { n.scrollIntoView({block: "center"}); n.focus(); }
        }}, el("code", {}, p[0].pointer || "/")), " ", p[0].message));
    });
    findingsBox.appendChild(list);
    showMarks();
  }

  function showMarks() {
    if (state.findings) K.markFindings(editor, state.findings.errors, state.findings.warnings);
  }

  /* -- saving ------------------------------------------------------------------------------ */

  function save() {
    var doc = state.doc, btn = document.getElementById("xa-rs-save");
    if (!doc.name) { XA.alert("danger", "Give the rule set a name first."); return; }
    btn.disabled = true;
    XA.api("PUT", "/meta/rules/" + XA.enc(doc.name), doc).then(function (res) {
      showFindings(res.errors || [], res.warnings || []);
      if (!name) { window.location.href = "/admin/rules/" + encodeURIComponent(doc.name) + "?saved=" + res.revision; return; }
      XA.alert("success", res.unchanged ? "Nothing changed." : "Saved and active: revision " + res.revision + ".");
    }).catch(function (err) {
      var p = err.problem || {};
      if (p.errors) {
        showFindings(p.errors.filter(function (f) { return (f.severity || "error") !== "warning"; }),
          p.errors.filter(function (f) { return f.severity === "warning"; }));
        XA.alert("danger", "Not saved: the rule set has errors (shown at their inputs).");
      } else XA.showError(err, "Not saved");
    }).then(function () { btn.disabled = false; });
  }

  /* -- loading ----------------------------------------------------------------------------- */

  function loadEntity() {
    if (!state.doc.entity) { state.fields = []; return Promise.resolve(); }
    return XA.api("GET", "/meta/entities/" + XA.enc(state.doc.entity)).then(function (d) {
      state.fields = Object.keys(d.definition.properties);
    }).catch(function (err) { XA.showError(err, "Could not load entity " + state.doc.entity); });
  }

  function load() {
    var rs = name ? XA.api("GET", "/meta/rules/" + XA.enc(name)) : Promise.resolve(null);
    return Promise.all([rs, K.actionChoices()]).then(function (res) {
      Object.assign(state, res[1]);
      if (res[0]) {
        state.doc = res[0].document;
        document.getElementById("xa-rs-meta").textContent = res[0].source + " \u00b7 revision " + res[0].revision + " \u00b7 " + XA.fmtDate(res[0].updatedAt);
      } else {
        state.doc = {"$schema": "urn:xrm:schema:rules", name: "", entity: new URLSearchParams(window.location.search).get("entity") || ""};
      }
      return loadEntity();
    }).then(function () {
      renderHeader();
      renderSections();
      changed();
      var saved = /[?&]saved=(\d+)/.exec(window.location.search);
      if (saved) XA.alert("success", "Saved and active: revision " + saved[1] + ".");
    }).catch(function (err) { XA.showError(err, "Could not load the rule set"); });
  }

  document.getElementById("xa-rs-save").addEventListener("click", save);
  var deleteBtn = document.getElementById("xa-rs-delete");
  if (deleteBtn) deleteBtn.addEventListener("click", function () {
    if (!window.confirm("Delete rule set " + name + "? Its rules stop at once.")) return;
    XA.api("DELETE", "/meta/rules/" + XA.enc(name)).then(function () { window.location.href = "/admin/rules"; })
      .catch(function (err) { XA.showError(err, "Could not delete the rule set"); });
  });
  document.getElementById("xa-rs-json-load").addEventListener("click", function () {
    try {
      var doc = JSON.parse(jsonArea.value);
      if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("a rule set is a JSON object");
      if (name && doc.name !== name) throw new Error("name must stay " + name);
      state.doc = doc;
      loadEntity().then(function () { renderHeader(); changed(true); });
    } catch (e) { XA.alert("danger", "The JSON is not a rule set: " + e.message); }
  });
  load();
})();
