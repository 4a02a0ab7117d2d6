// otwatch console: the details pane, bulk selection, keyboard shortcuts
// and the map's pan and zoom. Every page works without it.
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // Filters: a change of a checkbox or select marked data-autosubmit
  // submits its form.
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.hasAttribute && t.hasAttribute("data-autosubmit") && t.form) {
      if (t.form.requestSubmit) { t.form.requestSubmit(); } else { t.form.submit(); }
    }
  });

  // Forms whose button asks for confirmation; filter forms leave out
  // their empty fields, so that their links stay short.
  document.addEventListener("submit", function (e) {
    var f = e.target, b = e.submitter;
    if (b && b.getAttribute("data-confirm") && !window.confirm(b.getAttribute("data-confirm"))) {
      e.preventDefault();
      return;
    }
    if ((f.getAttribute("method") || "get").toLowerCase() !== "get") { return; }
    var q = new URLSearchParams();
    new FormData(f).forEach(function (v, k) { if (typeof v === "string" && v.trim() !== "") { q.append(k, v); } });
    e.preventDefault();
    var s = q.toString();
    window.location.href = f.getAttribute("action") + (s ? "?" + s : "");
  });

  // Rows: selection, the details pane, bulk checkboxes.
  var pane = $("#pane");
  var current = null;
  var paneReq = 0;

  function rows() { return $$("tr.row"); }

  function select(tr, scroll) {
    if (current) { current.classList.remove("selected"); }
    current = tr;
    if (!tr) { return; }
    tr.classList.add("selected");
    if (scroll) { tr.scrollIntoView({ block: "nearest" }); }
  }

  function openPane(tr) {
    if (!pane || !tr || !tr.getAttribute("data-pane")) { return false; }
    select(tr, false);
    var n = ++paneReq;
    fetch(tr.getAttribute("data-pane"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        if (n !== paneReq) { return; }
        pane.innerHTML = html;
        pane.hidden = false;
      })
      .catch(function () {
        if (n !== paneReq) { return; }
        pane.textContent = "The details could not be loaded; open the alert's page instead.";
        pane.hidden = false;
      });
    return true;
  }

  function closePane() {
    if (pane && !pane.hidden) {
      pane.hidden = true;
      pane.innerHTML = "";
      if (current) { current.focus && current.focus(); }
      return true;
    }
    return false;
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest("[data-pane-close]")) { closePane(); return; }
    if (t.closest("[data-help]")) { toggleHelp(); return; }
    if (t.closest("[data-help-close]")) { toggleHelp(false); return; }
    var tr = t.closest("tr.row");
    if (!tr || t.closest("a,button,input,label,select,summary")) { return; }
    if (!openPane(tr) && tr.getAttribute("data-href")) {
      select(tr, false);
    }
  });

  // Bulk selection.
  var bulk = $("#bulk");
  function updateBulk() {
    if (!bulk) { return; }
    var n = $$("input[name=id]:checked", bulk).length;
    var opt = $("[data-selected-option]", bulk);
    if (opt) { opt.textContent = "the selected alerts (" + n + ")"; }
  }
  if (bulk) {
    bulk.addEventListener("change", function (e) {
      if (e.target.hasAttribute("data-select-all")) {
        $$("input[name=id]", bulk).forEach(function (c) { c.checked = e.target.checked; });
      }
      updateBulk();
    });
    updateBulk();
  }

  // Help.
  var help = $("#help");
  function toggleHelp(show) {
    if (!help) { return; }
    help.hidden = show === undefined ? !help.hidden : !show;
  }

  // Keyboard shortcuts.
  var pendingG = false;
  var goKeys = { a: "/alerts", d: "/devices", v: "/vulnerabilities", m: "/map", e: "/events", s: "/sites", l: "/audit" };
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.key === "Escape") {
      if (help && !help.hidden) { toggleHelp(false); e.preventDefault(); return; }
      if (closePane()) { e.preventDefault(); }
      if (typing(e)) { e.target.blur(); }
      return;
    }
    if (typing(e)) { return; }
    if (pendingG) {
      pendingG = false;
      if (goKeys[e.key]) { window.location.href = goKeys[e.key]; e.preventDefault(); }
      return;
    }
    var list = rows();
    var i = current ? list.indexOf(current) : -1;
    switch (e.key) {
      case "g": pendingG = true; setTimeout(function () { pendingG = false; }, 1500); return;
      case "?": toggleHelp(); break;
      case "/": var s = $("[data-search]"); if (s) { s.focus(); s.select && s.select(); } break;
      case "j": case "ArrowDown": if (list.length && !mapFocused()) { select(list[Math.min(i + 1, list.length - 1)], true); if (pane && !pane.hidden) { openPane(current); } } else { return; } break;
      case "k": case "ArrowUp": if (list.length && !mapFocused()) { select(list[Math.max(i - 1, 0)], true); if (pane && !pane.hidden) { openPane(current); } } else { return; } break;
      case "Enter": case "o":
        if (!current) { return; }
        if (!openPane(current) && current.getAttribute("data-href")) { window.location.href = current.getAttribute("data-href"); }
        break;
      case "v":
        var more = pane && !pane.hidden && $("[data-view-more]", pane);
        if (more) { window.location.href = more.getAttribute("href"); }
        else if (current && current.getAttribute("data-href")) { window.location.href = current.getAttribute("data-href"); }
        else { return; }
        break;
      case "x":
        var c = current && $("input[name=id]", current);
        if (!c) { return; }
        c.checked = !c.checked;
        updateBulk();
        break;
      default:
        if (mapKey(e)) { break; }
        return;
    }
    e.preventDefault();
  });

  // The device map: pan by dragging, zoom with the wheel, the buttons or
  // the keyboard, by changing the svg's viewBox.
  var mapBox = $("[data-map]");
  var svg = mapBox && $("svg", mapBox);
  var vb = null, full = null, start = null;
  function mapFocused() { return false; }
  function setVB(b) {
    vb = b;
    svg.setAttribute("viewBox", [b.x, b.y, b.w, b.h].map(function (n) { return Math.round(n); }).join(" "));
  }
  function zoom(f, cx, cy) {
    if (!vb) { return; }
    if (cx === undefined) { cx = vb.x + vb.w / 2; cy = vb.y + vb.h / 2; }
    var w = Math.min(Math.max(vb.w * f, 50), full.w * 4);
    var h = w * vb.h / vb.w;
    setVB({ x: cx - (cx - vb.x) * w / vb.w, y: cy - (cy - vb.y) * h / vb.h, w: w, h: h });
  }
  function pan(dx, dy) { if (vb) { setVB({ x: vb.x + dx * vb.w, y: vb.y + dy * vb.h, w: vb.w, h: vb.h }); } }
  function mapKey(e) {
    if (!vb) { return false; }
    switch (e.key) {
      case "+": case "=": zoom(0.8); return true;
      case "-": case "_": zoom(1.25); return true;
      case "0": setVB({ x: 0, y: 0, w: full.w, h: full.h }); return true;
      case "ArrowLeft": pan(-0.1, 0); return true;
      case "ArrowRight": pan(0.1, 0); return true;
      case "ArrowUp": pan(0, -0.1); return true;
      case "ArrowDown": pan(0, 0.1); return true;
    }
    return false;
  }
  if (svg) {
    var p = (svg.getAttribute("viewBox") || "0 0 100 100").split(/\s+/).map(Number);
    vb = { x: p[0], y: p[1], w: p[2], h: p[3] };
    full = { w: Number(svg.getAttribute("data-width")) || p[2], h: Number(svg.getAttribute("data-height")) || p[3] };
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    mapFocused = function () { return !$$("tr.row").length; };
    function toSVG(ev) {
      var r = svg.getBoundingClientRect();
      var s = Math.max(vb.w / r.width, vb.h / r.height);
      var ox = (r.width * s - vb.w) / 2, oy = (r.height * s - vb.h) / 2;
      return { x: vb.x - ox + (ev.clientX - r.left) * s, y: vb.y - oy + (ev.clientY - r.top) * s, s: s };
    }
    mapBox.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var pt = toSVG(ev);
      zoom(ev.deltaY < 0 ? 0.85 : 1 / 0.85, pt.x, pt.y);
    }, { passive: false });
    mapBox.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      start = { x: ev.clientX, y: ev.clientY, vb: vb, moved: false, id: ev.pointerId };
    });
    mapBox.addEventListener("pointermove", function (ev) {
      if (!start) { return; }
      var dx = ev.clientX - start.x, dy = ev.clientY - start.y;
      if (!start.moved && Math.abs(dx) + Math.abs(dy) < 4) { return; }
      if (!start.moved) { start.moved = true; mapBox.setPointerCapture(start.id); mapBox.classList.add("dragging"); }
      var s = toSVG(ev).s;
      setVB({ x: start.vb.x - dx * s, y: start.vb.y - dy * s, w: start.vb.w, h: start.vb.h });
    });
    var dragEnded = 0;
    function end() {
      if (start && start.moved) {
        mapBox.classList.remove("dragging");
        dragEnded = Date.now();
      }
      start = null;
    }
    // A drag is not a click on the device under the pointer.
    mapBox.addEventListener("click", function (ce) {
      if (Date.now() - dragEnded < 300) { ce.preventDefault(); ce.stopPropagation(); }
    }, true);
    mapBox.addEventListener("pointerup", end);
    mapBox.addEventListener("pointercancel", end);
    $$("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var z = b.getAttribute("data-zoom");
        if (z === "in") { zoom(0.8); } else if (z === "out") { zoom(1.25); } else { setVB({ x: 0, y: 0, w: full.w, h: full.h }); }
      });
    });
  }
})();
