/* The field editor of the entity designer: name, label, type and the type's own options.
 *
 * XA.fieldEditor(opts) returns {node, errors(map)}; opts: name, schema, required, entities
 * (names for reference targets), onSave(name, schema, required), onCancel. Inputs carry
 * data-key = the JSON pointer below /properties/<field>/ so API problems land at the input. */
(function () {
  "use strict";
  var el = XA.el, FT = XA.fieldTypes;

  function num(v) { return v === undefined || v === null ? "" : String(v); }

  function optionRows(list, options) {
    XA.clear(list);
    options.forEach(function (o, i) { list.appendChild(optionRow(list, options, o, i)); });
  }

  function optionRow(list, options, o, i) {
    var value = el("input", {class: "form-control input-sm", value: o.value || "", placeholder: "value",
      "aria-label": "Option value", dataset: {key: "x-xrm/options/" + i + "/value"}, oninput: function () { o.value = value.value; }});
    var label = el("input", {class: "form-control input-sm", value: o.label || "", placeholder: "label",
      "aria-label": "Option label", oninput: function () { o.label = label.value; }});
    var colour = el("input", {class: "form-control input-sm", value: o.color || "", placeholder: "#rrggbb or name",
      "aria-label": "Option colour", oninput: function () { o.color = colour.value; }});
    return el("div", {class: "xa-option-row form-inline"}, value, label, colour,
      el("button", {type: "button", class: "btn btn-xs btn-link", title: "Remove option", "aria-label": "Remove option",
        onclick: function () { options.splice(i, 1); optionRows(list, options); }}, "\u2715"));
  }

  function fieldEditor(opts) {
    var schema = JSON.parse(JSON.stringify(opts.schema || {type: "string"}));
    var type = FT.typeOf(schema) || "text";
    var inputs = {};
    var specific = el("div", {class: "xa-type-options"});
    var errorsBox = el("div", {class: "xa-editor-errors text-danger"});

    function input(key, attrs) {
      var node = el(attrs && attrs.tag || "input", Object.assign({class: "form-control", dataset: {key: key}}, attrs || {}));
      inputs[key] = node;
      return node;
    }

    var nameInput = input("name", {value: opts.name || "", placeholder: "lower_case_name", required: true, name: "field-name"});
    var titleInput = input("title", {value: schema.title || "", name: "field-title"});
    var descInput = input("description", {value: schema.description || "", name: "field-description"});
    var typeSelect = XA.select(FT.names.map(function (t) { return [t, FT.TYPES[t].label + " (" + t + ")"]; }), type,
      {class: "form-control", name: "field-type", dataset: {key: "x-xrm/type"}});
    inputs["x-xrm/type"] = typeSelect;
    var requiredBox = el("input", {type: "checkbox", name: "field-required", checked: !!opts.required});
    var x = schema["x-xrm"] || {};
    var uniqueBox = el("input", {type: "checkbox", name: "field-unique", checked: !!x.unique, dataset: {key: "x-xrm/unique"}});
    var indexBox = el("input", {type: "checkbox", name: "field-index", checked: !!x.index, dataset: {key: "x-xrm/index"}});
    var readOnlyBox = el("input", {type: "checkbox", name: "field-readonly", checked: !!schema.readOnly});
    var defaultInput = input("default", {value: FT.formatDefault(type, schema["default"]), name: "field-default"});
    var options = ((x.options || (schema["enum"] || (schema.items && schema.items["enum"]) || []).map(function (v) {
      return {value: v};
    })) || []).map(function (o) { return Object.assign({}, o); });

    function renderSpecific() {
      XA.clear(specific);
      var s = schema, xx = s["x-xrm"] || {};
      var add = function (label, key, value, extra) {
        var node = input(key, Object.assign({value: num(value), name: "opt-" + key.replace("x-xrm/", "")}, extra || {}));
        specific.appendChild(XA.field(label, node));
      };
      if (type === "text" || type === "longtext") {
        add("Maximum length", "maxLength", s.maxLength, {type: "number", min: 1});
        add("Minimum length", "minLength", s.minLength, {type: "number", min: 0});
        add("Pattern (regular expression)", "pattern", s.pattern);
        if (type === "text") {
          var fmt = XA.select([["", "plain text"], ["email", "e-mail"], ["phone", "phone"], ["uri", "URL (uri)"], ["url", "URL (url)"]],
            s.format || "", {name: "opt-format", dataset: {key: "format"}});
          inputs.format = fmt;
          specific.appendChild(XA.field("Format", fmt));
        }
      }
      if (["integer", "bigint", "decimal", "float", "money"].indexOf(type) >= 0) {
        add("Minimum", "minimum", s.minimum, {type: "number", step: "any"});
        add("Maximum", "maximum", s.maximum, {type: "number", step: "any"});
      }
      if (type === "decimal") {
        add("Precision (total digits, 1..38)", "x-xrm/precision", xx.precision, {type: "number", min: 1, max: 38});
        add("Scale (digits after the point, 0..18)", "x-xrm/scale", xx.scale, {type: "number", min: 0, max: 18});
      }
      if (type === "money") {
        add("Scale (0..8)", "x-xrm/scale", xx.scale, {type: "number", min: 0, max: 8});
        add("Default currency (ISO 4217)", "x-xrm/defaultCurrency", xx.defaultCurrency, {maxlength: 3});
        add("Allowed currencies (comma separated)", "x-xrm/currencies", (xx.currencies || []).join(", "));
      }
      if (type === "choice" || type === "multichoice") {
        add("Option set (shared list; leave empty to list options here)", "x-xrm/optionSet", xx.optionSet, {list: "xa-option-set-names"});
        var sets = el("datalist", {id: "xa-option-set-names"});
        specific.appendChild(sets);
        XA.api("GET", "/meta/option-sets").then(function (r) {
          r.items.forEach(function (o) { sets.appendChild(el("option", {value: o.name}, o.label || o.name)); });
        }).catch(function () { /* the name can still be typed */ });
        var list = el("div", {class: "xa-options", dataset: {key: "x-xrm/options"}});
        inputs["x-xrm/options"] = list;
        optionRows(list, options);
        specific.appendChild(el("div", {class: "form-group"}, el("label", {}, "Options"), list,
          el("button", {type: "button", class: "btn btn-xs btn-default", name: "add-option",
            onclick: function () { options.push({value: "", label: ""}); optionRows(list, options); }}, "+ option")));
        if (type === "multichoice") {
          add("At least (items)", "minItems", s.minItems, {type: "number", min: 0});
          add("At most (items)", "maxItems", s.maxItems, {type: "number", min: 0});
        }
      }
      if (type === "reference" || type === "manytomany") {
        var target = XA.select([["", "(choose)"]].concat(opts.entities.map(function (e) { return [e, e]; })),
          xx.target || "", {name: "opt-target", dataset: {key: "x-xrm/target"}});
        inputs["x-xrm/target"] = target;
        specific.appendChild(XA.field("Target entity", target));
      }
      if (type === "reference") {
        var od = XA.select([["restrict", "restrict (refuse deleting a referenced record)"], ["cascade", "cascade (delete this record too)"],
          ["setNull", "setNull (clear the reference)"]], xx.onDelete || "restrict", {name: "opt-onDelete", dataset: {key: "x-xrm/onDelete"}});
        inputs["x-xrm/onDelete"] = od;
        specific.appendChild(XA.field("When the target is deleted", od));
      }
      if (type === "regarding") {
        var targets = el("select", {multiple: true, size: 6, name: "opt-targets", dataset: {key: "x-xrm/targets"}},
          opts.entities.map(function (e) { return el("option", {value: e, selected: (xx.targets || []).indexOf(e) >= 0}, e); }));
        inputs["x-xrm/targets"] = targets;
        specific.appendChild(XA.field("Allowed target entities (none selected: any)", targets));
      }
      if (type === "autonumber") add("Format, e.g. CASE-{YYYY}-{SEQ:5}", "x-xrm/format", xx.format);
      if (type === "uuid") {
        var gen = el("input", {type: "checkbox", name: "opt-generate", checked: xx.generate !== false});
        inputs["x-xrm/generate"] = gen;
        specific.appendChild(XA.field("Generate a UUID when none is given", gen));
      }
    }

    typeSelect.addEventListener("change", function () {
      // Keep what the old type's inputs hold; a value that does not parse is left behind.
      try { collectSpecific(); } catch (e) { /* dropped with the old type's inputs */ }
      type = typeSelect.value;
      schema = FT.retype(schema, type);
      renderSpecific();
    });

    function val(key) { var n = inputs[key]; return n ? n.value.trim() : ""; }

    function setNum(target, key, value, integer) {
      if (value === "") { delete target[key]; return; }
      var n = Number(value);
      if (!isFinite(n) || (integer && Math.floor(n) !== n)) throw {key: key, message: "'" + value + "' is not a " + (integer ? "whole " : "") + "number"};
      target[key] = n;
    }

    /* Read the type-specific inputs back into ``schema``. */
    function collectSpecific() {
      var xx = schema["x-xrm"] || {};
      var s = schema;
      if (type === "text" || type === "longtext") {
        setNum(s, "maxLength", val("maxLength"), true);
        setNum(s, "minLength", val("minLength"), true);
        if (val("pattern")) s.pattern = val("pattern"); else delete s.pattern;
        if (type === "text") { if (val("format")) s.format = val("format"); else delete s.format; }
      }
      if (["integer", "bigint", "decimal", "float", "money"].indexOf(type) >= 0) {
        setNum(s, "minimum", val("minimum"));
        setNum(s, "maximum", val("maximum"));
      }
      if (type === "decimal" || type === "money") {
        if (type === "decimal") setNum(xx, "precision", val("x-xrm/precision"), true);
        setNum(xx, "scale", val("x-xrm/scale"), true);
      }
      if (type === "money") {
        if (val("x-xrm/defaultCurrency")) xx.defaultCurrency = val("x-xrm/defaultCurrency").toUpperCase(); else delete xx.defaultCurrency;
        var cur = val("x-xrm/currencies").split(/[\s,;]+/).filter(Boolean).map(function (c) { return c.toUpperCase(); });
        if (cur.length) xx.currencies = cur; else delete xx.currencies;
      }
      if (type === "choice" || type === "multichoice") {
        var set = val("x-xrm/optionSet");
        if (set) { xx.optionSet = set; delete xx.options; delete s["enum"]; if (s.items) delete s.items["enum"]; }
        else {
          delete xx.optionSet;
          var clean = options.filter(function (o) { return o.value !== ""; }).map(function (o) {
            var c = {value: o.value};
            if (o.label) c.label = o.label;
            if (o.color) c.color = o.color;
            if (o.description) c.description = o.description;
            return c;
          });
          xx.options = clean;
          var values = clean.map(function (o) { return o.value; });
          if (type === "choice") s["enum"] = values; else s.items = {type: "string", "enum": values};
        }
        if (type === "multichoice") { setNum(s, "minItems", val("minItems"), true); setNum(s, "maxItems", val("maxItems"), true); }
      }
      if (type === "reference" || type === "manytomany") { if (val("x-xrm/target")) xx.target = val("x-xrm/target"); else delete xx.target; }
      if (type === "reference") xx.onDelete = val("x-xrm/onDelete") || "restrict";
      if (type === "regarding") {
        var picked = Array.prototype.filter.call(inputs["x-xrm/targets"].options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
        if (picked.length) xx.targets = picked; else delete xx.targets;
      }
      if (type === "autonumber") { if (val("x-xrm/format")) xx.format = val("x-xrm/format"); else delete xx.format; }
      if (type === "uuid") { if (inputs["x-xrm/generate"].checked) delete xx.generate; else xx.generate = false; }
      if (Object.keys(xx).length) schema["x-xrm"] = xx; else delete schema["x-xrm"];
    }

    function errors(map) {
      Array.prototype.forEach.call(node.querySelectorAll(".has-error"), function (n) { n.classList.remove("has-error"); });
      Array.prototype.forEach.call(node.querySelectorAll(".xa-field-error"), function (n) { n.remove(); });
      XA.clear(errorsBox);
      Object.keys(map).forEach(function (key) {
        var target = null, best = "";
        Object.keys(inputs).forEach(function (k) {
          if ((key === k || key.indexOf(k + "/") === 0) && k.length > best.length && inputs[k].isConnected) { best = k; target = inputs[k]; }
        });
        if (target) {
          var group = target.closest(".form-group") || target.parentNode;
          group.classList.add("has-error");
          group.appendChild(el("p", {class: "help-block xa-field-error"}, map[key]));
        } else {
          errorsBox.appendChild(el("div", {class: "xa-field-error"}, (key ? key + ": " : "") + map[key]));
        }
      });
    }

    function save(ev) {
      ev.preventDefault();
      try {
        collectSpecific();
        var name = nameInput.value.trim();
        if (!/^[a-z][a-z0-9_]{0,39}$/.test(name)) throw {key: "name", message: "a field name is lower case letters, digits and _ (starting with a letter, at most 40)"};
        if (titleInput.value.trim()) schema.title = titleInput.value.trim(); else delete schema.title;
        if (descInput.value.trim()) schema.description = descInput.value.trim(); else delete schema.description;
        var xx = schema["x-xrm"] || {};
        if (uniqueBox.checked) xx.unique = true; else delete xx.unique;
        if (indexBox.checked) xx.index = true; else delete xx.index;
        if (Object.keys(xx).length) schema["x-xrm"] = xx; else delete schema["x-xrm"];
        if (readOnlyBox.checked || type === "autonumber") schema.readOnly = true; else delete schema.readOnly;
        var def;
        try { def = FT.parseDefault(type, defaultInput.value.trim()); } catch (e) { throw {key: "default", message: e.message}; }
        if (def === undefined) delete schema["default"]; else schema["default"] = def;
        opts.onSave(name, schema, requiredBox.checked);
      } catch (e) {
        var m = {};
        m[e.key || ""] = e.message || String(e);
        errors(m);
      }
    }

    renderSpecific();
    var node = el("form", {class: "xa-field-editor panel panel-primary", onsubmit: save, novalidate: true},
      el("div", {class: "panel-heading"}, opts.name ? "Field " : "New field", opts.name ? el("code", {}, opts.name) : null),
      el("div", {class: "panel-body"},
        el("div", {class: "row"},
          el("div", {class: "col-sm-6"},
            XA.field("Name", nameInput, opts.original ? "Renaming keeps the data (the field remembers its old name)." : null),
            XA.field("Label", titleInput), XA.field("Help text", descInput), XA.field("Type", typeSelect),
            XA.field("Default value", defaultInput, "Given to new records, and written into existing rows when the field is added."),
            XA.field("Required", requiredBox), XA.field("Unique", uniqueBox), XA.field("Indexed", indexBox),
            XA.field("Read-only for clients", readOnlyBox)),
          el("div", {class: "col-sm-6"}, el("h5", {}, "Options of the type"), specific)),
        errorsBox),
      el("div", {class: "panel-footer"},
        el("button", {type: "submit", class: "btn btn-primary btn-sm", name: "save-field"}, "Keep field"), " ",
        el("button", {type: "button", class: "btn btn-default btn-sm", onclick: opts.onCancel}, "Cancel")));
    return {node: node, errors: errors};
  }

  window.XA.fieldEditor = fieldEditor;
})();
