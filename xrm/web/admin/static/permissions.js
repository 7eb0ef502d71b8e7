/* The permissions matrix: entities x roles, each cell the role's actions on the entity and
 * its record scope, saved at once through PUT /admin/roles/<role>/entities/<entity>; and,
 * per entity, field-level security (fields x roles: not secured / hidden / read / read+write). */
(function () {
  "use strict";
  var el = XA.el;
  var ACTIONS = [["read", "R"], ["create", "C"], ["update", "U"], ["delete", "D"], ["import", "I"], ["export", "E"]];
  var ADMIN = "Admin";
  var state = {roles: [], entities: [], shown: {}};
  var table = document.getElementById("xa-matrix");
  var search = document.getElementById("xa-perm-search");
  var toggles = document.getElementById("xa-role-toggles");
  var fieldBox = document.getElementById("xa-field-security");

  function grant(role, entity) { return role.entities[entity] || {actions: [], scope: "all"}; }
  function editableRoles() { return state.roles.filter(function (r) { return r.name !== ADMIN && state.shown[r.name] !== false; }); }

  function save(role, entity, cell) {
    var g = grant(role, entity);
    cell.classList.add("saving");
    return XA.api("PUT", "/admin/roles/" + XA.enc(role.name) + "/entities/" + XA.enc(entity), {actions: g.actions, scope: g.scope})
      .then(function (stored) {
        role.entities[entity] = Object.assign({}, g, stored);
        cell.classList.remove("saving");
        cell.dataset.saved = "1";
      }).catch(function (err) { cell.classList.remove("saving"); XA.showError(err, "Could not save " + role.name + " on " + entity); load(); });
  }

  function cellFor(role, entity) {
    var g = grant(role, entity);
    var cell = el("td", {dataset: {role: role.name, entity: entity}});
    ACTIONS.forEach(function (a) {
      var box = el("input", {type: "checkbox", name: a[0], checked: g.actions.indexOf(a[0]) >= 0,
        title: role.name + " may " + a[0] + " " + entity, "aria-label": role.name + " " + a[0] + " " + entity});
      box.addEventListener("change", function () {
        var cur = grant(role, entity);
        var actions = cur.actions.filter(function (x) { return x !== a[0]; });
        if (box.checked) actions.push(a[0]);
        role.entities[entity] = Object.assign({}, cur, {actions: actions});
        save(role, entity, cell);
      });
      cell.appendChild(el("label", {class: "xa-perm"}, box, el("small", {}, a[1])));
    });
    var scope = XA.select(["own", "team", "all"], g.scope || "all", {class: "input-sm", name: "scope", "aria-label": role.name + " scope on " + entity});
    scope.addEventListener("change", function () {
      role.entities[entity] = Object.assign({}, grant(role, entity), {scope: scope.value});
      save(role, entity, cell);
    });
    cell.appendChild(el("div", {}, scope));
    return cell;
  }

  function render() {
    var roles = editableRoles(), q = search.value.trim().toLowerCase();
    XA.clear(table.tHead).appendChild(el("tr", {}, el("th", {}, "Entity"),
      roles.map(function (r) { return el("th", {dataset: {role: r.name}}, r.name); }), el("th", {}, "Fields")));
    var body = XA.clear(table.tBodies[0]);
    if (!roles.length) body.appendChild(el("tr", {}, el("td", {colspan: 2, class: "text-muted"}, "No role besides Admin yet: add one.")));
    state.entities.filter(function (e) { return !q || e.name.toLowerCase().indexOf(q) >= 0 || String(e.label || "").toLowerCase().indexOf(q) >= 0; })
      .forEach(function (e) {
        body.appendChild(el("tr", {dataset: {entity: e.name}},
          el("td", {}, el("code", {}, e.name), el("div", {class: "small text-muted"}, e.label || "")),
          roles.map(function (r) { return cellFor(r, e.name); }),
          el("td", {}, el("button", {type: "button", class: "btn btn-xs btn-default", name: "field-security",
            onclick: function () { fieldSecurity(e.name); }}, "Field security"))));
      });
  }

  function renderToggles() {
    XA.clear(toggles);
    state.roles.filter(function (r) { return r.name !== ADMIN; }).forEach(function (r) {
      var box = el("input", {type: "checkbox", checked: state.shown[r.name] !== false, onchange: function () { state.shown[r.name] = box.checked; render(); }});
      toggles.appendChild(el("label", {class: "checkbox-inline"}, box, " " + r.name));
    });
  }

  /* Field-level security of one entity: a field with no row for any role is not secured. */
  function fieldSecurity(entity) {
    XA.clear(fieldBox).appendChild(el("p", {}, "Loading fields of " + entity + "\u2026"));
    XA.api("GET", "/meta/entities/" + XA.enc(entity)).then(function (def) {
      var roles = editableRoles();
      var fields = Object.keys(def.definition.properties);
      var choices = [["", "not secured"], ["none", "hidden"], ["read", "read"], ["write", "read & write"]];
      function current(role, f) {
        var fs = (grant(role, entity).fields || {})[f];
        if (!fs) return "";
        return fs.write ? "write" : fs.read ? "read" : "none";
      }
      XA.clear(fieldBox).appendChild(el("div", {class: "panel panel-default", id: "xa-fields-panel", dataset: {entity: entity}},
        el("div", {class: "panel-heading"}, "Field security of ", el("code", {}, entity),
          el("button", {type: "button", class: "close", "aria-label": "Close", onclick: function () { XA.clear(fieldBox); }}, "\u00d7")),
        el("div", {class: "panel-body"}, el("p", {class: "help-block"},
          "A field is secured once any role has a setting for it: then only the roles listed may read or change it (administrators always can)."),
          el("table", {class: "table table-condensed xa-matrix"},
            el("thead", {}, el("tr", {}, el("th", {}, "Field"), roles.map(function (r) { return el("th", {}, r.name); }))),
            el("tbody", {}, fields.map(function (f) {
              return el("tr", {dataset: {field: f}}, el("td", {}, el("code", {}, f)), roles.map(function (r) {
                var s = XA.select(choices, current(r, f), {class: "input-sm", name: "field-" + f, dataset: {role: r.name},
                  "aria-label": r.name + " on " + entity + "." + f});
                s.addEventListener("change", function () { setField(r, entity, f, s); });
                return el("td", {}, s);
              }));
            }))))));
      fieldBox.scrollIntoView({block: "nearest"});
    }).catch(function (err) { XA.showError(err, "Could not load " + entity); });
  }

  function setField(role, entity, f, select) {
    var path = "/admin/roles/" + XA.enc(role.name) + "/entities/" + XA.enc(entity) + "/fields/" + XA.enc(f);
    var v = select.value;
    var call = v === "" ? XA.api("DELETE", path) : XA.api("PUT", path, {read: v !== "none", write: v === "write"});
    select.disabled = true;
    call.then(function () {
      var g = grant(role, entity);
      g.fields = Object.assign({}, g.fields);
      if (v === "") delete g.fields[f]; else g.fields[f] = {read: v !== "none", write: v === "write"};
      role.entities[entity] = g;
      select.disabled = false;
      select.dataset.saved = "1";
    }).catch(function (err) { select.disabled = false; XA.showError(err, "Could not secure " + entity + "." + f); });
  }

  function load() {
    return Promise.all([XA.api("GET", "/admin/roles"), XA.api("GET", "/meta/entities")]).then(function (res) {
      state.roles = res[0].items;
      state.entities = res[1].items.sort(function (a, b) { return a.name < b.name ? -1 : 1; });
      renderToggles();
      render();
    }).catch(function (err) { XA.showError(err, "Could not load roles and entities"); });
  }

  document.getElementById("xa-new-role").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = ev.target.elements["role-name"];
    XA.api("POST", "/admin/roles", {name: input.value.trim()}).then(function () {
      XA.alert("success", "Role " + input.value.trim() + " added.");
      input.value = "";
      load();
    }).catch(function (err) { XA.showError(err, "Could not add the role"); });
  });
  search.addEventListener("input", render);
  load();
})();
