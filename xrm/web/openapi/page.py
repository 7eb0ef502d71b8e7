"""The browsable API page: Swagger UI from local files, a login form, and the glue script.

Kept as Python strings rather than package data files, so an installed wheel carries them
without packaging configuration. The page holds no inline script (the glue is a file of its
own, configured through ``data-`` attributes) and references nothing outside this server.
"""

from __future__ import annotations

from html import escape

PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>xRM API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <link rel="stylesheet" href="{docs_css}">
  <link rel="icon" type="image/png" href="{assets}/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <header id="xrm-docs" data-spec-url="{spec_url}" data-login-url="{login_url}"
          data-provider="{provider}" data-csrf-token="{csrf_token}" data-session="{session}">
    <strong>xRM API</strong>
    <form id="xrm-login" autocomplete="on">
      <input name="username" placeholder="User name" autocomplete="username">
      <input name="password" type="password" placeholder="Password"
             autocomplete="current-password">
      <button type="submit">Log in</button>
    </form>
    <form id="xrm-token">
      <input name="token" placeholder="or paste an access or API token" autocomplete="off">
      <button type="submit">Use</button>
    </form>
    <span id="xrm-status" role="status"></span>
    <button id="xrm-logout" type="button" hidden>Forget token</button>
    <a href="{spec_url}">openapi.json</a>
  </header>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{docs_js}"></script>
</body>
</html>
"""

STYLE = """\
body { margin: 0; background: #fafafa; }
#xrm-docs { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center;
  padding: .6rem 1.25rem; background: #1f2a37; color: #fff; font-family: sans-serif; }
#xrm-docs form { display: flex; gap: .3rem; }
#xrm-docs input { padding: .25rem .4rem; }
#xrm-docs a { color: #9cc4ff; margin-left: auto; }
#xrm-status { font-size: .9rem; color: #cfe3ff; }
"""

SCRIPT = """\
(function () {
  "use strict";
  var KEY = "xrm-api-token";
  var root = document.getElementById("xrm-docs");
  var cfg = root.dataset;
  var status = document.getElementById("xrm-status");
  var logout = document.getElementById("xrm-logout");

  function token() { return window.sessionStorage.getItem(KEY) || ""; }
  function setToken(value) {
    if (value) { window.sessionStorage.setItem(KEY, value); }
    else { window.sessionStorage.removeItem(KEY); }
    logout.hidden = !value;
    status.textContent = value ? "token in use" : "";
    start();
  }

  function start() {
    window.ui = window.SwaggerUIBundle({
      url: cfg.specUrl,
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      requestInterceptor: function (req) {
        var t = token();
        // The document itself needs credentials too; API calls use the Authorize dialog.
        if (req.loadSpec && t) { req.headers.Authorization = "Bearer " + t; }
        var method = (req.method || "GET").toUpperCase();
        if (cfg.csrfToken && ["GET", "HEAD", "OPTIONS"].indexOf(method) < 0) {
          req.headers["X-CSRFToken"] = cfg.csrfToken;
        }
        return req;
      },
      onComplete: function () {
        var t = token();
        if (t) { window.ui.preauthorizeApiKey("bearerAuth", t); }
      }
    });
  }

  document.getElementById("xrm-login").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    status.textContent = "logging in...";
    window.fetch(cfg.loginUrl, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({
        username: form.username.value, password: form.password.value,
        provider: cfg.provider
      })
    }).then(function (res) {
      return res.json().then(function (body) { return {ok: res.ok, body: body}; });
    }).then(function (r) {
      if (!r.ok || !r.body.access_token) {
        status.textContent = (r.body && r.body.message) || "login failed";
        return;
      }
      form.password.value = "";
      setToken(r.body.access_token);
    }).catch(function () { status.textContent = "login failed"; });
  });

  document.getElementById("xrm-token").addEventListener("submit", function (event) {
    event.preventDefault();
    setToken(event.target.token.value.trim());
    event.target.token.value = "";
  });
  logout.addEventListener("click", function () { setToken(""); });

  logout.hidden = !token();
  status.textContent = token() ? "token in use"
    : cfg.session ? "" : "log in, or paste a token, to load the API description";
  start();
})();
"""


def render_page(
    *,
    assets: str,
    docs_css: str,
    docs_js: str,
    spec_url: str,
    login_url: str,
    provider: str,
    csrf_token: str,
    session: bool,
) -> str:
    values = {
        "assets": assets,
        "docs_css": docs_css,
        "docs_js": docs_js,
        "spec_url": spec_url,
        "login_url": login_url,
        "provider": provider,
        "csrf_token": csrf_token,
        "session": "1" if session else "",
    }
    return PAGE.format(**{k: escape(v, quote=True) for k, v in values.items()})
