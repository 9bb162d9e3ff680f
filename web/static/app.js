// Nexus web UI. Plain JavaScript, no build step, loaded once per page with defer.
// Every page works without it; it adds the live parts (run progress over server-sent
// events, the query preview, in-place opportunity actions, integration forms that
// talk to the JSON API) and small comforts (confirmations, copy buttons). It is a
// static file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }

  // api calls the JSON API (or a UI action) with the session's CSRF token and returns
  // the parsed body; a failure throws an Error carrying the server's message.
  async function api(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json", "X-CSRF-Token": csrf() } };
    if (body instanceof URLSearchParams) {
      opts.body = body;
    } else if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    var res = await fetch(url, opts);
    if (res.status === 204) return null;
    var data = null;
    try { data = await res.json(); } catch (e) { /* not JSON */ }
    if (!res.ok) {
      var msg = data && data.error && data.error.message ? data.error.message : "The server answered " + res.status + ".";
      var err = new Error(msg);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  var toastTimer;
  function toast(msg, bad) {
    var t = document.querySelector(".toast");
    if (!t) {
      t = document.createElement("div");
      t.className = "toast";
      t.setAttribute("role", "status");
      document.body.appendChild(t);
    }
    t.textContent = msg;
    t.classList.toggle("bad", !!bad);
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  // Confirmation before destructive forms.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  // Filters apply as soon as a select changes.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el.matches && el.matches("[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  // Copy buttons.
  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!b) return;
    var text = b.getAttribute("data-copy");
    var done = function () {
      var old = b.textContent;
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = old; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  });

  function fallbackCopy(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    ta.setAttribute("readonly", "");
    ta.className = "sr-only";
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* the text stays selectable */ }
    ta.remove();
  }

  // Opportunity actions (feedback, status) in place, without leaving the list.
  document.addEventListener("submit", async function (e) {
    var f = e.target;
    if (!f.classList || !f.classList.contains("js-inline")) return;
    e.preventDefault();
    var btn = e.submitter;
    var params = new URLSearchParams(new FormData(f));
    if (btn && btn.name) params.set(btn.name, btn.value);
    var buttons = f.querySelectorAll("button");
    buttons.forEach(function (x) { x.disabled = true; });
    try {
      await api("POST", f.action, params);
      if (f.dataset.kind === "feedback") showFeedback(f, btn.value);
      if (f.dataset.kind === "status") showStatus(f, btn.value);
    } catch (err) {
      toast(err.message, true);
    } finally {
      buttons.forEach(function (x) { x.disabled = false; });
    }
  });

  function showFeedback(f, value) {
    var state = value === "up" ? 1 : value === "down" ? -1 : 0;
    f.querySelectorAll("[data-fb]").forEach(function (b) {
      var on = (b.dataset.fb === "up" && state === 1) || (b.dataset.fb === "down" && state === -1);
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.value = on ? "none" : b.dataset.fb;
    });
    toast(state === 0 ? "Feedback cleared." : state > 0 ? "Marked relevant. Thanks!" : "Marked not relevant. Thanks!");
  }

  function showStatus(f, status) {
    f.classList.toggle("is-open", status === "new");
    f.classList.toggle("is-closed", status !== "new");
    var scope = f.closest("[data-opp]") || f.closest(".card") || document;
    var card = f.closest(".opp");
    if (card) card.classList.toggle("resolved", status !== "new");
    var pills = scope.querySelectorAll("[data-opp-status]");
    if (!pills.length) pills = document.querySelectorAll("[data-opp-status]");
    pills.forEach(function (p) {
      p.textContent = status;
      p.className = "pill status-" + status;
    });
    toast(status === "new" ? "Reopened." : status === "done" ? "Marked done." : "Dismissed.");
  }

  // Live run progress from the run's event stream.
  var stageOrder = ["searching", "threads", "analyzing", "delivering", "done"];
  function followRun(el) {
    var id = el.dataset.run;
    var es = new EventSource("/api/v1/runs/" + encodeURIComponent(id) + "/events");
    var update = function (ev) {
      var r;
      try { r = JSON.parse(ev.data); } catch (e) { return; }
      var p = r.progress || {};
      var bar = el.querySelector("[data-run-progress]");
      if (bar) { bar.value = p.percent || 0; bar.textContent = (p.percent || 0) + "%"; }
      el.querySelectorAll("[data-k]").forEach(function (n) {
        var k = n.dataset.k;
        if (k in p) n.textContent = p[k];
      });
      var cur = stageOrder.indexOf(r.stage);
      var active = r.status === "queued" || r.status === "running";
      el.querySelectorAll("[data-stage]").forEach(function (li) {
        var i = stageOrder.indexOf(li.dataset.stage);
        li.className = i < cur || (i === cur && !active) ? "done" : i === cur ? "current" : "todo";
      });
      document.querySelectorAll("[data-run-status]").forEach(function (s) {
        s.textContent = r.status;
        s.className = "status " + r.status;
      });
      if (ev.type === "done") {
        es.close();
        // The final page says what happened in plain words and where to look next.
        setTimeout(function () { window.location.reload(); }, 600);
      }
    };
    es.addEventListener("progress", update);
    es.addEventListener("done", update);
  }
  document.querySelectorAll("[data-run][data-live]").forEach(followRun);

  // Campaign form: the compiled X query, previewed as the form changes.
  function listValue(v, commas) {
    return v.split(commas ? /[\n\r,]+/ : /[\n\r]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }
  function campaignBody(form) {
    var body = {}, routes = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf" || el.disabled) return;
      if (el.dataset.route) {
        if (el.value) routes.push({ integration: el.dataset.route, mode: el.value });
      } else if (el.dataset.list) {
        body[el.name] = listValue(el.value, el.dataset.list === "commas");
      } else if (el.type === "number") {
        var n = parseInt(el.value, 10);
        if (!isNaN(n)) body[el.name] = n;
      } else if (el.type === "checkbox") {
        body[el.name] = el.checked;
      } else if (el.type === "radio") {
        if (el.checked) body[el.name] = el.value;
      } else if (el.tagName !== "BUTTON") {
        body[el.name] = el.value.trim();
      }
    });
    if (!body.name) delete body.name;
    body.routes = routes;
    return body;
  }
  function previewCampaign(form) {
    var q = document.querySelector("[data-preview-query]");
    var first = document.querySelector("[data-preview-first]");
    var errEl = document.querySelector("[data-preview-error]");
    var seq = 0, timer;
    var run = async function () {
      var mine = ++seq;
      try {
        var r = await api("POST", "/campaigns/preview", campaignBody(form));
        if (mine !== seq) return;
        if (r.error) {
          errEl.textContent = (r.error.field ? r.error.field.replace(/_/g, " ") + ": " : "") + r.error.message;
          errEl.hidden = false;
          return;
        }
        q.textContent = r.query;
        first.textContent = r.first_run_query;
        errEl.hidden = true;
      } catch (err) {
        if (mine !== seq) return;
        errEl.textContent = err.message;
        errEl.hidden = false;
      }
    };
    form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
    form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(run, 50); });
    run();
  }
  document.querySelectorAll("[data-campaign-form]").forEach(previewCampaign);

  // Integrations: settings go to the API as JSON (secrets are write-only there).
  document.querySelectorAll("[data-integration-form]").forEach(function (form) {
    var kind = form.dataset.integrationForm;
    var out = form.querySelector("[data-result]");
    var say = function (msg, ok) {
      out.textContent = msg;
      out.className = "result " + (ok ? "ok" : "bad");
      out.hidden = false;
    };
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      var body = {};
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && el.value.trim() !== "") body[el.name] = el.value.trim();
      });
      if (kind === "slack" && body.webhook_url) { delete body.bot_token; delete body.channel; }
      try {
        await api("PUT", "/api/v1/integrations/" + kind, body);
        window.location.reload();
      } catch (err) {
        say(err.message, false);
      }
    });
    form.addEventListener("click", async function (e) {
      var b = e.target.closest("[data-action]");
      if (!b) return;
      try {
        if (b.dataset.action === "test") {
          b.disabled = true;
          await api("POST", "/api/v1/integrations/" + kind + "/test");
          say("Test message sent.", true);
        } else if (b.dataset.action === "delete" && window.confirm("Remove this integration? Campaign routes to it stop delivering.")) {
          await api("DELETE", "/api/v1/integrations/" + kind);
          window.location.reload();
        }
      } catch (err) {
        say(err.message, false);
      } finally {
        b.disabled = false;
      }
    });
  });

  // Dashboard: refresh the figures in place while the tab is visible.
  var live = document.querySelector("[data-live-refresh]");
  if (live) {
    var every = Math.max(10, parseInt(live.dataset.liveRefresh, 10) || 30) * 1000;
    setInterval(async function () {
      if (document.visibilityState !== "visible") return;
      try {
        var res = await fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (!res.ok || res.redirected) return;
        var doc = new DOMParser().parseFromString(await res.text(), "text/html");
        var fresh = doc.querySelector("main"), cur = document.querySelector("main");
        if (fresh && cur) cur.replaceWith(fresh);
      } catch (e) { /* offline for a moment: try again next time */ }
    }, every);
  }
})();
