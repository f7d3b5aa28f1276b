// A status page's day bars: one keyboard stop per component rather than one per day (50
// components of 90 days would be 4,500 tab stops). Tab reaches a component's bars, the
// arrow keys, Home and End move along its days, and the focused or hovered day's figures are
// written under the bars (an SVG title shows on hover only). Re-applied after live.js swaps
// the page's live part in.
(function () {
  "use strict";

  function say(bars, day) {
    var legend = bars.parentNode.querySelector(".day-focused");
    var title = day && day.querySelector("title");
    if (legend) { legend.textContent = title ? title.textContent : ""; }
  }

  function wire(bars) {
    if (bars.getAttribute("data-wired")) { return; }
    bars.setAttribute("data-wired", "1");
    var days = Array.prototype.slice.call(bars.querySelectorAll("g[tabindex]"));
    if (!days.length) { return; }
    bars.addEventListener("keydown", function (event) {
      var at = days.indexOf(document.activeElement);
      if (at < 0) { return; }
      var to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: days.length - 1 }[event.key];
      if (to === undefined || to < 0 || to >= days.length) { return; }
      event.preventDefault();
      days[at].setAttribute("tabindex", "-1");
      days[to].setAttribute("tabindex", "0");
      days[to].focus();
    });
    bars.addEventListener("focusin", function (event) { say(bars, event.target.closest("g")); });
    bars.addEventListener("mouseover", function (event) { say(bars, event.target.closest("g")); });
    bars.addEventListener("focusout", function () { say(bars, null); });
    bars.addEventListener("mouseleave", function () { say(bars, null); });
  }

  function wireAll() { Array.prototype.forEach.call(document.querySelectorAll("[data-days]"), wire); }
  wireAll();
  var live = document.getElementById("live");
  if (live) { new MutationObserver(wireAll).observe(live, { childList: true }); }
}());
