/* A report's chart: the first table of periods (the JSON island #report-series), its numeric columns as lines,
   drawn with uPlot. Without JavaScript (or uPlot) the figure stays hidden and the tables below say it all. */
(function () {
  "use strict";
  var COLOURS = ["#2454c5", "#d9822b", "#107c41", "#a4262c", "#5c2d91", "#008575", "#986f0b", "#69797e"];
  function draw() {
    var island = document.getElementById("report-series");
    var figure = document.getElementById("report-chart");
    if (!island || !figure || typeof window.uPlot !== "function") return;
    var chart = JSON.parse(island.textContent);
    var data = [chart.x];
    var series = [{}];
    chart.series.forEach(function (s, i) {
      data.push(s.values);
      series.push({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2 });
    });
    figure.hidden = false;
    var plot = figure.querySelector(".plot");
    var width = Math.max(280, plot.clientWidth || 640);
    // x values are UTC midnights of the program's days: draw them as UTC, not in the browser's zone.
    new window.uPlot({ width: width, height: 260, series: series, tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); } }, data, plot);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
