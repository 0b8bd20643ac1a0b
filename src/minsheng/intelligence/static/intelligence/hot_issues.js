/* Hot issues: a bar chart of group sizes from the page's JSON block ("hot-data"). Without
   ECharts the chart stays hidden; the list of groups below holds the same figures.
   Tooltips render on the canvas (richText): HTML tooltips carry style attributes, which the
   CSP refuses. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("hot-chart");
    var source = document.getElementById("hot-data");
    if (!section || !source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    section.hidden = false;
    var chart = window.echarts.init(section.querySelector("[data-chart]"));
    chart.setOption({
      tooltip: { trigger: "axis", renderMode: "richText" },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: data.labels, inverse: true, axisLabel: { interval: 0, width: 160, overflow: "truncate" } },
      series: [{ name: data.name, type: "bar", data: data.values, itemStyle: { color: "#cf222e" } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
