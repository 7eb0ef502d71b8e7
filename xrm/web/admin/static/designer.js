/* Entity designer: edit one definition document (fields, options, unique constraints, indexes,
 * relations), review the migration plan and apply it.
 *
 * The draft is the definition document itself; nothing reaches the server until the plan is
 * reviewed (POST /meta/plan) and applied (POST /meta/apply with its baseVersion). */
(function () {
  "use strict";
  var el = XA.el, FT = XA.fieldTypes;
  var name = XA.page.entity;
  var state = {doc: null, original: null, entities: [], editing: null, problems: {}, removed: {}};
  var fieldsBody = document.querySelector("#xa-fields tbody");
  var editorSlot = document.getElementById("xa-field-editor");

  function xrm() { return state.doc["x-xrm"]; }
  function props() { return state.doc.properties; }
  function requiredList() { return state.doc.required || []; }
  function fieldNames() { return Object.keys(props()); }

  /* -- the field table ---------------------------------------------------------------------- */

  function renderFields() {
    XA.clear(fieldsBody);
    var names = fieldNames();
    if (!names.length) fieldsBody.appendChild(el("tr", {}, el("td", {colspan: 7, class: "text-muted"}, "No fields yet: add one.")));
    names.forEach(function (f) {
      var s = props()[f], x = s["x-xrm"] || {}, type = FT.typeOf(s);
      var was = x.renamedFrom && state.original && !(f in state.original.properties) ? [].concat(x.renamedFrom)[0] : null;
      var isNew = state.original && !(f in state.original.properties) && !was;
      var problems = state.problems[f] || [];
      var details = [];
      if (x.target) details.push("\u2192 " + x.target + (x.onDelete ? " (" + x.onDelete + ")" : ""));
      if (x.targets) details.push("\u2192 " + x.targets.join(", "));
      if (s.maxLength) details.push("max " + s.maxLength);
      if (x.precision !== undefined || x.scale !== undefined) details.push("(" + (x.precision || 18) + ", " + (x.scale === undefined ? 2 : x.scale) + ")");
      if (x.options) details.push(x.options.map(function (o) { return o.value; }).join(" | "));
      if (x.optionSet) details.push("set " + x.optionSet);
      if (x.format) details.push(x.format);
      fieldsBody.appendChild(el("tr", {class: problems.length ? "danger" : (isNew ? "success" : ""), dataset: {field: f}},
        el("td", {}, el("code", {}, f), was ? el("small", {class: "text-muted"}, " (was " + was + ")") : null,
          isNew ? el("span", {class: "label label-success xa-tag"}, "new") : null,
          problems.map(function (p) { return el("div", {class: "text-danger small xa-problem"}, p); })),
        el("td", {}, s.title || ""),
        el("td", {}, type, el("div", {class: "small text-muted"}, XA.short(details.join("; "), 80))),
        el("td", {class: "text-center"}, requiredList().indexOf(f) >= 0 ? "\u2713" : ""),
        el("td", {class: "text-center"}, x.unique ? "\u2713" : ""),
        el("td", {}, s["default"] === undefined ? "" : XA.short(s["default"], 30)),
        el("td", {class: "text-right"},
          el("button", {type: "button", class: "btn btn-xs btn-default", name: "edit-field", onclick: function () { openEditor(f); }}, "Edit"), " ",
          el("button", {type: "button", class: "btn btn-xs btn-danger", name: "remove-field", onclick: function () { removeField(f); }}, "Remove"))));
    });
    renderRemoved();
    renderOptions();
    renderRelations();
    renderJson();
  }

  function undoRemove(f) {
    var r = state.removed[f];
    delete state.removed[f];
    if (f in props()) return;
    props()[f] = r.schema;
    if (r.required) state.doc.required = requiredList().concat([f]);
    renderFields();
    XA.designerPlan.invalidate();
  }

  function renderRemoved() {
    Object.keys(state.removed).forEach(function (f) {
      if (f in props()) { delete state.removed[f]; return; }
      fieldsBody.appendChild(el("tr", {class: "xa-removed text-muted", dataset: {removed: f}},
        el("td", {}, el("del", {}, f), el("span", {class: "label label-danger xa-tag"}, "removed")),
        el("td", {colspan: 5}, "Its data is archived when you apply (restorable until purged)."),
        el("td", {class: "text-right"}, el("button", {type: "button", class: "btn btn-xs btn-default", name: "undo-remove",
          onclick: function () { undoRemove(f); }}, "Undo"))));
    });
  }

  function openEditor(f) {
    state.editing = f;
    var ed = XA.fieldEditor({
      name: f, schema: f ? props()[f] : {type: "string"}, required: f ? requiredList().indexOf(f) >= 0 : false,
      original: f && state.original && (f in state.original.properties) ? f : null,
      entities: state.entities.concat(state.entities.indexOf(xrm().name) < 0 && xrm().name ? [xrm().name] : []),
      onSave: function (newName, schema, required) { saveField(f, newName, schema, required, ed); },
      onCancel: closeEditor
    });
    XA.clear(editorSlot).appendChild(ed.node);
    var mine = {};
    Object.keys(state.problemKeys || {}).forEach(function (k) {
      if (k.indexOf(f + "|") === 0) mine[k.slice(f.length + 1)] = state.problemKeys[k];
    });
    if (f && Object.keys(mine).length) ed.errors(mine);
    ed.node.scrollIntoView({block: "nearest"});
    ed.node.querySelector("input").focus();
  }

  function closeEditor() { state.editing = null; XA.clear(editorSlot); }

  function replaceName(list, from, to) {
    return (list || []).map(function (n) { return n === from ? to : n; }).filter(function (n) { return n !== null; });
  }

  function saveField(oldName, newName, schema, required, ed) {
    var p = props();
    if (newName !== oldName && newName in p) { ed.errors({name: "there is already a field " + newName}); return; }
    if (oldName && newName !== oldName) {
      // A rename: remember the stored name so the planner moves the data with the field.
      var stored = state.original && state.original.properties[oldName] ? oldName
        : [].concat((schema["x-xrm"] || {}).renamedFrom || [])[0];
      if (stored) {
        schema["x-xrm"] = Object.assign({}, schema["x-xrm"] || {});
        var prev = [].concat(schema["x-xrm"].renamedFrom || []);
        if (prev.indexOf(stored) < 0) prev.unshift(stored);
        schema["x-xrm"].renamedFrom = prev.length === 1 ? prev[0] : prev;
      }
      var x = xrm();
      ["searchFields", "listColumns"].forEach(function (k) { if (x[k]) x[k] = replaceName(x[k], oldName, newName); });
      if (x.titleField === oldName) x.titleField = newName;
      if (x.unique) x.unique = x.unique.map(function (g) { return replaceName(g, oldName, newName); });
      if (x.indexes) x.indexes.forEach(function (ix) { ix.fields = replaceName(ix.fields, oldName, newName); });
    }
    var rebuilt = {};
    var placed = false;
    Object.keys(p).forEach(function (k) {
      if (k === oldName) { rebuilt[newName] = schema; placed = true; } else rebuilt[k] = p[k];
    });
    if (!placed) rebuilt[newName] = schema;
    state.doc.properties = rebuilt;
    var req = requiredList().filter(function (r) { return r !== oldName && r !== newName; });
    if (required) req.push(newName);
    if (req.length) state.doc.required = req; else delete state.doc.required;
    delete state.problems[oldName];
    closeEditor();
    renderFields();
    XA.designerPlan.invalidate();
  }

  /* Removed fields stay listed (struck through, with Undo) until the draft is applied; the
   * plan shows their removal as destructive and asks for confirmation. */
  function removeField(f) {
    state.removed[f] = {schema: props()[f], required: requiredList().indexOf(f) >= 0};
    delete props()[f];
    if (state.doc.required) state.doc.required = state.doc.required.filter(function (r) { return r !== f; });
    var x = xrm();
    ["searchFields", "listColumns"].forEach(function (k) { if (x[k]) x[k] = x[k].filter(function (n) { return n !== f; }); });
    if (x.titleField === f) delete x.titleField;
    if (x.unique) x.unique = x.unique.filter(function (g) { return g.indexOf(f) < 0; });
    if (x.indexes) x.indexes = x.indexes.filter(function (ix) { return ix.fields.indexOf(f) < 0; });
    closeEditor();
    renderFields();
    XA.designerPlan.invalidate();
  }

  /* -- entity options, constraints, relations, JSON ----------------------------------------- */

  function renderOptions() { XA.designerOptions.render(state, function () { renderJson(); XA.designerPlan.invalidate(); }); }

  function renderRelations() {
    var body = XA.clear(document.querySelector("#xa-relations tbody"));
    fieldNames().forEach(function (f) {
      var s = props()[f], t = FT.typeOf(s), x = s["x-xrm"] || {};
      if (FT.RELATIONS.indexOf(t) < 0) return;
      body.appendChild(el("tr", {}, el("td", {}, el("code", {}, f)), el("td", {}, t === "reference" ? "N:1" : t === "manytomany" ? "N:N" : "any"),
        el("td", {}, x.target || (x.targets || ["(any entity)"]).join(", ")), el("td", {}, x.onDelete || (t === "reference" ? "restrict" : ""))));
    });
    (state.incoming || []).forEach(function (r) {
      body.appendChild(el("tr", {class: "text-muted"}, el("td", {}, el("code", {}, r.entity + "." + r.field)), el("td", {}, r.kind),
        el("td", {}, "\u2190 from " + r.entity), el("td", {}, r.onDelete || "")));
    });
    if (!body.firstChild) body.appendChild(el("tr", {}, el("td", {colspan: 4, class: "text-muted"}, "No relations. Add a field of type reference, many-to-many or regarding.")));
  }

  function renderJson() {
    var area = document.getElementById("xa-json");
    if (document.activeElement !== area) area.value = JSON.stringify(state.doc, null, 2);
  }

  document.getElementById("xa-json-load").addEventListener("click", function () {
    try {
      var doc = JSON.parse(document.getElementById("xa-json").value);
      if (!doc || typeof doc !== "object" || !doc.properties || !doc["x-xrm"]) throw new Error("a definition has 'properties' and 'x-xrm'");
      if (name && doc["x-xrm"].name !== name) throw new Error("x-xrm.name must stay " + name);
      state.doc = doc;
      renderFields();
      XA.designerPlan.invalidate();
      XA.alert("info", "The JSON document replaced the draft. Review the plan to apply it.");
    } catch (e) { XA.alert("danger", "The JSON is not a definition: " + e.message); }
  });

  document.getElementById("xa-add-field").addEventListener("click", function () { openEditor(null); });

  /* Problems from the API (pointer "<entity>#/properties/<field>/...") go to their field. */
  function showProblems(problems) {
    state.problems = {};
    state.problemKeys = {};
    var general = [];
    problems.forEach(function (p) {
      var ptr = String(p.pointer || "");
      var hash = ptr.indexOf("#");
      if (hash >= 0) ptr = ptr.slice(hash + 1);
      var m = /^\/properties\/([^/]+)(?:\/(.*))?$/.exec(ptr);
      if (m && props()[m[1]] !== undefined) {
        (state.problems[m[1]] = state.problems[m[1]] || []).push((m[2] ? m[2] + ": " : "") + p.message);
        state.problemKeys[m[1] + "|" + (m[2] || "")] = p.message;
      } else {
        general.push((ptr || "/") + ": " + p.message);
      }
    });
    renderFields();
    XA.designerOptions.showProblems(general);
    if (state.editing && state.problems[state.editing]) openEditor(state.editing);
    return general;
  }

  function load() {
    var entities = XA.api("GET", "/meta/entities");
    var def = name ? XA.api("GET", "/meta/entities/" + XA.enc(name)) : Promise.resolve(null);
    return Promise.all([entities, def]).then(function (res) {
      state.entities = res[0].items.map(function (e) { return e.name; }).sort();
      if (res[1]) {
        state.doc = res[1].definition;
        delete state.doc["x-xrm"].layer;
        state.original = JSON.parse(JSON.stringify(state.doc));
        state.removed = {};
        state.source = res[1].source;
        document.getElementById("xa-entity-source").textContent = res[1].source + " \u00b7 metadata version " + res[1].version;
      } else {
        state.doc = {type: "object", "x-xrm": {name: ""}, properties: {}};
        state.original = {properties: {}};
      }
      renderFields();
      if (name) loadIncoming();
      else if (window.jQuery) window.jQuery("a[href='#xa-tab-options']").tab("show");  // a new entity starts with its name
    }).catch(function (err) { XA.showError(err, "Could not load the entity"); });
  }

  /* Reverse relations: fields of other entities that point here. */
  function loadIncoming() {
    state.incoming = [];
    // One request per entity: fine for the tens of entities of a typical installation; past
    // that the reverse relations are left out rather than flooding the server.
    if (state.entities.length > 80) return;
    Promise.all(state.entities.filter(function (e) { return e !== name; }).map(function (e) {
      return XA.api("GET", "/meta/entities/" + XA.enc(e)).then(function (d) {
        Object.keys(d.definition.properties).forEach(function (f) {
          var s = d.definition.properties[f], x = s["x-xrm"] || {}, t = FT.typeOf(s);
          if ((t === "reference" || t === "manytomany") && x.target === name) state.incoming.push({entity: e, field: f, kind: t === "reference" ? "1:N" : "N:N", onDelete: x.onDelete});
          if (t === "regarding" && (x.targets || []).indexOf(name) >= 0) state.incoming.push({entity: e, field: f, kind: "regarding"});
        });
      }).catch(function () { /* an entity removed meanwhile: nothing points from it */ });
    })).then(renderRelations);
  }

  XA.designer = {state: state, showProblems: showProblems, renderFields: renderFields, reload: load, name: name};
  load();
})();
