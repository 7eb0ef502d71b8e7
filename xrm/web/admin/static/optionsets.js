/* Option set list (GET /meta/option-sets): each set with its options and the fields using it. */
(function () {
  "use strict";
  var el = XA.el, body = document.querySelector("#xa-option-sets tbody");
  XA.api("GET", "/meta/option-sets").then(function (data) {
    XA.clear(body);
    data.items.forEach(function (s) {
      body.appendChild(el("tr", {dataset: {optionSet: s.name}},
        el("td", {}, el("a", {href: "/admin/option-sets/" + XA.enc(s.name)}, el("code", {}, s.name))),
        el("td", {}, s.label || ""),
        el("td", {}, s.options.map(function (o) {
          return el("span", {class: "label label-default xa-tag", title: o.value},
            o.color ? el("span", {class: "xa-swatch", style: {background: /^#[0-9a-fA-F]{3,8}$/.test(o.color) ? o.color : "transparent"}}) : null,
            o.label || o.value);
        })),
        el("td", {class: "small"}, s.usedBy.length ? s.usedBy.join(", ") : el("span", {class: "text-muted"}, "no field yet"))));
    });
    var deleted = /[?&]deleted=([^&]+)/.exec(window.location.search);
    if (deleted) XA.alert("success", "Option set " + decodeURIComponent(deleted[1]) + " deleted.");
    if (!data.items.length) body.appendChild(el("tr", {}, el("td", {colspan: 4, class: "text-muted"}, "No option set yet.")));
  }).catch(function (err) { XA.showError(err, "Could not load the option sets"); });
})();
