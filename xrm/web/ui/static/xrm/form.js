/* Create and edit forms generated from the form spec: a widget per field, form rules applied
   live (POST /data/<e>/form-state), the API's validation messages shown at their fields, and an
   optimistic-lock conflict (412) explained without losing what the user typed. */
(function (xrm) {
  "use strict";
  var el = xrm.el, page = xrm.page, model = page.model, entity = page.entity;
  var fm = xrm.fieldMap(model);
  var root = document.getElementById("xrm-form-page");
  var editing = page.mode === "edit";
  var widgets = {}, groups = {}, errors = {}, loaded = {}, etag = null;
  var rules = {hidden: [], required: [], readonly: []};
  var base = "/data/" + encodeURIComponent(entity);
  var conflictBox = el("div", {class: "alert alert-warning hidden", id: "xrm-conflict", role: "alert"});

  function fieldGroup(f) {
    var id = "f-" + f.name;
    var w = widgets[f.name] = xrm.widgets.create(f, {id: id, onChange: function () { formState(); }});
    var err = errors[f.name] = el("span", {class: "help-block xrm-error", dataset: {errorFor: f.name}});
    var label = f.type === "boolean" ? null : el("label", {for: id, class: "control-label"}, f.label,
      el("span", {class: "xrm-required text-danger"}, f.required ? " *" : ""));
    var g = groups[f.name] = el("div", {class: "form-group", dataset: {field: f.name}}, label, w.node,
      f.description ? el("span", {class: "help-block"}, f.description) : null, err);
    if (f.readOnly) w.setDisabled(true);
    // Clear a field's error while typing, not on "change": "change" fires on blur, and a
    // layout shift then would move the button the user is clicking.
    g.addEventListener("input", function () { clearError(f.name); });
    return g;
  }

  function clearError(name) {
    if (!errors[name]) return;
    errors[name].textContent = "";
    groups[name].classList.remove("has-error");
  }
  function showErrors(err) {
    var unplaced = [];
    Object.keys(errors).forEach(clearError);
    (err.errors || []).forEach(function (e) {
      var name = e.field || (e.pointer || "").replace(/^\//, "").split("/")[0];
      if (errors[name]) {
        errors[name].textContent = e.message;
        groups[name].classList.add("has-error");
      } else unplaced.push(e.message);
    });
    xrm.alert(err.message + (unplaced.length ? " — " + unplaced.join("; ") : ""));
    var first = root.querySelector(".has-error input, .has-error select, .has-error textarea");
    if (first) first.focus();
  }

  function values(onlyChanged) {
    var out = {};
    model.fields.forEach(function (f) {
      if (f.readOnly || rules.readonly.indexOf(f.name) >= 0 || !widgets[f.name]) return;
      if (rules.hidden.indexOf(f.name) >= 0 && !editing) return;
      var v = widgets[f.name].get();
      if (onlyChanged && JSON.stringify(normal(f, v)) === JSON.stringify(normal(f, loaded[f.name]))) return;
      if (!editing && (v === null || (Array.isArray(v) && !v.length))) return;
      out[f.name] = v;
    });
    return out;
  }
  function normal(f, v) {
    if (v === undefined || v === "") return null;
    if (f.type === "money" && v) return {amount: v.amount === null ? null : Number(v.amount), currency: v.currency};
    if (f.type === "decimal" && v !== null) return Number(v);
    if (f.type === "reference" && v && typeof v === "object") return v.id;
    if (f.type === "datetime" && v) return new Date(v).toISOString().slice(0, 16);
    if (Array.isArray(v)) return v.map(function (x) { return typeof x === "object" ? x.id : x; }).sort();
    return v;
  }

  /* Form rules, evaluated on the server from the values being typed. */
  var formState = xrm.widgets.debounce(function () {
    if (!page.endpoints.formState) return;
    var body = {values: values(false)};
    if (editing) body.id = page.recordId;
    xrm.api("POST", base + "/form-state", body).then(function (r) {
      rules = {hidden: r.data.hidden || [], required: r.data.required || [], readonly: r.data.readonly || []};
      model.fields.forEach(function (f) {
        if (!groups[f.name]) return;
        groups[f.name].classList.toggle("hidden", rules.hidden.indexOf(f.name) >= 0);
        var star = groups[f.name].querySelector(".xrm-required");
        if (star) star.textContent = f.required || rules.required.indexOf(f.name) >= 0 ? " *" : "";
        widgets[f.name].setDisabled(f.readOnly || rules.readonly.indexOf(f.name) >= 0);
      });
    }).catch(function (err) { xrm.alert("The form rules could not be evaluated: " + err.message); });
  }, 250);

  function save(ev) {
    if (ev) ev.preventDefault();
    xrm.alert(null);
    var body = values(editing);
    var req = editing
      ? xrm.api("PATCH", base + "/" + page.recordId, body, etag ? {"If-Match": etag} : {})
      : xrm.api("POST", base, body);
    submit.disabled = true;
    return req.then(function (r) {
      window.location.href = xrm.recordUrl(entity, r.data.id);
    }).catch(function (err) {
      submit.disabled = false;
      if (err.status === 412) return conflict();
      if (err.status === 422 || err.status === 409 || err.status === 400) return showErrors(err);
      xrm.alert(err.message);
    });
  }

  /* 412: someone saved the record meanwhile. Keep the user's input; show what changed. */
  function conflict() {
    return xrm.api("GET", base + "/" + page.recordId).then(function (r) {
      var theirs = r.data, changed = [];
      model.fields.forEach(function (f) {
        if (!widgets[f.name]) return;
        if (JSON.stringify(normal(f, theirs[f.name])) !== JSON.stringify(normal(f, loaded[f.name]))) changed.push(f);
      });
      xrm.clear(conflictBox).classList.remove("hidden");
      xrm.append(conflictBox, [
        el("strong", {}, "Someone else saved this " + model.label.toLowerCase() + " while you were editing it."),
        " Your changes have not been saved and are still in the form.",
        changed.length ? el("ul", {}, changed.map(function (f) {
          return el("li", {}, f.label + ": now ", el("em", {}, xrm.format(f, theirs[f.name]) || "empty"));
        })) : el("p", {}, "They changed fields you cannot see here."),
        el("button", {class: "btn btn-warning btn-sm", id: "xrm-overwrite", onclick: function () {
          // Send only what the user changed (against what they loaded) on top of their version.
          etag = r.headers.get("ETag"); conflictBox.classList.add("hidden"); save();
        }}, "Save my changes over theirs"), " ",
        el("a", {class: "btn btn-default btn-sm", href: window.location.href}, "Discard mine and reload")
      ]);
      conflictBox.scrollIntoView();
    });
  }

  var submit = el("button", {type: "submit", class: "btn btn-primary", id: "xrm-save"}, editing ? "Save" : "Create");
  var cancel = el("a", {class: "btn btn-default", href: editing ? xrm.recordUrl(entity, page.recordId) : page.uiBase + "/" + encodeURIComponent(entity) + "/"}, "Cancel");

  function render() {
    var form = el("form", {class: "xrm-form", id: "xrm-form", novalidate: true, onsubmit: save});
    (model.sections || []).forEach(function (s) {
      var fields = s.fields.map(function (n) { return fm[n]; }).filter(function (f) { return f && !(f.type === "autonumber" && !editing); });
      if (!fields.length) return;
      form.appendChild(el("fieldset", {class: "xrm-section", dataset: {section: s.name}}, el("legend", {}, s.label),
        el("div", {class: "row"}, fields.map(function (f) {
          return el("div", {class: f.type === "longtext" || f.type === "json" ? "col-md-12" : "col-md-6"}, fieldGroup(f));
        }))));
    });
    form.appendChild(el("div", {class: "xrm-toolbar"}, submit, cancel));
    xrm.append(root, [
      el("div", {class: "page-header"}, el("h2", {}, editing ? "Edit " + model.label : "New " + model.label)),
      conflictBox, form]);
  }

  render();
  if (editing) {
    xrm.api("GET", base + "/" + page.recordId).then(function (r) {
      etag = r.headers.get("ETag");
      loaded = r.data;
      model.fields.forEach(function (f) { if (widgets[f.name]) widgets[f.name].set(r.data[f.name]); });
      formState();
    }).catch(function (err) { xrm.alert(err.message); });
  } else {
    model.fields.forEach(function (f) {
      if (f.default !== undefined && widgets[f.name]) widgets[f.name].set(f["default"]);
    });
    var prefill = new URLSearchParams(window.location.search);
    prefill.forEach(function (v, k) {
      if (fm[k] && widgets[fm[k].name]) widgets[k].set(fm[k].type === "reference" ? Number(v) : v);
    });
    formState();
  }
})(window.xrm);
