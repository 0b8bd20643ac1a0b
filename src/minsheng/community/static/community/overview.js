/* The overview's charts (ECharts from the page's JSON block). Without ECharts they stay
   hidden; the figures beside them carry the same numbers. Tooltips on the canvas
   (richText): HTML tooltips carry style attributes, which the CSP refuses. */
(function () {
  "use strict";
  function bars(name, labels, values, color) {
    return {
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 8, right: 8, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: name, type: "bar", data: values, itemStyle: { color: color } }]
    };
  }
  function option(kind, data) {
    var d = data[kind];
    if (!d) { return null; }
    if (kind === "relief") {
      return {
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { top: 0 },
        grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value" },
        series: [
          { name: d.names[0], type: "bar", data: d.money_in, itemStyle: { color: "#1a7f37" } },
          { name: d.names[1], type: "bar", data: d.money_out, itemStyle: { color: "#cf222e" } }
        ]
      };
    }
    if (kind === "centres") {
      return {
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { top: 0 },
        grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: d.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: d.series.map(function (s) {
          return { name: s.name, type: "bar", stack: "all", data: s.values };
        })
      };
    }
    return bars(d.name, d.labels, d.values, "#0b57d0");
  }
  function init() {
    var source = document.getElementById("community-data");
    if (!source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var opt = option(el.getAttribute("data-chart"), data);
      if (!opt) { return; }
      el.hidden = false;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(opt);
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
