/* 实事项目 charts, drawn with ECharts from the page's JSON block ("dash-data"). Without
   ECharts the charts stay hidden and the tables, which hold the same figures, are the page.
   Tooltips render on the canvas (richText): ECharts' HTML tooltips carry style attributes,
   which the CSP refuses. */
(function () {
  "use strict";

  var STATUS_COLORS = {
    normal: "#1a7f37", behind: "#bf8700", overdue: "#cf222e",
    pending_acceptance: "#0b57d0", closed: "#8c959f"
  };
  var STEP_COLORS = {
    remind: "#8c959f", urge: "#bf8700", written: "#e16f24",
    time_limit: "#cf222e", interview: "#a40e26", notice: "#5a0a16"
  };

  function horizontal(labels, series, max) {
    return {
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { show: series.length > 1, top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: max },
      yAxis: { type: "category", data: labels, inverse: true, axisLabel: { interval: 0, width: 96, overflow: "truncate" } },
      series: series
    };
  }

  function stacked(items, colors) {
    return items.map(function (s) {
      return { name: s.name, type: "bar", stack: "all", data: s.data, itemStyle: { color: colors[s.key] } };
    });
  }

  function option(kind, data) {
    if (kind === "rates") {
      return horizontal(data.rates.labels, [{ name: data.names.rate, type: "bar", data: data.rates.values, itemStyle: { color: "#1a7f37" } }], 100);
    }
    if (kind === "status") {
      return {
        tooltip: { trigger: "item", renderMode: "richText" },
        legend: { bottom: 0, type: "scroll" },
        series: [{
          type: "pie", radius: ["40%", "70%"], center: ["50%", "45%"],
          data: data.status.map(function (s) { return { name: s.name, value: s.value, itemStyle: { color: STATUS_COLORS[s.key] } }; })
        }]
      };
    }
    if (kind === "category") {
      return horizontal(data.category.labels, stacked(data.category.series, STATUS_COLORS));
    }
    return horizontal(data.escalations.labels, stacked(data.escalations.series, STEP_COLORS));
  }

  function init() {
    var holder = document.getElementById("dash-charts");
    var source = document.getElementById("dash-data");
    if (!holder || !source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    holder.hidden = false;
    var charts = [];
    holder.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      var rows = kind === "status" ? 0 : (data[kind] && data[kind].labels ? data[kind].labels.length : 0);
      // One bar per unit or category, each readable: the chart grows with them.
      if (rows > 10) { el.style.height = (rows * 24 + 80) + "px"; }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(kind, data));
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
