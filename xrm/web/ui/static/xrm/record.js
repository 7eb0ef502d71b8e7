/* The record page: fields in sections, each workflow's stage bar and transition buttons (with
   the reason when one is not available; an entity may have several workflows, one per state
   field), related lists (1:N and N:N) and a timeline of the record's activities and audit
   history. */
(function (xrm) {
  "use strict";
  var el = xrm.el, page = xrm.page, model = page.model, entity = page.entity, id = page.recordId;
  var fm = xrm.fieldMap(model);
  var root = document.getElementById("xrm-record");
  var base = "/data/" + encodeURIComponent(entity) + "/" + id;
  var record = null, etag = null;

  var header = el("div", {class: "page-header"});
  var wfs = model.workflows || (model.workflow ? [model.workflow] : []);
  var workflowsBox = el("div", {id: "xrm-workflows"});
  var transitionForm = el("div", {id: "xrm-transition-form"});
  var details = el("div", {class: "col-md-8"});
  var side = el("div", {class: "col-md-4"});
  xrm.append(root, [header, workflowsBox, transitionForm, el("div", {class: "row"}, details, side)]);

  function renderHeader() {
    var title = model.titleField ? xrm.format(fm[model.titleField], record[model.titleField]) : "";
    xrm.clear(header);
    xrm.append(header, [
      el("div", {class: "pull-right"},
        model.rights.update ? el("a", {class: "btn btn-primary", id: "xrm-edit", href: xrm.recordUrl(entity, id) + "/edit"}, "Edit") : null, " ",
        model.rights["delete"] ? el("button", {class: "btn btn-danger", id: "xrm-delete", onclick: remove}, "Delete") : null),
      el("small", {}, el("a", {href: page.uiBase + "/" + encodeURIComponent(entity) + "/"}, model.labelPlural)),
      el("h2", {id: "xrm-title"}, title || (model.label + " #" + id))]);
  }

  function remove() {
    if (!window.confirm("Move this " + model.label.toLowerCase() + " to the recycle bin?")) return;
    xrm.api("DELETE", base, null, etag ? {"If-Match": etag} : {}).then(function () {
      window.location.href = page.uiBase + "/" + encodeURIComponent(entity) + "/";
    }).catch(function (err) { xrm.alert(err.message); });
  }

  function renderFields() {
    xrm.clear(details);
    (model.sections || []).forEach(function (s) {
      var dl = el("dl", {class: "dl-horizontal xrm-fields"});
      s.fields.forEach(function (n) {
        var f = fm[n];
        if (!f) return;
        var v = record[n];
        dl.appendChild(el("dt", {}, f.label));
        dl.appendChild(el("dd", {dataset: {field: n}}, f.type === "manytomany"
          ? (v || []).map(function (x, i) { return [i ? ", " : "", el("a", {href: xrm.recordUrl(f.target, x)}, xrm.titles[f.target + ":" + x] || "#" + x)]; })
          : xrm.link(f, v)));
      });
      details.appendChild(el("div", {class: "panel panel-default xrm-section", dataset: {section: s.name}},
        el("div", {class: "panel-heading"}, s.label), el("div", {class: "panel-body"}, dl)));
    });
    details.appendChild(el("p", {class: "text-muted small"},
      "Created " + xrm.format({type: "datetime"}, record.created_at) + " · updated " + xrm.format({type: "datetime"}, record.updated_at) + " · version " + record.row_version));
  }

  /* Workflows: one block per workflow (its stage bar and transitions); the first block's bar
     and buttons keep the ids #xrm-stagebar and #xrm-transitions. */
  function workflowBlock(w, i) {
    var bar = el("div", {class: "xrm-stagebar", id: i === 0 ? "xrm-stagebar" : null});
    var buttons = el("div", {class: "xrm-transitions", id: i === 0 ? "xrm-transitions" : null});
    var heading = wfs.length > 1 ? el("h5", {class: "xrm-workflow-label"}, (w.label || w.workflow || w.name) + ": ",
      el("span", {class: "xrm-workflow-state"}, w.stateLabel || w.state || "")) : null;
    workflowsBox.appendChild(el("div", {class: "xrm-workflow", dataset: {workflow: w.workflow || w.name}}, heading, bar, buttons));
    return {bar: bar, buttons: buttons};
  }
  function loadTransitions() {
    xrm.clear(workflowsBox);
    if (!wfs.length) return Promise.resolve();
    if (!page.endpoints.transitions) {
      wfs.forEach(function (w, i) { renderStages(workflowBlock(w, i).bar, w.states, record[w.stateField]); });
      return Promise.resolve();
    }
    return xrm.api("GET", base + "/transitions").then(function (r) {
      var blocks = r.data && (r.data.workflows || (r.data.workflow ? [r.data] : []));
      (blocks || []).forEach(function (wf, i) {
        var block = workflowBlock(wf, i);
        renderStages(block.bar, wf.states || [], wf.state);
        (wf.transitions || []).forEach(function (t) {
          var reasons = (t.reasons || []).map(function (x) { return x.message; }).join("; ");
          t = Object.assign({workflow: wf.workflow}, t);
          block.buttons.appendChild(el("span", {class: "xrm-transition", dataset: {transition: t.name}},
            el("button", {class: "btn btn-" + (t.available ? "success" : "default"), disabled: !t.available,
              title: t.available ? "" : reasons, onclick: function () { ask(t); }}, t.label || t.name),
            !t.available && reasons ? el("span", {class: "xrm-reason"}, reasons) : null));
        });
      });
    }).catch(function (err) { if (err.status !== 404) xrm.alert(err.message); });
  }
  function renderStages(stagebar, states, current) {
    var seen = true;
    xrm.clear(stagebar);
    states.forEach(function (s) {
      var here = s.name === current;
      if (here) seen = false;
      stagebar.appendChild(el("div", {class: "xrm-stage" + (here ? " current" : seen ? " done" : "") + (s.final ? " final" : ""),
        dataset: {state: s.name}, style: here && s.color ? "background:" + s.color : null}, s.label || s.name));
    });
  }
  /* A transition that needs a comment or fields asks for them first. */
  function ask(t) {
    var req = t.requires || {}, fields = (req.fields || []).map(function (n) { return fm[n]; }).filter(Boolean);
    if (!fields.length && !req.comment) return fire(t, {});
    xrm.clear(transitionForm);
    var comment = el("textarea", {class: "form-control", id: "xrm-transition-comment", rows: 2});
    var inputs = {};
    var form = el("form", {class: "well", onsubmit: function (ev) {
      ev.preventDefault();
      var values = {};
      Object.keys(inputs).forEach(function (n) { values[n] = inputs[n].get(); });
      fire(t, {comment: comment.value || undefined, values: fields.length ? values : undefined});
    }}, el("h4", {}, t.label || t.name),
      fields.map(function (f) {
        var w = inputs[f.name] = xrm.widgets ? xrm.widgets.create(f, {id: "t-" + f.name}) : null;
        if (w) w.set(record[f.name]);
        return w ? el("div", {class: "form-group"}, el("label", {for: "t-" + f.name}, f.label), w.node) : null;
      }),
      req.comment ? el("div", {class: "form-group"}, el("label", {for: "xrm-transition-comment"}, "Comment"), comment) : null,
      el("button", {type: "submit", class: "btn btn-success"}, "Confirm"), " ",
      el("button", {type: "button", class: "btn btn-default", onclick: function () { xrm.clear(transitionForm); }}, "Cancel"));
    transitionForm.appendChild(form);
  }
  function fire(t, body) {
    xrm.alert(null);
    if (t.workflow) body = Object.assign({workflow: t.workflow}, body);
    return xrm.api("POST", base + "/transitions/" + encodeURIComponent(t.name), body, etag ? {"If-Match": etag} : {}).then(function () {
      xrm.clear(transitionForm);
      xrm.toast((t.label || t.name) + " done");
      return load();
    }).catch(function (err) {
      var reasons = (err.problem.reasons || []).map(function (x) { return x.message; });
      var fieldErrors = (err.errors || []).map(function (x) { return x.message; });
      xrm.alert(err.message + (reasons.length ? ": " + reasons.join("; ") : "") + (fieldErrors.length ? " — " + fieldErrors.join("; ") : ""));
    });
  }

  /* Related lists and timeline */
  function renderRelated() {
    xrm.clear(side);
    (model.related || []).forEach(function (rel) {
      var body = el("div", {class: "list-group"});
      var op = rel.kind === "1:N" ? "eq." + id : "cs.{" + id + "}";
      var sel = "id" + (rel.titleField ? "," + rel.titleField : "");
      var panel = el("div", {class: "panel panel-default xrm-related", dataset: {related: rel.entity + "." + rel.field}},
        el("div", {class: "panel-heading"}, rel.label,
          rel.kind === "1:N" ? el("a", {class: "pull-right small", href: page.uiBase + "/" + encodeURIComponent(rel.entity) + "/new?" + xrm.qs([[rel.field, id]])}, "+ New") : null),
        body);
      side.appendChild(panel);
      xrm.api("GET", "/data/" + encodeURIComponent(rel.entity) + "?" + xrm.qs([[rel.field, op], ["select", sel], ["limit", "10"], ["count", "exact"]])).then(function (r) {
        r.data.items.forEach(function (it) {
          body.appendChild(el("a", {class: "list-group-item", href: xrm.recordUrl(rel.entity, it.id)},
            rel.titleField && it[rel.titleField] !== null && it[rel.titleField] !== undefined ? String(it[rel.titleField]) : "#" + it.id));
        });
        if (!r.data.items.length) body.appendChild(el("div", {class: "list-group-item text-muted"}, "None"));
        else if (r.data.count > r.data.items.length) body.appendChild(el("a", {class: "list-group-item text-muted",
          href: page.uiBase + "/" + encodeURIComponent(rel.entity) + "/"}, (r.data.count - r.data.items.length) + " more…"));
      }).catch(function (err) { body.appendChild(el("div", {class: "list-group-item text-danger"}, err.message)); });
    });
    var timeline = el("ul", {class: "xrm-timeline", id: "xrm-timeline"});
    side.appendChild(el("div", {class: "panel panel-default"}, el("div", {class: "panel-heading"}, "Timeline"), el("div", {class: "panel-body"}, timeline)));
    var activities = (model.activities || []).map(function (a) {
      return xrm.api("GET", "/data/" + encodeURIComponent(a.entity) + "?" + xrm.qs([[a.field, "eq." + entity + ":" + id], ["limit", "20"], ["order", "created_at.desc"]]))
        .then(function (r) { return r.data.items.map(function (it) { return {kind: "activity", at: it.created_at, source: a, item: it}; }); })
        .catch(function () { return []; });
    });
    var history = xrm.api("GET", base + "/history").then(function (r) {
      return r.data.items.map(function (h) { return {kind: "audit", at: h.at, item: h}; });
    });
    Promise.all([history].concat(activities)).then(function (lists) {
      var entries = [].concat.apply([], lists).sort(function (a, b) { return a.at < b.at ? 1 : -1; });
      entries.forEach(function (e) {
        if (e.kind === "activity") {
          var t = e.source.titleField ? e.item[e.source.titleField] : null;
          timeline.appendChild(el("li", {class: "xrm-activity"}, el("span", {class: "xrm-when"}, xrm.format({type: "datetime"}, e.at)), " ",
            el("strong", {}, e.source.label), ": ", el("a", {href: xrm.recordUrl(e.source.entity, e.item.id)}, t ? String(t) : "#" + e.item.id)));
          return;
        }
        var h = e.item;
        timeline.appendChild(el("li", {class: "xrm-audit", dataset: {action: h.action}},
          el("span", {class: "xrm-when"}, xrm.format({type: "datetime"}, h.at) + " · " + (h.actor.username || "system")), el("br"),
          el("strong", {}, h.action),
          el("ul", {class: "list-unstyled small"}, Object.keys(h.changes).map(function (k) {
            var f = fm[k], c = h.changes[k];
            return el("li", {}, (f ? f.label : k) + ": ", el("del", {}, xrm.format(f, c.old)), " → ", el("span", {}, xrm.format(f, c["new"])));
          }))));
      });
      if (!entries.length) timeline.appendChild(el("li", {class: "text-muted"}, "Nothing yet"));
    }).catch(function (err) { timeline.appendChild(el("li", {class: "text-danger"}, err.message)); });
  }

  function load() {
    return xrm.api("GET", base).then(function (r) {
      record = r.data;
      etag = r.headers.get("ETag");
      return xrm.resolveTitles(model.fields, [record]);
    }).then(function () {
      renderHeader(); renderFields(); renderRelated();
      return loadTransitions();
    }).catch(function (err) { xrm.alert(err.message); });
  }
  load();
})(window.xrm);
