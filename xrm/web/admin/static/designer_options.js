/* Entity-level options of the designer: name (new entities), labels, title/search fields, list
 * columns, ownership, audit, unique constraints over one or several fields, and indexes. */
(function () {
  "use strict";
  var el = XA.el, FT = XA.fieldTypes;
  var box = document.getElementById("xa-entity-options");
  var constraints = document.getElementById("xa-constraints");
  var generalProblems = document.getElementById("xa-general-problems");

  function multi(names, chosen, attrs, onchange) {
    var s = el("select", Object.assign({multiple: true, size: Math.min(6, Math.max(2, names.length)), class: "form-control"}, attrs));
    names.forEach(function (n) { s.appendChild(el("option", {value: n, selected: (chosen || []).indexOf(n) >= 0}, n)); });
    s.addEventListener("change", function () {
      onchange(Array.prototype.filter.call(s.options, function (o) { return o.selected; }).map(function (o) { return o.value; }));
    });
    return s;
  }

  function setOrDelete(obj, key, value) {
    if (value === "" || value === undefined || (Array.isArray(value) && !value.length)) delete obj[key]; else obj[key] = value;
  }

  function render(state, changed) {
    var doc = state.doc, x = doc["x-xrm"], names = Object.keys(doc.properties);
    var sortable = names.filter(function (n) { var t = FT.typeOf(doc.properties[n]); return FT.UNSORTABLE.indexOf(t) < 0; });
    var labels = x.labels || {};
    XA.clear(box);
    var nameInput = el("input", {name: "entity-name", value: x.name || "", placeholder: "namespace.entity, e.g. sales.project",
      disabled: !!XA.designer.name, dataset: {key: "x-xrm/name"},
      oninput: function () { x.name = nameInput.value.trim(); changed(); }});
    var singular = el("input", {name: "label-singular", value: labels.singular || doc.title || "", oninput: function () {
      x.labels = Object.assign({}, x.labels); setOrDelete(x.labels, "singular", singular.value.trim());
      if (!Object.keys(x.labels).length) delete x.labels; changed(); }});
    var plural = el("input", {name: "label-plural", value: labels.plural || "", oninput: function () {
      x.labels = Object.assign({}, x.labels); setOrDelete(x.labels, "plural", plural.value.trim());
      if (!Object.keys(x.labels).length) delete x.labels; changed(); }});
    var desc = el("input", {name: "entity-description", value: doc.description || "", oninput: function () { setOrDelete(doc, "description", desc.value.trim()); changed(); }});
    var title = XA.select([["", "(first text field)"]].concat(names.map(function (n) { return [n, n]; })), x.titleField || "",
      {name: "title-field"});
    title.addEventListener("change", function () { setOrDelete(x, "titleField", title.value); changed(); });
    var ownership = XA.select([["user", "user: records have an owner"], ["organisation", "organisation: no owner"]], x.ownership || "user", {name: "ownership"});
    ownership.addEventListener("change", function () { if (ownership.value === "user") delete x.ownership; else x.ownership = ownership.value; changed(); });
    var audit = el("input", {type: "checkbox", name: "audit", checked: x.audit !== false, onchange: function () {
      if (audit.checked) delete x.audit; else x.audit = false; changed(); }});
    box.appendChild(el("div", {class: "row"},
      el("div", {class: "col-sm-4"}, XA.field("Name", nameInput, "The stable identity; it cannot change later."),
        XA.field("Description", desc)),
      el("div", {class: "col-sm-4"}, XA.field("Label (singular)", singular), XA.field("Label (plural)", plural)),
      el("div", {class: "col-sm-4"}, XA.field("Title field", title), XA.field("Ownership", ownership), XA.field("Audit every change", audit))));
    box.appendChild(el("div", {class: "row"},
      el("div", {class: "col-sm-6"}, XA.field("Search fields", multi(names, x.searchFields, {name: "search-fields"}, function (v) { setOrDelete(x, "searchFields", v); changed(); }))),
      el("div", {class: "col-sm-6"}, XA.field("List columns", multi(names, x.listColumns, {name: "list-columns"}, function (v) { setOrDelete(x, "listColumns", v); changed(); })))));

    XA.clear(constraints);
    var uniques = x.unique || [];
    constraints.appendChild(el("h4", {}, "Unique constraints"));
    uniques.forEach(function (group, i) {
      constraints.appendChild(el("div", {class: "xa-constraint form-inline", dataset: {key: "x-xrm/unique/" + i}},
        multi(sortable, group, {name: "unique-" + i, "aria-label": "Fields of unique constraint " + (i + 1)}, function (v) { uniques[i] = v; x.unique = uniques; changed(); }),
        el("button", {type: "button", class: "btn btn-xs btn-danger", onclick: function () {
          uniques.splice(i, 1); setOrDelete(x, "unique", uniques); render(state, changed); changed(); }}, "Remove")));
    });
    constraints.appendChild(el("button", {type: "button", class: "btn btn-xs btn-default", name: "add-unique", disabled: !sortable.length, onclick: function () {
      uniques.push([]); x.unique = uniques; render(state, changed); }}, "+ unique constraint (one or several fields)"));
    var indexes = x.indexes || [];
    constraints.appendChild(el("h4", {}, "Indexes"));
    indexes.forEach(function (ix, i) {
      var ixName = el("input", {class: "form-control", placeholder: "name (optional)", value: ix.name || "", "aria-label": "Index name",
        oninput: function () { setOrDelete(ix, "name", ixName.value.trim()); changed(); }});
      var uq = el("input", {type: "checkbox", checked: !!ix.unique, onchange: function () { if (uq.checked) ix.unique = true; else delete ix.unique; changed(); }});
      constraints.appendChild(el("div", {class: "xa-constraint form-inline", dataset: {key: "x-xrm/indexes/" + i}},
        multi(sortable, ix.fields, {name: "index-" + i, "aria-label": "Fields of index " + (i + 1)}, function (v) { ix.fields = v; changed(); }),
        ixName, el("label", {class: "checkbox-inline"}, uq, " unique"),
        el("button", {type: "button", class: "btn btn-xs btn-danger", onclick: function () {
          indexes.splice(i, 1); setOrDelete(x, "indexes", indexes); render(state, changed); changed(); }}, "Remove")));
    });
    constraints.appendChild(el("button", {type: "button", class: "btn btn-xs btn-default", name: "add-index", disabled: !sortable.length, onclick: function () {
      indexes.push({fields: []}); x.indexes = indexes; render(state, changed); }}, "+ index"));
  }

  function showProblems(list) {
    XA.clear(generalProblems);
    if (list.length) generalProblems.appendChild(el("div", {class: "alert alert-danger"}, el("strong", {}, "Problems in the definition"),
      el("ul", {}, list.map(function (p) { return el("li", {}, p); }))));
  }

  XA.designerOptions = {render: render, showProblems: showProblems};
})();
