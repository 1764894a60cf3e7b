"""The page's inline stylesheet and script (no network: nothing is fetched, ever)."""

from __future__ import annotations

__all__ = ["CSS", "DEFS", "SCRIPT"]

CSS = """
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #656d76; --line: #d0d7de;
        --bg-fail: #ffebe9; --bg-pass: #dafbe1; --bg-skip: #f6f8fa; --env: #ddf4ff; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1f2328; background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 0 24px 48px; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
a { color: #0969da; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.banner { padding: 14px 24px; border-bottom: 1px solid var(--line); }
.banner.fail { background: var(--bg-fail); } .banner.pass { background: var(--bg-pass); }
.banner h1 { font-size: 22px; margin: 0 0 4px; }
.banner.fail h1 { color: #a40e26; } .banner.pass h1 { color: #116329; }
.banner p { margin: 2px 0; color: #32383f; }
.badge { display: inline-block; min-width: 44px; text-align: center; font-weight: 700;
         font-size: 12px; padding: 1px 6px; border-radius: 10px; color: #fff; }
.badge.fail { background: var(--bad); } .badge.pass { background: var(--ok); }
.badge.skip, .badge.not-run { background: #8c959f; }
#rules table { border-collapse: collapse; width: 100%; }
#rules table th, #rules table td { border-bottom: 1px solid var(--line); padding: 5px 8px;
       text-align: left; vertical-align: top; }
#rules table th { font-size: 12px; color: var(--muted); text-transform: uppercase; }
#rules table tr.fail td { background: var(--bg-fail); }
#rules table tr.skip td { color: var(--muted); }
#rules table td.id { white-space: nowrap; font-weight: 600; }
#rules table td.id small { display: block; font-weight: 400; color: var(--muted); max-width: 300px;
       white-space: normal; }
.links a { white-space: nowrap; margin-right: 6px; }
.why { border: 2px solid var(--bad); border-radius: 8px; padding: 10px 14px; margin: 12px 0 18px; }
.why h3 { margin-top: 2px; }
.why .must { margin: 2px 0 6px; }
.why .what { font-size: 15px; margin: 6px 0 8px; padding: 6px 10px; background: var(--bg-fail);
       border-radius: 6px; }
pre.evidence { white-space: pre-wrap; font-size: 12px; background: #f6f8fa; padding: 8px;
       border-radius: 6px; margin: 6px 0; max-height: 340px; overflow: auto; }
details.evidence > summary { cursor: pointer; color: var(--muted); }
.filters { position: sticky; top: 0; z-index: 2; background: #fff; padding: 8px 0;
       border-bottom: 1px solid var(--line); display: none; gap: 10px; align-items: center;
       flex-wrap: wrap; }
html.js .filters { display: flex; }
.filters input[type=search] { width: 280px; padding: 4px 8px; }
.filters .count { color: var(--muted); margin-left: auto; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 12px; color: var(--muted);
       margin: 8px 0; align-items: center; }
.legend svg { vertical-align: middle; }
.op-group > h3 { margin-top: 20px; }
.op-group > h3 small { color: var(--muted); font-weight: 400; }
details.run { border: 1px solid var(--line); border-radius: 6px; margin: 4px 0; }
details.run > summary { cursor: pointer; padding: 4px 8px; list-style-position: inside; }
details.run.fail { border-color: var(--bad); }
details.run.fail > summary { background: var(--bg-fail); }
details.run.target { outline: 3px solid #0969da; }
details.run > summary .blame { color: var(--bad); font-weight: 600; }
details.run > summary .meta { color: var(--muted); }
.run-body { padding: 6px 12px 10px; }
.run-body p { margin: 4px 0; }
.run-body ul { margin: 2px 0 6px; padding-left: 20px; }
.muted { color: var(--muted); }
svg.timeline { width: 100%; height: auto; display: block; margin: 6px 0; }
svg.timeline text { font-size: 11px; fill: #1f2328; }
svg.timeline .lane-title { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; }
svg.timeline .stripe { fill: #fff; } svg.timeline .stripe.odd { fill: #f6f8fa; }
svg.timeline .grid { stroke: #eaeef2; }
svg.timeline .axis { stroke: #8c959f; }
svg.timeline .tick, svg.timeline .axis-title { fill: var(--muted); font-size: 10.5px; }
svg.timeline .tick { text-anchor: middle; }
svg.timeline .env { fill: var(--env); }
svg.timeline .ra { fill: url(#vx-hatch); stroke: #cf222e; stroke-opacity: .5; }
svg.timeline .wait { stroke: #8c959f; stroke-dasharray: 3 3; fill: none; }
svg.timeline .busy { fill: #afb8c1; } svg.timeline .busy.open { fill: #d0d7de; }
svg.timeline .m.ok { fill: var(--ok); } svg.timeline .m.c4xx { fill: #bf8700; }
svg.timeline .m.s5xx { fill: var(--bad); }
svg.timeline .m.open { fill: #fff; stroke: #6e7781; stroke-width: 2; }
svg.timeline .m.sent { fill: #6e7781; }
svg.timeline path.m.cut { stroke: var(--bad); stroke-width: 2.6; fill: none; }
svg.timeline .hl { fill: none; stroke: var(--bad); stroke-width: 2; }
svg.timeline .budget { stroke: #8250df; stroke-width: 2; stroke-dasharray: 2 2; }
svg.timeline .fx rect { fill: #8250df; } svg.timeline .fx.bad rect { fill: var(--bad); }
svg.timeline .lf { fill: #a40e26; font-weight: 600; }
svg.timeline .lf.hook { fill: #6639ba; }
svg.timeline .lo { fill: #424a53; } svg.timeline .lo.s5xx, svg.timeline .lo.cut { fill: #a40e26; }
svg.timeline .lw { fill: var(--muted); font-style: italic; }
svg.timeline .lw.bad, svg.timeline .lx.bad { fill: var(--bad); font-weight: 700;
     font-style: normal; }
svg.timeline .lx { fill: #6639ba; }
svg.timeline .bar { fill: #57606a; } svg.timeline .bar.bad { fill: var(--bad); }
svg.timeline .bar-label { font-size: 10px; text-anchor: middle; fill: #424a53; }
svg.timeline .bar-label.bad { fill: var(--bad); font-weight: 700; }
svg.timeline .chart-title { fill: var(--muted); font-size: 10.5px; }
svg.timeline .waits .tick { text-anchor: middle; }
footer { color: var(--muted); font-size: 12px; margin-top: 30px; }
@media print { .filters { display: none !important; } details.run { break-inside: avoid; } }
"""

