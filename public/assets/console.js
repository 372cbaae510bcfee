// The admin console's one script: the rule editor's preview follows the typing. It calls the
// same API as everything else (POST /api/v1/rules/preview), with the session cookie and the
// session's CSRF token, and draws the answer with text nodes only (never HTML from data).
// Without it, the editor's Preview button posts the form and the server draws the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-rule-editor]");
  var out = document.getElementById("preview-body");
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!form || !out || !meta) return;
  var csrf = meta.getAttribute("content");
  var scope = JSON.parse(form.getAttribute("data-scope") || '{"default":true}');
  var ZERO = ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];
  var THREE = ["bhd", "jod", "kwd", "omr", "tnd"];
  var WATCHED = ["body", "amount_minor", "fee_minor", "currency", "offer_id"];
  var timer = null;
  var asked = 0;

  // Minor units as a decimal, by string work like core's formatMinor: no float.
  function money(minor, currency) {
    var exp = ZERO.indexOf(currency) >= 0 ? 0 : THREE.indexOf(currency) >= 0 ? 3 : 2;
    var sign = minor < 0 ? "\u2212" : "";
    var digits = String(Math.abs(minor));
    while (digits.length < exp + 1) digits = "0" + digits;
    var text = exp === 0 ? digits : digits.slice(0, digits.length - exp) + "." + digits.slice(digits.length - exp);
    return sign + text + "\u00a0" + currency.toUpperCase();
  }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (attrs) for (var k in attrs) node.setAttribute(k, attrs[k]);
    return node;
  }

  function show(nodes) {
    while (out.firstChild) out.removeChild(out.firstChild);
    nodes.forEach(function (n) {
      out.appendChild(n);
    });
  }

  function problem(detail, errors) {
    var nodes = [el("p", detail, { class: "problem" })];
    if (errors && errors.length) {
      var ul = el("ul", null, { "data-testid": "problems" });
      errors.forEach(function (e) {
        var li = el("li");
        li.appendChild(el("code", e.path));
        li.appendChild(document.createTextNode(": " + e.message));
        ul.appendChild(li);
      });
      nodes.push(ul);
    }
    show(nodes);
  }

  function shares(answer, currency) {
    var table = el("table", null, { "data-testid": "preview-shares" });
    table.appendChild(el("caption", "Split of " + money(answer.basis_minor, currency)));
    var head = el("thead");
    var hr = el("tr");
    hr.appendChild(el("th", "Party", { scope: "col" }));
    hr.appendChild(el("th", "Share", { scope: "col", class: "amount" }));
    head.appendChild(hr);
    table.appendChild(head);
    var body = el("tbody");
    answer.shares.forEach(function (s) {
      var tr = el("tr", null, { "data-party": s.party_id });
      tr.appendChild(el("th", s.party_id, { scope: "row" }));
      tr.appendChild(el("td", money(s.amount_minor, currency), { class: "amount", "data-amount-minor": String(s.amount_minor) }));
      body.appendChild(tr);
    });
    table.appendChild(body);
    show([el("p", answer.in_words.en.sentence, { "data-testid": "preview-words" }), table]);
  }

  function run() {
    var mine = ++asked;
    var rule;
    try {
      rule = JSON.parse(form.elements.body.value);
    } catch (e) {
      problem("The rule is not valid JSON yet: " + e.message);
      return;
    }
    var currency = form.elements.currency.value.trim().toLowerCase();
    var payload = { rule: rule, amount_minor: Number(form.elements.amount_minor.value), fee_minor: Number(form.elements.fee_minor.value || "0"), currency: currency, scope: scope };
    if (form.elements.offer_id.value) payload.offer_id = form.elements.offer_id.value;
    out.parentNode.setAttribute("aria-busy", "true");
    fetch("/api/v1/rules/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": csrf },
      body: JSON.stringify(payload),
    })
      .then(function (res) {
        return res.json().then(function (body) {
          return { ok: res.ok, body: body };
        });
      })
      .then(function (answer) {
        if (mine !== asked) return; // an older answer, overtaken by newer typing
        out.parentNode.setAttribute("aria-busy", "false");
        if (answer.ok) shares(answer.body, currency);
        else problem(answer.body.detail || "The preview failed.", answer.body.errors);
      })
      .catch(function (e) {
        if (mine !== asked) return;
        out.parentNode.setAttribute("aria-busy", "false");
        problem("The preview could not reach the API: " + e.message);
      });
  }

  form.addEventListener("input", function (event) {
    if (WATCHED.indexOf(event.target.name) < 0) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, 250);
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "offer_id") run();
  });
})();
