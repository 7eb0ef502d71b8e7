/* Option set editor: name, label, description and the options (value, label, colour,
 * description). Saving goes through the metadata plan like an entity (POST /meta/plan with the
 * set as a document, then /meta/apply): every field using the set is replanned, a removed value
 * still held by records is a checked change, and the server's problems (JSON pointers such as
 * /options/1/value) are shown at their inputs. Deleting (DELETE /meta/option-sets/<name>) is
 * refused while fields use the set: the refusal lists them. */
(function () {
  "use strict";
  var el = XA.el, K = XA.kit;
  var name = XA.page.optionSet;
  var box = document.getElementById("xa-os-editor");
  var doc = {name: "", options: []}, usedBy = [];
  var plan = XA.planView({
    out: document.getElementById("xa-plan"),
    body: function () { return {definitions: [doc]}; },
    problems: function (errors) { return K.markFindings(box, errors); },
    applied: function () {
      if (!name) { window.location.href = "/admin/option-sets/" + encodeURIComponent(doc.name) + "?saved=1"; return; }
      XA.alert("success", "Saved: " + (usedBy.length ? "the fields using the set now offer these options." : "no field uses the set yet."));
    }
  });
  var ctx = {fields: [], roles: [], changed: function () { plan.invalidate(); }};

  function render() {
    XA.clear(box);
    var top = {name: doc.name, label: doc.label, description: doc.description};
    function bind(key) { return function () { if (top[key]) doc[key] = top[key]; else if (key !== "name") delete doc[key]; else doc.name = ""; }; }
    var nameIn = K.input(top, {key: "name", label: "Name", name: "os-name", placeholder: "namespace.name, e.g. crm.industry"}, "", {changed: function () { bind("name")(); ctx.changed(); }});
    if (name) nameIn.disabled = true;
    var labelIn = K.input(top, {key: "label", label: "Label", name: "os-label"}, "", {changed: function () { bind("label")(); ctx.changed(); }});
    var descIn = K.input(top, {key: "description", label: "Description", name: "os-description"}, "", {changed: function () { bind("description")(); ctx.changed(); }});
    box.appendChild(el("div", {class: "row"},
      el("div", {class: "col-sm-4"}, K.group("Name", nameIn)),
      el("div", {class: "col-sm-4"}, K.group("Label", labelIn)),
      el("div", {class: "col-sm-4"}, K.group("Description", descIn))));
    if (name) box.appendChild(el("p", {class: "small", id: "xa-os-used"}, "Used by: ", usedBy.length ? usedBy.map(function (f) { return el("code", {class: "xa-tag"}, f); }) : el("span", {class: "text-muted"}, "no field yet")));
    box.appendChild(el("h4", {dataset: {ptr: "/options"}}, "Options"));
    box.appendChild(K.listEditor(doc, "options", "/options", {id: "options", noun: "option", width: 3, make: function () { return {value: ""}; },
      fields: [
        {key: "value", label: "Value (stored)", name: "opt-value"},
        {key: "label", label: "Label (shown)", name: "opt-label"},
        {key: "color", label: "Colour (#rrggbb)", name: "opt-color", placeholder: "#3b82f6"},
        {key: "description", label: "Description", name: "opt-description"}
      ]}, ctx));
  }

  function load() {
    if (!name) { render(); return; }
    XA.api("GET", "/meta/option-sets/" + XA.enc(name)).then(function (res) {
      usedBy = res.usedBy || [];
      delete res.usedBy;
      doc = res;
      render();
      if (/[?&]saved=1/.test(window.location.search)) XA.alert("success", "Saved.");
    }).catch(function (err) { XA.showError(err, "Could not load the option set"); });
  }

  document.getElementById("xa-review").addEventListener("click", function () {
    if (!doc.options) doc.options = [];
    plan.review();
  });
  var deleteBtn = document.getElementById("xa-os-delete");
  if (deleteBtn) deleteBtn.addEventListener("click", function () {
    if (!window.confirm("Delete option set " + name + "?")) return;
    XA.api("DELETE", "/meta/option-sets/" + XA.enc(name)).then(function () {
      window.location.href = "/admin/option-sets?deleted=" + encodeURIComponent(name);
    }).catch(function (err) {
      var used = err.problem && err.problem.usedBy;
      if (used && used.length) XA.alert("danger", "Could not delete the option set: " + err.problem.detail, used.map(function (f) { return "used by " + f; }));
      else XA.showError(err, "Could not delete the option set");
    });
  });
  load();
})();
