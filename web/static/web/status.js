// A status page's rows of days. Each row is one slider (one keyboard stop): the arrow keys,
// Home and End move along its days, and the pointer names the day under it. The day's
// figures are worded from the row's counts as the server words them (web/period_bars.py,
// period_text), written under the row and given as the slider's value text. Re-applied after
// live.js swaps the page's live part in.
(function () {
  "use strict";

  function percent(up, checks) {
    // Rounded down to 0.01%, as on the server: one failure in 30,000 checks is not 100.00%.
    if (up === checks) { return "100%"; }
    var hundredths = Math.floor(up * 10000 / checks);
    return Math.floor(hundredths / 100) + "." + String(hundredths % 100).padStart(2, "0") + "%";
  }

  function count(n, noun) { return n.toLocaleString("en-US") + " " + noun + (n === 1 ? "" : "s"); }

  function dayText(strip, index) {
    var counts = strip.counts[index];
    var day = new Date(strip.first.getTime() + index * 86400000).toISOString().slice(0, 10);
    var checks = counts[0], up = counts[1], maintenance = counts[2] || 0;
    var said = checks ? percent(up, checks) + " up, " + up.toLocaleString("en-US") + " of " + count(checks, "check")
                      : "no checks";
    if (maintenance) { said += " (" + maintenance.toLocaleString("en-US") + " more in maintenance, not counted)"; }
    return day + ": " + said;
  }

  function show(strip, index, moveValue) {
    var legend = strip.element.parentNode.querySelector(".day-focused");
    var mark = strip.element.querySelector(".day-mark");
    if (index === null) {
      if (legend) { legend.textContent = ""; }
      if (mark) { mark.setAttribute("visibility", "hidden"); }
      return;
    }
    var text = dayText(strip, index);
    if (legend) { legend.textContent = text; }
    if (mark) {
      mark.setAttribute("x", String(index * strip.pitch));
      mark.setAttribute("visibility", "visible");
    }
    if (moveValue) {
      strip.element.setAttribute("aria-valuenow", String(index));
      strip.element.setAttribute("aria-valuetext", text);
    }
  }

  function wire(element) {
    if (element.getAttribute("data-wired")) { return; }
    element.setAttribute("data-wired", "1");
    // "checks/up[/maintenance]" a day, a run of equal days as "text*days".
    var counts = [];
    element.getAttribute("data-counts").split(" ").forEach(function (run) {
      var parts = run.split("*"), day = parts[0].split("/").map(Number), times = Number(parts[1] || 1);
      for (var n = 0; n < times; n += 1) { counts.push(day); }
    });
    var svg = element.querySelector("svg");
    var strip = {
      element: element,
      counts: counts,
      first: new Date(element.getAttribute("data-first") + "T00:00:00Z"),
      pitch: Math.floor(svg.viewBox.baseVal.width / Math.max(counts.length, 1))
    };
    var at = counts.length - 1;
    element.addEventListener("keydown", function (event) {
      var to = { ArrowLeft: at - 1, ArrowDown: at - 1, ArrowRight: at + 1, ArrowUp: at + 1, Home: 0,
                 End: counts.length - 1 }[event.key];
      if (to === undefined) { return; }
      event.preventDefault();
      at = Math.max(0, Math.min(counts.length - 1, to));
      show(strip, at, true);
    });
    element.addEventListener("focus", function () { show(strip, at, false); });
    element.addEventListener("blur", function () { show(strip, null, false); });
    svg.addEventListener("mousemove", function (event) {
      var box = svg.getBoundingClientRect();
      var index = Math.floor((event.clientX - box.left) / box.width * counts.length);
      show(strip, Math.max(0, Math.min(counts.length - 1, index)), false);
    });
    svg.addEventListener("mouseleave", function () {
      show(strip, document.activeElement === element ? at : null, false);
    });
  }

  function wireAll() { Array.prototype.forEach.call(document.querySelectorAll(".day-bars[data-counts]"), wire); }
  wireAll();
  var live = document.getElementById("live");
  if (live) { new MutationObserver(wireAll).observe(live, { childList: true }); }
}());
