// ifkg serve: the query page. YASGUI (vendored, see VENDORED-yasgui.md) on the local /sparql
// endpoint with no network: no endpoint catalogue, no prefix.cc or LOV autocompletion (the
// prefixes come from /prefixes.json), no persistence. Without YASGUI the plain form below runs
// the query with fetch and draws the table with textContent only.
(function () {
  "use strict";
  var holder = document.getElementById("ifkg-yasgui");
  var form = document.getElementById("ifkg-query-form");
  var textarea = document.getElementById("ifkg-query");
  var out = document.getElementById("ifkg-results");
  var endpoint = new URL(holder.getAttribute("data-endpoint"), window.location.href).href;
  var prefixes = JSON.parse(holder.getAttribute("data-prefixes") || "{}");
  var base = (prefixes.graph || "").replace(/graph\/$/, "");

  function declared(text) {
    // PREFIX lines for the predeclared prefixes a query uses, so the editor's checker knows them
    var lines = [];
    Object.keys(prefixes).forEach(function (p) {
      var used = new RegExp("(^|[\\s(/^|,;{])" + p + ":").test(text);
      var has = new RegExp("PREFIX\\s+" + p + ":", "i").test(text);
      if (used && !has) { lines.push("PREFIX " + p + ": <" + prefixes[p] + ">"); }
    });
    return lines.length ? lines.join("\n") + "\n" + text : text;
  }

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      var a = document.createElement("a");
      a.href = base && term.value.indexOf(base + "id/") === 0 ? "/" + term.value.slice(base.length) : term.value;
      a.textContent = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.value;
    }
    return td;
  }

  function table(data) {
    out.textContent = "";
    if (typeof data.boolean === "boolean") {
      out.textContent = String(data.boolean);
      return;
    }
    var t = document.createElement("table");
    t.className = "results";
    var head = t.createTHead().insertRow();
    data.head.vars.forEach(function (v) {
      var th = document.createElement("th");
      th.textContent = v;
      head.appendChild(th);
    });
    var body = t.createTBody();
    data.results.bindings.forEach(function (b) {
      var tr = body.insertRow();
      data.head.vars.forEach(function (v) { tr.appendChild(cell(b[v])); });
    });
    out.appendChild(t);
    var p = document.createElement("p");
    p.className = "count";
    p.textContent = data.results.bindings.length + " rows" + (data.truncated ? " (truncated)" : "");
    out.appendChild(p);
  }

  function plain(ev) {
    ev.preventDefault();
    out.textContent = "…";
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/sparql-query",
                 "Accept": "application/sparql-results+json, text/turtle;q=0.5" },
      body: textarea.value
    }).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      if (!r.ok || type.indexOf("json") < 0) {
        return r.text().then(function (t) { out.textContent = t; });
      }
      return r.json().then(table);
    }).catch(function (e) { out.textContent = String(e); });
  }

  if (typeof window.Yasgui !== "function") {
    form.addEventListener("submit", plain);
    return;
  }
  form.hidden = true;
  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;
  if (Yasqe && Yasqe.defaults) {
    Yasqe.defaults.autocompleters = ["variables", "prefixes"];
    Yasqe.defaults.prefixCcApi = new URL("/prefixes.json", window.location.href).href;
  }
  var yasgui = new Yasgui(holder, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: false,
    autofocus: false,
    yasqe: { value: declared(textarea.value), autocompleters: ["variables", "prefixes"],
             prefixCcApi: new URL("/prefixes.json", window.location.href).href,
             persistenceId: null, resizeable: true, editorHeight: "260px" },
    yasr: { prefixes: prefixes, persistenceId: null }
  });
  window.ifkgYasgui = yasgui;
}());
