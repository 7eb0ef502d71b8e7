/* Automation run log: outbox messages by status (dead letters first among the tabs), their
 * run log (GET /admin/jobs/<id>), retry and discard. */
(function () {
  "use strict";
  var el = XA.el;
  var tabs = document.getElementById("xa-job-status");
  var form = document.getElementById("xa-job-filters");
  var body = document.querySelector("#xa-jobs tbody");
  var more = document.getElementById("xa-more");
  var detail = document.getElementById("xa-job-detail");
  var ORDER = ["dead", "pending", "running", "done", "skipped", "discarded"];
  var KIND = {dead: "danger", pending: "info", running: "primary", done: "success", skipped: "default", discarded: "default"};
  var initial = new URLSearchParams(window.location.search);
  var state = {status: initial.has("status") ? initial.get("status") : "dead", next: null};

  function renderTabs(counts) {
    XA.clear(tabs);
    [[null, "All"]].concat(ORDER.map(function (s) { return [s, s === "dead" ? "Dead letters" : s]; })).forEach(function (t) {
      var n = t[0] ? (counts || {})[t[0]] : null;
      tabs.appendChild(el("li", {class: state.status === (t[0] || "") ? "active" : ""},
        el("a", {href: "#", dataset: {status: t[0] || ""}, onclick: function (ev) {
          ev.preventDefault(); state.status = t[0] || ""; load(false); }}, t[1], n !== null && n !== undefined ? el("span", {class: "badge"}, String(n)) : null)));
    });
  }

  function act(job, what) {
    XA.api("POST", "/admin/jobs/" + job.id + "/" + what).then(function () {
      XA.alert("success", "Job " + job.id + (what === "retry" ? " will be delivered again." : " discarded."));
      load(false);
    }).catch(function (err) { XA.showError(err, "Could not " + what + " job " + job.id); });
  }

  function show(job) {
    XA.api("GET", "/admin/jobs/" + job.id).then(function (d) {
      XA.clear(detail).appendChild(el("div", {class: "panel panel-default", id: "xa-job-panel"},
        el("div", {class: "panel-heading"}, "Job " + d.id + " \u00b7 ", el("code", {}, d.topic), " \u00b7 " + d.status),
        el("div", {class: "panel-body"},
          el("h5", {}, "Payload"), el("pre", {class: "xa-code small"}, JSON.stringify(d.payload, null, 2)),
          el("h5", {}, "Attempts"),
          d.runs.length ? el("table", {class: "table table-condensed"},
            el("thead", {}, el("tr", {}, ["#", "Started", "Finished", "Worker", "Outcome", "Error / steps"].map(function (h) { return el("th", {}, h); }))),
            el("tbody", {}, d.runs.map(function (r) {
              return el("tr", {class: r.outcome === "failed" || r.outcome === "dead" ? "danger" : ""},
                el("td", {}, r.attempt), el("td", {}, XA.fmtDate(r.startedAt)), el("td", {}, XA.fmtDate(r.finishedAt)),
                el("td", {class: "small"}, r.worker + " (" + r.transport + ")"), el("td", {}, r.outcome),
                el("td", {class: "xa-json-cell"}, r.error || "", r.steps && r.steps.length ? el("div", {class: "text-muted"}, XA.short(r.steps, 400)) : null));
            }))) : el("p", {class: "text-muted"}, "Not attempted yet."))));
      detail.scrollIntoView({block: "nearest"});
    }).catch(function (err) { XA.showError(err, "Could not load job " + job.id); });
  }

  function load(append) {
    var params = new URLSearchParams();
    if (state.status) params.set("status", state.status);
    var topic = form.elements.topic.value.trim();
    if (topic) params.set("topic", topic);
    if (!append) history.replaceState(null, "", "?" + params.toString());
    if (append && state.next) params.set("before", state.next);
    return XA.api("GET", "/admin/jobs?" + params.toString()).then(function (data) {
      renderTabs(data.counts);
      if (!append) XA.clear(body);
      data.items.forEach(function (j) {
        var actions = [el("button", {type: "button", class: "btn btn-xs btn-default", name: "runs", onclick: function () { show(j); }}, "Runs")];
        if (["dead", "discarded", "pending", "skipped"].indexOf(j.status) >= 0) {
          actions.push(" ", el("button", {type: "button", class: "btn btn-xs btn-primary", name: "retry", onclick: function () { act(j, "retry"); }}, "Retry"));
        }
        if (["dead", "pending"].indexOf(j.status) >= 0) {
          actions.push(" ", el("button", {type: "button", class: "btn btn-xs btn-danger", name: "discard", onclick: function () { act(j, "discard"); }}, "Discard"));
        }
        body.appendChild(el("tr", {dataset: {job: String(j.id), status: j.status}},
          el("td", {}, j.id), el("td", {}, el("code", {}, j.topic)),
          el("td", {}, j.entity ? j.entity + (j.recordId ? " #" + j.recordId : "") : ""),
          el("td", {}, el("span", {class: "label label-" + (KIND[j.status] || "default")}, j.status)),
          el("td", {}, j.attempts), el("td", {}, XA.fmtDate(j.createdAt)),
          el("td", {class: "xa-json-cell text-danger"}, XA.short(j.lastError || "", 200)),
          el("td", {class: "text-right"}, actions)));
      });
      if (!body.firstChild) body.appendChild(el("tr", {}, el("td", {colspan: 8, class: "text-muted"}, state.status === "dead" ? "No dead letters." : "No messages.")));
      state.next = data.next;
      more.classList.toggle("hidden", !data.next);
    }).catch(function (err) { XA.showError(err, "Could not load the jobs"); });
  }

  if (initial.get("topic")) form.elements.topic.value = initial.get("topic");
  form.addEventListener("submit", function (ev) { ev.preventDefault(); load(false); });
  more.addEventListener("click", function () { load(true); });
  load(false);
})();