#: Shared SVG definitions (the hatch of Retry-After windows), referenced by every timeline.
DEFS = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true">'
    '<defs><pattern id="vx-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffebe9"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#cf222e" stroke-opacity=".45" '
    'stroke-width="2"/></pattern></defs></svg>'
)

SCRIPT = """
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var runs = Array.prototype.slice.call(document.querySelectorAll("details.run"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".op-group"));
  var search = document.getElementById("vx-q");
  var profile = document.getElementById("vx-profile");
  var count = document.getElementById("vx-count");
  function status() {
    var checked = document.querySelector("input[name=vx-status]:checked");
    return checked ? checked.value : "all";
  }
  function apply() {
    var text = search ? search.value.trim().toLowerCase() : "";
    var want = status();
    var prof = profile ? profile.value : "";
    var shown = 0;
    runs.forEach(function (run) {
      var ok = (want === "all" || run.dataset.status === want) &&
               (!prof || run.dataset.profile === prof) &&
               (!text || run.dataset.text.indexOf(text) >= 0);
      run.hidden = !ok;
      if (ok) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector("details.run:not([hidden])");
    });
    if (count) { count.textContent = shown + " of " + runs.length + " runs shown"; }
  }
  function reset() {
    if (search) { search.value = ""; }
    if (profile) { profile.value = ""; }
    var all = document.querySelector("input[name=vx-status][value=all]");
    if (all) { all.checked = true; }
    apply();
  }
  function reveal(id) {
    var target = id ? document.getElementById(id) : null;
    if (!target) { return; }
    var run = target.closest ? target.closest("details.run") : null;
    if (run) {
      if (run.hidden) { reset(); }
      run.open = true;
      runs.forEach(function (r) { r.classList.remove("target"); });
      run.classList.add("target");
    }
    target.scrollIntoView({block: "start"});
  }
  [search, profile].forEach(function (el) { if (el) { el.addEventListener("input", apply); } });
  Array.prototype.forEach.call(document.querySelectorAll("input[name=vx-status]"), function (el) {
    el.addEventListener("change", apply);
  });
  function setAll(open) {
    runs.forEach(function (run) { if (!run.hidden) { run.open = open; } });
  }
  var expand = document.getElementById("vx-expand");
  var collapse = document.getElementById("vx-collapse");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }
  window.addEventListener("hashchange", function () {
    reveal(decodeURIComponent(location.hash.slice(1)));
  });
  apply();
  if (location.hash) { reveal(decodeURIComponent(location.hash.slice(1))); }
})();
"""
