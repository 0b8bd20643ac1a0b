/* The 好差评 statistics charts (ECharts from the page's JSON block). Without ECharts the
   charts stay hidden; the table holds the same figures. Tooltips on the canvas (richText):
   HTML tooltips carry style attributes, which the CSP refuses. */
(function () {
  "use strict";
  function init() {
    var holder = document.getElementById("stat-charts");
    var source = document.getElementById("stat-data");
    if (!holder || !source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    holder.hidden = false;
    var charts = [];
    holder.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var option;
      if (el.getAttribute("data-chart") === "trend") {
        option = {
          tooltip: { trigger: "axis", renderMode: "richText" },
          legend: { top: 0 },
          grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
          xAxis: { type: "category", data: data.trend.labels },
          yAxis: [{ type: "value" }, { type: "value", min: 0, max: 100 }],
          series: [
            { name: data.names.events, type: "bar", data: data.trend.events, itemStyle: { color: "#0b57d0" } },
            { name: data.names.good, type: "line", yAxisIndex: 1, data: data.trend.good, itemStyle: { color: "#1a7f37" } },
            { name: data.names.bad, type: "line", yAxisIndex: 1, data: data.trend.bad, itemStyle: { color: "#cf222e" } }
          ]
        };
      } else {
        option = {
          tooltip: { trigger: "axis", renderMode: "richText" },
          grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
          xAxis: { type: "value", max: 100 },
          yAxis: { type: "category", data: data.groups.labels, inverse: true, axisLabel: { width: 110, overflow: "truncate" } },
          series: [{ name: data.names.good, type: "bar", data: data.groups.good, itemStyle: { color: "#1a7f37" } }]
        };
      }
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
