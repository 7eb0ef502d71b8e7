/* Workflow designer: the document's header, states, transitions, the diagram, the verifier's
 * findings (POST /meta/workflows/verify while you type, debounced) and saving (PUT
 * /meta/workflows/<name>, which verifies again and activates the new version). */
(function () {
  "use strict";
  var el = XA.el, FT = XA.fieldTypes;
  var name = XA.page.workflow;
  var state = {doc: null, original: null, entities: [], fields: [], stateFields: [], dateFields: [], options: [], roles: [], actionTypes: [], findings: null};
  var header = document.getElementById("xa-wf-header");
  var statesBox = document.getElementById("xa-wf-states");
  var transitionsBox = document.getElementById("xa-wf-transitions");
  var diagram = document.getElementById("xa-wf-diagram");
  var findingsBox = document.getElementById("xa-wf-findings");
  var jsonArea = document.getElementById("xa-wf-json");
  var verifyTimer = null, verifySeq = 0;

  function ctx() {
    return {doc: state.doc, fields: state.fields, dateFields: state.dateFields, roles: state.roles, entities: state.entities, actionTypes: state.actionTypes,
      changed: changed, renameState: renameState};
  }

  function changed(rerender, soon) {
    if (rerender) renderEditors();
    drawDiagram();
    if (document.activeElement !== jsonArea) jsonArea.value = JSON.stringify(state.doc, null, 2);
    clearTimeout(verifyTimer);
    verifyTimer = setTimeout(verify, soon ? 700 : 400);
  }

  function renameState(old, next) {
    var doc = state.doc;
    if (!next || next === old) return;
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(next)) { XA.alert("danger", "A state name is lower case letters, digits and _ (starting with a letter)."); renderEditors(); return; }
    if (next in doc.states) { XA.alert("danger", "There is already a state " + next + "."); renderEditors(); return; }
    var rebuilt = {};
    Object.keys(doc.states).forEach(function (s) { rebuilt[s === old ? next : s] = doc.states[s]; });
    if (state.original && old in state.original.states) {
      // Records in the old state move to the renamed one when the version is applied.
      var prev = [].concat(rebuilt[next].renamedFrom || []);
      if (prev.indexOf(old) < 0) prev.push(old);
      rebuilt[next].renamedFrom = prev.length === 1 ? prev[0] : prev;
    }
    doc.states = rebuilt;
    (doc.transitions || []).forEach(function (t) {
      if (t.to === old) t.to = next;
      if (Array.isArray(t.from)) t.from = t.from.map(function (f) { return f === old ? next : f; });
      else if (t.from === old) t.from = next;
    });
    changed(true);
  }

  function renderHeader() {
    var doc = state.doc;
    XA.clear(header);
    var nameInput = el("input", {class: "form-control", name: "wf-name", value: doc.name || "", disabled: !!name, placeholder: "namespace.workflow_name", dataset: {ptr: "/name"},
      oninput: function () { doc.name = nameInput.value.trim(); changed(); }});
    var label = el("input", {class: "form-control", name: "wf-label", value: doc.label || "", dataset: {ptr: "/label"},
      oninput: function () { if (label.value.trim()) doc.label = label.value.trim(); else delete doc.label; changed(); }});
    var entity = XA.select([["", "(choose)"]].concat(state.entities.map(function (e) { return [e, e]; })), doc.entity || "",
      {class: "form-control", name: "wf-entity", disabled: !!name, dataset: {ptr: "/entity"}});
    entity.addEventListener("change", function () { doc.entity = entity.value; loadEntity().then(function () { renderHeader(); changed(true); }); });
    var field = XA.select([["", "(choose)"]].concat(state.stateFields.map(function (f) { return [f, f]; })), doc.stateField || "",
      {class: "form-control", name: "wf-state-field", dataset: {ptr: "/stateField"}});
    field.addEventListener("change", function () { doc.stateField = field.value; loadOptions(); renderHeader(); changed(); });
    var fromOptions = state.options.filter(function (o) { return !(o.value in doc.states); });
    header.appendChild(el("div", {class: "row"},
      el("div", {class: "col-sm-3"}, XA.field("Name", nameInput)),
      el("div", {class: "col-sm-3"}, XA.field("Label", label)),
      el("div", {class: "col-sm-3"}, XA.field("Entity", entity)),
      el("div", {class: "col-sm-3"}, XA.field("State field (choice or text)", field),
        fromOptions.length ? el("button", {type: "button", class: "btn btn-xs btn-default", name: "states-from-options", onclick: function () {
          fromOptions.forEach(function (o) {
            doc.states[o.value] = {label: o.label || o.value};
            if (/^#[0-9a-fA-F]{6}$/.test(o.color || "")) doc.states[o.value].colour = o.color;
          });
          if (!Object.keys(doc.states).some(function (s) { return doc.states[s].initial; })) doc.states[Object.keys(doc.states)[0]].initial = true;
          renderHeader();
          changed(true);
        }}, "Add a state for each option (" + fromOptions.length + ")") : null)));
  }

  function renderEditors() {
    XA.clear(statesBox).appendChild(XA.wfEditors.states(ctx()));
    XA.clear(transitionsBox).appendChild(XA.wfEditors.transitions(ctx()));
    markFindings();
  }

  function drawDiagram() {
    XA.clear(diagram);
    if (!Object.keys(state.doc.states).length) { diagram.appendChild(el("p", {class: "text-muted", style: {padding: "12px"}}, "Add states to see the diagram.")); return; }
    diagram.appendChild(XA.wfDiagram(state.doc));
  }

  /* -- verification ------------------------------------------------------------------------ */

  function verify() {
    var seq = ++verifySeq;
    if (!state.doc.entity) return Promise.resolve();
    return XA.api("POST", "/meta/workflows/verify", state.doc).then(function (res) {
      if (seq !== verifySeq) return;  // a newer edit is being verified
      showFindings(res.errors || [], res.warnings || []);
    }).catch(function (err) { if (seq === verifySeq) XA.showError(err, "Verification failed"); });
  }

  function showFindings(errors, warnings) {
    state.findings = {errors: errors, warnings: warnings};
    if (!errors.length) Array.prototype.forEach.call(document.querySelectorAll("#xa-alerts .alert-danger"), function (n) { n.remove(); });
    XA.clear(findingsBox);
    findingsBox.appendChild(el("h4", {}, "Verifier ", errors.length
      ? el("span", {class: "label label-danger", id: "xa-wf-status"}, errors.length + " error(s)")
      : el("span", {class: "label label-success", id: "xa-wf-status"}, "no errors"),
      warnings.length ? el("span", {class: "label label-warning"}, " " + warnings.length + " warning(s)") : null));
    var list = el("ul", {class: "xa-findings list-unstyled"});
    errors.map(function (f) { return [f, "error"]; }).concat(warnings.map(function (f) { return [f, "warning"]; })).forEach(function (p) {
      list.appendChild(el("li", {class: p[1], dataset: {pointer: p[0].pointer || ""}},
        el("i", {class: "fa " + (p[1] === "error" ? "fa-times-circle" : "fa-exclamation-triangle")}), " ",
        el("a", {href: "#", onclick: function (ev) { ev.preventDefault(); focusPointer(p[0].pointer); }}, el("code", {}, p[0].pointer || "/")), " ", p[0].message));
    });
    findingsBox.appendChild(list);
    markFindings();
  }

  function inputFor(pointer) {
    var best = null, bestLen = -1;
    Array.prototype.forEach.call(document.querySelectorAll("#xa-wf-editor [data-ptr]"), function (n) {
      var p = n.dataset.ptr;
      if ((pointer === p || String(pointer).indexOf(p + "/") === 0) && p.length > bestLen) { best = n; bestLen = p.length; }
    });
    return best;
  }

  function focusPointer(pointer) { var n = inputFor(pointer); if (n) { n.scrollIntoView({block: "center"}); n.focus(); } }

  function markFindings() {
    Array.prototype.forEach.call(document.querySelectorAll("#xa-wf-editor .has-error, #xa-wf-editor .has-warning"), function (n) { n.classList.remove("has-error", "has-warning"); });
    Array.prototype.forEach.call(document.querySelectorAll("#xa-wf-editor .xa-finding"), function (n) { n.remove(); });
    if (!state.findings) return;
    [["errors", "has-error"], ["warnings", "has-warning"]].forEach(function (kind) {
      state.findings[kind[0]].forEach(function (f) {
        var n = inputFor(f.pointer);
        if (!n) return;
        var box = n.closest(".form-group") || n.parentNode;
        box.classList.add(kind[1]);
        box.appendChild(el("p", {class: "help-block small xa-finding"}, f.message));
      });
    });
  }

  /* -- saving ------------------------------------------------------------------------------ */

  function save(mapping) {
    var doc = state.doc;
    if (!doc.name) { XA.alert("danger", "Give the workflow a name first."); return; }
    var body = mapping ? {document: doc, mapping: mapping} : doc;
    document.getElementById("xa-wf-save").disabled = true;
    XA.api("PUT", "/meta/workflows/" + XA.enc(doc.name), body).then(function (res) {
      showFindings(res.errors || [], res.warnings || []);
      var moved = res.recordsMoved ? " " + res.recordsMoved + " record(s) moved to their new state." : "";
      if (!name) { window.location.href = "/admin/workflows/" + encodeURIComponent(doc.name) + "?saved=" + res.revision; return; }
      XA.alert("success", res.unchanged ? "Nothing changed." : "Saved and active: revision " + res.revision + "." + moved);
      state.original = JSON.parse(JSON.stringify(doc));
      XA.clear(document.getElementById("xa-wf-mapping"));
    }).catch(function (err) {
      var p = err.problem || {};
      if (err.status === 409 && p.errors) { askMapping(p); return; }
      if (p.errors) {
        showFindings(p.errors.filter(function (f) { return (f.severity || f.code) !== "warning"; }),
          p.errors.filter(function (f) { return (f.severity || f.code) === "warning"; }));
        XA.alert("danger", "Not saved: the workflow has errors (shown at their inputs).");
      } else XA.showError(err, "Not saved");
    }).then(function () { document.getElementById("xa-wf-save").disabled = false; });
  }

  /* Records sit in states this version drops: say where each of them goes. */
  function askMapping(problem) {
    var box = XA.clear(document.getElementById("xa-wf-mapping"));
    var removed = Object.keys(state.original ? state.original.states : {}).filter(function (s) { return !(s in state.doc.states); });
    var targets = Object.keys(state.doc.states);
    var selects = {};
    box.appendChild(el("div", {class: "alert alert-warning"}, el("strong", {}, problem.detail || "Records are in states this version removes."),
      el("ul", {}, problem.errors.map(function (f) { return el("li", {}, f.message); })),
      removed.map(function (s) {
        selects[s] = XA.select(targets, targets[0], {class: "form-control input-sm", name: "map-" + s});
        return el("div", {class: "form-inline"}, el("label", {}, "Records in ", el("code", {}, s), " move to "), " ", selects[s]);
      }),
      el("button", {type: "button", class: "btn btn-warning", name: "save-with-mapping", onclick: function () {
        var mapping = {};
        Object.keys(selects).forEach(function (s) { mapping[s] = selects[s].value; });
        save(mapping);
      }}, "Save and move the records")));
  }

  /* -- loading ----------------------------------------------------------------------------- */

  function loadEntity() {
    if (!state.doc.entity) { state.fields = []; state.stateFields = []; state.dateFields = []; return Promise.resolve(); }
    return XA.api("GET", "/meta/entities/" + XA.enc(state.doc.entity)).then(function (d) {
      state.definition = d.definition;
      var props = d.definition.properties;
      state.fields = Object.keys(props);
      state.stateFields = state.fields.filter(function (f) { var t = FT.typeOf(props[f]); return t === "choice" || t === "text"; });
      state.dateFields = state.fields.filter(function (f) { var t = FT.typeOf(props[f]); return t === "date" || t === "datetime"; });
      loadOptions();
    }).catch(function (err) { XA.showError(err, "Could not load entity " + state.doc.entity); });
  }

  function loadOptions() {
    var props = (state.definition || {}).properties || {}, f = props[state.doc.stateField];
    var x = (f && f["x-xrm"]) || {};
    state.options = x.options || ((f && f["enum"]) || []).map(function (v) { return {value: v}; });
  }

  function load() {
    var wf = name ? XA.api("GET", "/meta/workflows/" + XA.enc(name)) : Promise.resolve(null);
    return Promise.all([wf, XA.kit.actionChoices()]).then(function (res) {
      Object.assign(state, res[1]);
      if (res[0]) {
        state.doc = res[0].document;
        state.original = JSON.parse(JSON.stringify(state.doc));
        document.getElementById("xa-wf-meta").textContent = res[0].source + " \u00b7 revision " + res[0].revision + " \u00b7 " + XA.fmtDate(res[0].updatedAt);
      } else {
        var entity = new URLSearchParams(window.location.search).get("entity") || "";
        state.doc = {"$schema": "urn:xrm:schema:workflow", name: "", entity: entity, stateField: "", states: {}, transitions: []};
      }
      state.doc.states = state.doc.states || {};
      state.doc.transitions = state.doc.transitions || [];
      return loadEntity();
    }).then(function () {
      renderHeader();
      renderEditors();
      changed();
      var saved = /[?&]saved=(\d+)/.exec(window.location.search);
      if (saved) XA.alert("success", "Saved and active: revision " + saved[1] + ".");
    }).catch(function (err) { XA.showError(err, "Could not load the workflow"); });
  }

  document.getElementById("xa-wf-add-state").addEventListener("click", function () {
    var input = document.getElementById("xa-wf-new-state"), s = input.value.trim();
    if (!/^[a-z][a-z0-9_]{0,39}$/.test(s)) { XA.alert("danger", "A state name is lower case letters, digits and _ (starting with a letter)."); return; }
    if (s in state.doc.states) { XA.alert("danger", "There is already a state " + s + "."); return; }
    state.doc.states[s] = Object.keys(state.doc.states).length ? {} : {initial: true};
    input.value = "";
    changed(true);
  });
  document.getElementById("xa-wf-add-transition").addEventListener("click", function () {
    var states = Object.keys(state.doc.states);
    state.doc.transitions.push({name: "", from: states[0] || "", to: states[1] || states[0] || ""});
    changed(true);
  });
  document.getElementById("xa-wf-save").addEventListener("click", function () { save(null); });
  var deleteBtn = document.getElementById("xa-wf-delete");
  if (deleteBtn) deleteBtn.addEventListener("click", function () {
    if (!window.confirm("Delete workflow " + name + "? Records keep their state value; transitions stop.")) return;
    XA.api("DELETE", "/meta/workflows/" + XA.enc(name)).then(function () { window.location.href = "/admin/workflows"; })
      .catch(function (err) { XA.showError(err, "Could not delete the workflow"); });
  });
  document.getElementById("xa-wf-json-load").addEventListener("click", function () {
    try {
      var doc = JSON.parse(jsonArea.value);
      if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("a workflow is a JSON object");
      if (name && doc.name !== name) throw new Error("name must stay " + name);
      doc.states = doc.states || {};
      doc.transitions = doc.transitions || [];
      state.doc = doc;
      loadEntity().then(function () { renderHeader(); changed(true); });
    } catch (e) { XA.alert("danger", "The JSON is not a workflow: " + e.message); }
  });
  load();
})();
