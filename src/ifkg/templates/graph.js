/* ifkg viz: draws the graph embedded as JSON in #ifkg-data with vis-network.
   Every text from the data reaches the page through textContent or a text node, never as
   markup; vis-network draws labels on the canvas and gets no `title` (its HTML tooltips). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("ifkg-data").textContent);
  var UI = {
    zh: {search: "搜索名称、英文名或编号", go: "查找", notFound: "未找到", lang: "语言",
      size: "大小", degree: "按关系数", money: "按人民币数值合计", fit: "全图",
      legend: "类别（点击筛选）", kinds: "关系类型", info: "详情",
      hint: "悬停或点击节点、边，查看类别、数值和原文证据；搜索框可定位机构。",
      nodes: "节点", edges: "边", cls: "类别", figures: "数值", relations: "关系",
      evidence: "原文", mentioned: "原文提及", date: "时间", kind: "类型", money_sum: "人民币数值合计",
      none: "（无）", from: "从", to: "至"},
    en: {search: "Search a name or id", go: "Find", notFound: "not found", lang: "Language",
      size: "Size", degree: "by relations", money: "by sum of CNY figures", fit: "Fit",
      legend: "Classes (click to filter)", kinds: "Edge kinds", info: "Details",
      hint: "Hover or click a node or an edge to see its class, figures and the evidence " +
        "sentence; the search box finds an entity.",
      nodes: "nodes", edges: "edges", cls: "Class", figures: "Figures", relations: "Relations",
      evidence: "Evidence", mentioned: "Mentioned", date: "Date", kind: "Kind",
      money_sum: "Sum of CNY figures", none: "(none)", from: "from", to: "to"}
  };
  var SHAPE_GLYPH = {dot: "\u25CF", circle: "\u25CF", box: "\u25A0",
    square: "\u25A0", database: "\u25A0", text: "T", diamond: "\u25C6", triangle: "\u25B2",
    triangleDown: "\u25BC", star: "\u2605", hexagon: "\u2B22"};

  var lang = data.lang === "en" ? "en" : "zh";
  var sizeBy = data.sizeBy === "money" ? "money" : "degree";
  var nodeById = new Map(), edgeById = new Map(), kindByKey = new Map();
  var incident = new Map();
  data.nodes.forEach(function (n) { nodeById.set(n.id, n); incident.set(n.id, []); });
  data.edges.forEach(function (e) {
    edgeById.set(e.id, e);
    incident.get(e.from).push(e);
    if (e.to !== e.from) { incident.get(e.to).push(e); }
  });
  data.kinds.forEach(function (k) { kindByKey.set(k.key, k); });
  var hiddenCats = new Set(), hiddenKinds = new Set();
  var selected = null;  // {type: "node"|"edge", id}

  function $(id) { return document.getElementById(id); }
  function t(key) { return UI[lang][key]; }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function nodeName(n) { return lang === "en" ? n.en : n.zh; }
  function otherName(n) { return lang === "en" ? n.zh : n.en; }
  function pick(zh, en) { return lang === "en" ? en : zh; }
  function classLabel(c) {
    var l = data.classLabels[c];
    return l ? pick(l[0], l[1]) : c;
  }

  /* vis-network gets only these attributes of pyvis's nodes and edges (never a `title`, which
     it would show as HTML); the rest is the page's own data */
  var NODE_KEYS = ["id", "label", "shape", "group", "size", "font", "widthConstraint", "x", "y",
    "physics", "borderWidth", "shadow"];
  var EDGE_KEYS = ["id", "from", "to", "arrows", "color", "smooth", "label"];
  function only(item, keys) {
    var out = {};
    keys.forEach(function (k) { if (item[k] !== undefined) { out[k] = item[k]; } });
    return out;
  }
  function visNode(n) {
    var out = only(n, NODE_KEYS);
    out.hidden = hiddenCats.has(n.group);
    return out;
  }
  function edgeHidden(e) {
    return hiddenKinds.has(e.k) || hiddenCats.has(nodeById.get(e.from).group) ||
      hiddenCats.has(nodeById.get(e.to).group);
  }
  function visEdge(e) {
    var out = only(e, EDGE_KEYS);
    out.hidden = edgeHidden(e);
    return out;
  }

  var nodes = new vis.DataSet(data.nodes.map(visNode));
  var edges = new vis.DataSet(data.edges.map(visEdge));
  var container = $("ifkg-graph");
  var network = new vis.Network(container, {nodes: nodes, edges: edges}, data.options);
  window.ifkgNetwork = network;
  network.once("afterDrawing", function () {
    window.ifkgReady = {firstDraw: performance.now()};
  });

  /* Heavy nodes have large labels, readable when the whole graph is in view. Zoomed in, no
     label is drawn larger than data.labelMaxPx on screen (vis-network 10 ignores its own
     scaling.label.maxVisible when drawing), so the page caps the font sizes itself. */
  var fontNow = new Map();
  data.nodes.forEach(function (n) { fontNow.set(n.id, n.font.size); });
  function fontFor(n) {
    return Math.min(n.vs[sizeBy][1], data.labelMaxPx / network.getScale());
  }
  function capLabels(all) {
    var changes = [];
    data.nodes.forEach(function (n) {
      var f = fontFor(n);
      if (all || Math.abs(f - fontNow.get(n.id)) > 0.01) {
        fontNow.set(n.id, f);
        changes.push({id: n.id, font: Object.assign({}, n.font, {size: f})});
      }
    });
    if (changes.length) { nodes.update(changes); }
  }
  var capPending = false;
  network.on("zoom", function () {
    if (capPending) { return; }
    capPending = true;
    window.requestAnimationFrame(function () { capPending = false; capLabels(false); });
  });
  network.once("afterDrawing", function () { capLabels(false); });  // a small view opens close

  /* ---- evidence, figures, info panel and tooltip: DOM nodes only ---- */
  /* Where the quote sits in the sentence, ignoring whitespace and markdown marks (the build
     folds them when it finds a quote): [start, end) in the sentence, or null. */
  function locate(sentence, exact) {
    var skip = /[\s#*]/, pos = [], folded = "";
    for (var i = 0; i < sentence.length; i++) {
      if (!skip.test(sentence[i])) { pos.push(i); folded += sentence[i]; }
    }
    var q = exact.replace(/[\s#*]/g, "");
    var at = q ? folded.indexOf(q) : -1;
    return at < 0 ? null : [pos[at], pos[at + q.length - 1] + 1];
  }
  function evidence(sentence, exact) {
    var box = el("div", null, "ifkg-evidence");
    var span = exact ? locate(sentence, exact) : null;
    if (!span) {
      box.textContent = sentence;
    } else {
      box.appendChild(document.createTextNode(sentence.slice(0, span[0])));
      box.appendChild(el("mark", sentence.slice(span[0], span[1])));
      box.appendChild(document.createTextNode(sentence.slice(span[1])));
    }
    return box;
  }
  function figureText(f) {
    return pick(f.i, f.ie) + ": " + f.r + (f.w ? " (" + f.w + ")" : "");
  }
  function edgeText(e, from) {
    var label = pick(e.lz, e.le);
    if (from === undefined) {
      return nodeName(nodeById.get(e.from)) + " \u2014" + label + "\u2192 " +
        nodeName(nodeById.get(e.to));
    }
    return e.from === from ? "\u2014" + label + "\u2192 " + nodeName(nodeById.get(e.to))
      : "\u2190" + label + "\u2014 " + nodeName(nodeById.get(e.from));
  }
  function kindText(e) {
    return e.ks.map(function (k) {
      var kk = kindByKey.get(k);
      return kk ? pick(kk.zh, kk.en) : k;
    }).join(", ");
  }
  function nodeInfo(n, full) {
    var box = el("div");
    box.appendChild(el("div", nodeName(n), "ifkg-name"));
    box.appendChild(el("div", otherName(n) + " \u00B7 " + n.ident, "ifkg-sub"));
    box.appendChild(el("div", t("cls") + ": " + n.cls.map(classLabel).join(", ")));
    if (n.money) { box.appendChild(el("div", t("money_sum") + ": " + n.money)); }
    var figs = full ? n.fig : n.fig.slice(0, 3);
    if (figs.length) {
      box.appendChild(el("h3", t("figures")));
      var ul = el("ul");
      figs.forEach(function (f) {
        var li = el("li", figureText(f));
        if (full && f.s) { li.appendChild(evidence(f.s, f.q)); }
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    var rel = incident.get(n.id);
    if (full && rel.length) {
      box.appendChild(el("h3", t("relations")));
      var ul2 = el("ul");
      rel.forEach(function (e) {
        var li = el("li", edgeText(e, n.id));
        if (e.s) { li.appendChild(evidence(e.s, e.q)); }
        ul2.appendChild(li);
      });
      box.appendChild(ul2);
    }
    if (!full) {
      var first = n.fig.find(function (f) { return f.s; });
      var firstEdge = rel.find(function (e) { return e.s; });
      if (first) { box.appendChild(evidence(first.s, first.q)); }
      else if (firstEdge) {
        box.appendChild(el("div", edgeText(firstEdge, n.id)));
        box.appendChild(evidence(firstEdge.s, firstEdge.q));
      }
    }
    return box;
  }
  function edgeInfo(e) {
    var box = el("div");
    box.appendChild(el("div", pick(e.lz, e.le), "ifkg-name"));
    box.appendChild(el("div", edgeText(e), "ifkg-sub"));
    if (e.ks.length) { box.appendChild(el("div", t("kind") + ": " + kindText(e))); }
    if (e.d) { box.appendChild(el("div", t("date") + ": " + e.d)); }
    if (e.s) {
      box.appendChild(el("h3", t("evidence")));
      box.appendChild(evidence(e.s, e.q));
    }
    return box;
  }
  function showInfo() {
    var info = $("ifkg-info");
    info.replaceChildren();
    if (selected && selected.type === "node" && nodeById.has(selected.id)) {
      info.appendChild(nodeInfo(nodeById.get(selected.id), true));
    } else if (selected && selected.type === "edge" && edgeById.has(selected.id)) {
      info.appendChild(edgeInfo(edgeById.get(selected.id)));
    } else {
      info.appendChild(el("p", t("hint"), "ifkg-hint"));
    }
  }
  var tip = $("ifkg-tip");
  function showTip(content, pointer) {
    tip.replaceChildren(content);
    tip.hidden = false;
    var w = container.clientWidth, h = container.clientHeight;
    var x = Math.min(pointer.x + 14, Math.max(0, w - tip.offsetWidth - 4));
    var y = pointer.y + 14;
    if (y + tip.offsetHeight > h) { y = Math.max(0, pointer.y - tip.offsetHeight - 10); }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; tip.replaceChildren(); }

  network.on("hoverNode", function (p) {
    showTip(nodeInfo(nodeById.get(p.node), false), p.pointer.DOM);
  });
  network.on("hoverEdge", function (p) {
    showTip(edgeInfo(edgeById.get(p.edge)), p.pointer.DOM);
  });
  network.on("blurNode", hideTip);
  network.on("blurEdge", hideTip);
  network.on("dragStart", hideTip);
  network.on("zoom", hideTip);
  network.on("click", function (p) {
    if (p.nodes.length) { selected = {type: "node", id: p.nodes[0]}; }
    else if (p.edges.length) { selected = {type: "edge", id: p.edges[0]}; }
    else { selected = null; }
    showInfo();
  });

  /* ---- legend with class filter, edge kinds with kind filter ---- */
  function refreshVisibility() {
    nodes.update(data.nodes.map(function (n) { return {id: n.id, hidden: hiddenCats.has(n.group)}; }));
    edges.update(data.edges.map(function (e) { return {id: e.id, hidden: edgeHidden(e)}; }));
  }
  function legendRow(text, count, swatch, checked, onToggle) {
    var li = el("li"), label = el("label"), box = el("input");
    box.type = "checkbox";
    box.checked = checked;
    box.addEventListener("change", function () { onToggle(box.checked); });
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(el("span", text));
    if (count !== null) { label.appendChild(el("span", String(count), "ifkg-count")); }
    li.appendChild(label);
    return li;
  }
  function renderLegend() {
    var ul = $("ifkg-legend");
    ul.replaceChildren();
    data.legend.forEach(function (r) {
      var glyph;
      if (r.shape === "ellipse") {  // no font has a dependable ellipse glyph: draw it
        glyph = el("span", null, "ifkg-glyph");
        var oval = el("span", null, "ifkg-oval");
        oval.style.backgroundColor = r.colour;
        glyph.appendChild(oval);
      } else {
        glyph = el("span", SHAPE_GLYPH[r.shape] || "\u25CF", "ifkg-glyph");
        glyph.style.color = r.colour;
      }
      ul.appendChild(legendRow(pick(r.zh, r.en), r.count, glyph, !hiddenCats.has(r.key),
        function (on) {
          if (on) { hiddenCats.delete(r.key); } else { hiddenCats.add(r.key); }
          refreshVisibility();
        }));
    });
    var ku = $("ifkg-kinds");
    ku.replaceChildren();
    data.kinds.forEach(function (k) {
      var line = el("span", null, "ifkg-line");
      line.style.borderTopColor = k.colour;
      var n = data.edges.filter(function (e) { return e.k === k.key; }).length;
      ku.appendChild(legendRow(pick(k.zh, k.en), n, line, !hiddenKinds.has(k.key),
        function (on) {
          if (on) { hiddenKinds.delete(k.key); } else { hiddenKinds.add(k.key); }
          refreshVisibility();
        }));
    });
  }

  /* ---- search ---- */
  var names = $("ifkg-names");
  var seenNames = new Set();
  data.nodes.forEach(function (n) {
    [n.zh, n.en].concat(n.aliases).forEach(function (s) {
      if (s && !seenNames.has(s)) {
        seenNames.add(s);
        var o = document.createElement("option");
        o.value = s;
        names.appendChild(o);
      }
    });
  });
  function findNode(query) {
    var q = query.trim().toLowerCase();
    if (!q) { return null; }
    var best = null, bestScore = Infinity;
    data.nodes.forEach(function (n) {
      var keys = [n.zh, n.en, n.ident].concat(n.aliases);
      keys.forEach(function (k) {
        var s = String(k).toLowerCase(), score;
        if (s === q) { score = 0; }
        else if (s.indexOf(q) >= 0) { score = 1 + s.length; }
        else { return; }
        if (score < bestScore) { best = n; bestScore = score; }
      });
    });
    return best;
  }
  function focusNode(n) {
    if (hiddenCats.has(n.group)) {
      hiddenCats.delete(n.group);
      refreshVisibility();
      renderLegend();
    }
    network.selectNodes([n.id]);
    network.focus(n.id, {scale: Math.max(network.getScale(), 1.2), animation: false});
    capLabels(false);
    selected = {type: "node", id: n.id};
    showInfo();
  }
  $("ifkg-search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var n = findNode($("ifkg-search").value);
    $("ifkg-search-status").textContent = n ? "" : t("notFound");
    if (n) { focusNode(n); }
  });

  /* ---- language, size, fit ---- */
  function renderText() {
    document.documentElement.lang = lang;
    $("ifkg-search").placeholder = t("search");
    $("ifkg-search-go").textContent = t("go");
    $("ifkg-lang-label").textContent = t("lang");
    $("ifkg-size-label").textContent = t("size");
    $("ifkg-size").options[0].textContent = t("degree");
    $("ifkg-size").options[1].textContent = t("money");
    $("ifkg-fit").textContent = t("fit");
    $("ifkg-legend-title").textContent = t("legend");
    $("ifkg-kinds-title").textContent = t("kinds");
    $("ifkg-info-title").textContent = t("info");
    $("ifkg-counts").textContent = data.nodes.length + " " + t("nodes") + " \u00B7 " +
      data.edges.length + " " + t("edges");
    $("ifkg-search-status").textContent = "";
  }
  $("ifkg-lang").value = lang;
  $("ifkg-lang").addEventListener("change", function () {
    lang = this.value === "en" ? "en" : "zh";
    nodes.update(data.nodes.map(function (n) { return {id: n.id, label: nodeName(n)}; }));
    if (data.edgeLabels) {
      edges.update(data.edges.map(function (e) { return {id: e.id, label: pick(e.lz, e.le)}; }));
    }
    hideTip();
    renderText();
    renderLegend();
    showInfo();
  });
  var sizeSel = $("ifkg-size");
  sizeSel.value = sizeBy;
  if (!data.nodes.some(function (n) { return n.money; })) { sizeSel.options[1].disabled = true; }
  sizeSel.addEventListener("change", function () {
    sizeBy = this.value === "money" ? "money" : "degree";
    nodes.update(data.nodes.map(function (n) {
      var v = n.vs[sizeBy];
      return {id: n.id, size: v[0], widthConstraint: {maximum: v[2]}};
    }));
    capLabels(true);
  });
  $("ifkg-fit").addEventListener("click", function () {
    network.fit({animation: false});
    capLabels(false);
  });

  renderText();
  renderLegend();
  var first = data.nodes.find(function (n) { return n.hl; });
  if (first) {
    network.selectNodes([first.id]);
    selected = {type: "node", id: first.id};
  }
  showInfo();
}());
