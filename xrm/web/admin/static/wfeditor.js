/* Editors of the workflow designer: one row per state and one card per transition, writing
 * straight into the workflow document (each state's timers in a row under it). Keys the editors
 * do not show (renamedFrom...) are kept as they are; every input carries data-ptr, the JSON pointer the
 * verifier uses, so findings land at their input. */
(function () {
  "use strict";
  var el = XA.el;

  function multi(options, chosen, attrs, onchange) {
    var s = el("select", Object.assign({multiple: true, class: "form-control input-sm", size: Math.min(5, Math.max(2, options.length))}, attrs));
    options.forEach(function (o) { s.appendChild(el("option", {value: o, selected: (chosen || []).indexOf(o) >= 0}, o)); });
    s.addEventListener("change", function () {
      onchange(Array.prototype.filter.call(s.options, function (o) { return o.selected; }).map(function (o) { return o.value; }));
    });
    return s;
  }

  function setList(obj, key, list) { if (list && list.length) obj[key] = list; else delete obj[key]; }
  function setText(obj, key, text) { if (text) obj[key] = text; else delete obj[key]; }
  function group(label, input) { return el("div", {class: "form-group form-group-sm"}, el("label", {class: "small"}, label), input); }

  /* The states table. ``ctx``: {doc, fields, changed, renameState(old, new)} */
  function statesEditor(ctx) {
    var doc = ctx.doc, names = Object.keys(doc.states);
    var rows = names.map(function (s) {
      var st = doc.states[s], ptr = "/states/" + s;
      var nameInput = el("input", {class: "form-control input-sm", value: s, name: "state-name", "aria-label": "State name", dataset: {ptr: ptr}});
      nameInput.addEventListener("change", function () { ctx.renameState(s, nameInput.value.trim()); });
      var label = el("input", {class: "form-control input-sm", value: st.label || "", name: "state-label", "aria-label": "Label of " + s,
        dataset: {ptr: ptr + "/label"}, oninput: function () { setText(st, "label", label.value.trim()); ctx.changed(); }});
      var colour = el("input", {type: "color", class: "form-control input-sm", value: /^#[0-9a-fA-F]{6}$/.test(st.colour || "") ? st.colour : "#777777",
        name: "state-colour", "aria-label": "Colour of " + s, dataset: {ptr: ptr + "/colour"}, oninput: function () { st.colour = colour.value; ctx.changed(); }});
      var initial = el("input", {type: "radio", name: "state-initial", checked: !!st.initial, "aria-label": s + " is initial", dataset: {ptr: ptr + "/initial"},
        onchange: function () { names.forEach(function (n) { delete doc.states[n].initial; }); st.initial = true; ctx.changed(); }});
      var final = el("input", {type: "checkbox", name: "state-final", checked: !!st.final, "aria-label": s + " is final", dataset: {ptr: ptr + "/final"},
        onchange: function () { if (final.checked) st.final = true; else delete st.final; ctx.changed(); }});
      return el("tr", {class: "xa-state-row", dataset: {state: s}},
        el("td", {}, nameInput, label), el("td", {}, colour),
        el("td", {class: "text-center"}, initial), el("td", {class: "text-center"}, final),
        el("td", {}, multi(ctx.fields, st.required, {name: "state-required", "aria-label": "Required in " + s, dataset: {ptr: ptr + "/required"}},
          function (v) { setList(st, "required", v); ctx.changed(); })),
        el("td", {}, multi(ctx.fields, st.readOnly, {name: "state-readonly", "aria-label": "Read-only in " + s, dataset: {ptr: ptr + "/readOnly"}},
          function (v) { setList(st, "readOnly", v); ctx.changed(); })),
        el("td", {}, el("button", {type: "button", class: "btn btn-xs btn-danger", name: "remove-state", "aria-label": "Remove state " + s,
          onclick: function () { delete doc.states[s]; ctx.changed(true); }}, "\u2715")));
    }).map(function (row, i) {
      // Under each state's row: its timers (structured, with a JSON view).
      var s = names[i], ptr = "/states/" + s;
      var leaving = function () {
        return (doc.transitions || []).filter(function (t) {
          return t.name && (t.from === "*" ? !doc.states[s].final : [].concat(t.from || []).indexOf(s) >= 0);
        }).map(function (t) { return t.name; });
      };
      var timerCtx = Object.assign({}, ctx, {leaving: leaving});
      return [row, el("tr", {class: "xa-state-timers", dataset: {state: s}},
        el("td", {colspan: 7}, el("div", {class: "xa-timers"}, el("span", {class: "small text-muted"}, "Timers of " + s),
          XA.kit.timersEditor(doc.states[s], "timers", ptr + "/timers", timerCtx))))];
    });
    return el("table", {class: "table table-condensed", id: "xa-states"},
      el("thead", {}, el("tr", {}, ["State / label", "Colour", "Initial", "Final", "Required fields", "Read-only fields", ""].map(function (h) { return el("th", {}, h); }))),
      el("tbody", {}, rows));
  }

  /* One card per transition. ``ctx`` adds roles (names). */
  function transitionsEditor(ctx) {
    var doc = ctx.doc, states = Object.keys(doc.states);
    return el("div", {id: "xa-transitions"}, (doc.transitions || []).map(function (t, i) {
      var ptr = "/transitions/" + i;
      var name = el("input", {class: "form-control input-sm", value: t.name || "", name: "tr-name", "aria-label": "Transition name", dataset: {ptr: ptr + "/name"},
        oninput: function () { t.name = name.value.trim(); ctx.changed(); }});
      var label = el("input", {class: "form-control input-sm", value: t.label || "", name: "tr-label", "aria-label": "Transition label", dataset: {ptr: ptr + "/label"},
        oninput: function () { setText(t, "label", label.value.trim()); ctx.changed(); }});
      var any = el("input", {type: "checkbox", name: "tr-from-any", checked: t.from === "*", onchange: function () {
        t.from = any.checked ? "*" : []; ctx.changed(true); }});
      var from = t.from === "*" ? el("p", {class: "small text-muted"}, "every state that is not final")
        : multi(states, [].concat(t.from || []), {name: "tr-from", "aria-label": "From states", dataset: {ptr: ptr + "/from"}},
          function (v) { t.from = v.length === 1 ? v[0] : v; ctx.changed(); });
      var to = XA.select([["", "(choose)"]].concat(states.map(function (s) { return [s, s]; })), t.to || "", {class: "form-control input-sm", name: "tr-to", "aria-label": "To state", dataset: {ptr: ptr + "/to"}});
      to.addEventListener("change", function () { t.to = to.value; ctx.changed(); });
      var guard = el("textarea", {class: "form-control input-sm xa-code", rows: 2, name: "tr-guard", spellcheck: "false", "aria-label": "Guard of " + (t.name || i),
        placeholder: "CEL, e.g. record.amount != null && record.amount > 0.0", value: t.guard || "", dataset: {ptr: ptr + "/guard"}});
      guard.addEventListener("input", function () { setText(t, "guard", guard.value.trim()); ctx.changed(false, true); });
      var guardMessage = el("input", {class: "form-control input-sm", value: t.guardMessage || "", name: "tr-guard-message", dataset: {ptr: ptr + "/guardMessage"},
        placeholder: "shown when the guard is false", oninput: function () { setText(t, "guardMessage", guardMessage.value.trim()); ctx.changed(); }});
      function flag(key, text) {
        var box = el("input", {type: "checkbox", name: "tr-" + key, checked: !!t[key], dataset: {ptr: ptr + "/" + key},
          onchange: function () { if (box.checked) t[key] = true; else delete t[key]; ctx.changed(); }});
        return el("label", {class: "checkbox-inline small"}, box, " " + text);
      }
      return el("div", {class: "xa-transition", dataset: {transition: String(i)}},
        el("div", {class: "row"},
          el("div", {class: "col-sm-3"}, group("Name", name), group("Label", label)),
          el("div", {class: "col-sm-3"}, group("From", from), el("label", {class: "checkbox-inline small"}, any, " from any open state (*)"), group("To", to)),
          el("div", {class: "col-sm-3"},
            group("Roles (none: anyone who may update)", multi(ctx.roles, t.roles, {name: "tr-roles", dataset: {ptr: ptr + "/roles"}}, function (v) { setList(t, "roles", v); ctx.changed(); })),
            group("Fields offered", multi(ctx.fields, t.fields, {name: "tr-fields", dataset: {ptr: ptr + "/fields"}}, function (v) { setList(t, "fields", v); ctx.changed(); }))),
          el("div", {class: "col-sm-3"},
            group("Required fields", multi(ctx.fields, t.requiredFields, {name: "tr-required", dataset: {ptr: ptr + "/requiredFields"}}, function (v) { setList(t, "requiredFields", v); ctx.changed(); })),
            flag("requireComment", "comment required"), el("br"), flag("notByOwner", "four eyes (not by the owner)"), el("br"), flag("ownerOnly", "owner only"))),
        el("div", {class: "row"},
          el("div", {class: "col-sm-5"}, group("Guard", guard), group("Guard message", guardMessage),
            el("button", {type: "button", class: "btn btn-xs btn-danger", name: "remove-transition",
              onclick: function () { doc.transitions.splice(i, 1); ctx.changed(true); }}, "Remove transition")),
          el("div", {class: "col-sm-7"}, el("h5", {}, "Approvals (each level by another person)"),
            XA.kit.approvalsEditor(t, "approvals", ptr + "/approvals", ctx))),
        el("h5", {}, "Actions (run in order when the transition fires)"),
        XA.kit.actionsEditor(t, "actions", ptr + "/actions", ctx));
    }));
  }

  XA.wfEditors = {states: statesEditor, transitions: transitionsEditor};
})();
