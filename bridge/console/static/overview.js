/* The Overview's charts: draws the 90-day series (the JSON island #overview-series) with uPlot.
   Without JavaScript (or uPlot) the figures stay hidden and the page shows the same days as a table. */
(function () {
  "use strict";
  function draw() {
    var island = document.getElementById("overview-series");
    if (!island || typeof window.uPlot !== "function") return;
    var data = JSON.parse(island.textContent);
    var names = island.dataset;
    var charts = {
      points: {
        data: [data.days, data.issued, data.redeemed],
        series: [{}, { label: names.issued, stroke: "#2454c5", width: 2 }, { label: names.redeemed, stroke: "#d9822b", width: 2 }]
      },
      members: {
        data: [data.days, data.joined],
        series: [{}, { label: names.joined, stroke: "#107c41", width: 2, fill: "rgba(16,124,65,.12)" }]
      }
    };
    var figures = document.querySelectorAll("figure.chart");
    figures.forEach(function (figure) { figure.hidden = false; }); // all shown first: the grid settles, then measure
    figures.forEach(function (figure) {
      var chart = charts[figure.dataset.chart];
      var plot = figure.querySelector(".plot");
      var width = Math.max(280, plot.clientWidth || 480);
      // The chart's x values are UTC midnights of the program's days: draw them as UTC, not the browser's zone.
      new window.uPlot({ width: width, height: 220, series: chart.series, tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); } }, chart.data, plot);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
