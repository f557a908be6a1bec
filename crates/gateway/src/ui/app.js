// Dashboard: tells which bar of the chart is hovered or focused (text in a live region).
document.addEventListener("DOMContentLoaded", function () {
  var detail = document.getElementById("graphique-detail");
  if (!detail) return;
  document.querySelectorAll("#graphique g.bar").forEach(function (bar) {
    var show = function () { detail.textContent = bar.getAttribute("aria-label"); };
    bar.addEventListener("mouseenter", show);
    bar.addEventListener("focus", show);
  });
});
