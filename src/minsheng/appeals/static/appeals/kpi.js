/* The KPI dashboard's charts, drawn with ECharts from the page's JSON data block.
   Without ECharts (not installed, or blocked) the charts stay hidden and the tables,
   which hold the same figures, are the page. Tooltips render on the canvas (richText):
   ECharts' HTML tooltips carry style attributes, which the CSP refuses. */
(function () {
  "use strict";

  function barOption(labels, values, name, color) {
    return {
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { width: 96, overflow: "truncate" } },
      series: [{ name: name, type: "bar", data: values, itemStyle: { color: color } }]
    };
  }

  function init() {
    var holder = document.getElementById("kpi-charts");
    var source = document.getElementById("kpi-data");
    if (!holder || !source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    holder.hidden = false;
    var charts = [];
    holder.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var names = data.names;
      var option;
      if (kind === "trend") {
        option = {
          tooltip: { trigger: "axis", renderMode: "richText" },
          legend: { top: 0 },
          grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
          xAxis: { type: "category", data: data.trend.labels },
          yAxis: [{ type: "value" }, { type: "value", min: 0, max: 100 }],
          series: [
            { name: names.received, type: "bar", data: data.trend.received, itemStyle: { color: "#b3261e" } },
            { name: names.replied, type: "bar", data: data.trend.replied, itemStyle: { color: "#0b57d0" } },
            { name: names.satisfaction, type: "line", yAxisIndex: 1, data: data.trend.satisfaction, connectNulls: true, itemStyle: { color: "#1a7f37" } }
          ]
        };
      } else if (kind === "satisfaction") {
        option = barOption(data.departments.labels, data.departments.satisfaction, names.satisfaction, "#1a7f37");
        option.xAxis.max = 100;
      } else {
        option = barOption(data.departments.labels, data.departments.overdue, names.overdue, "#cf222e");
      }
      chart.setOption(option);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
