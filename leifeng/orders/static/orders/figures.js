// Charts of the order figures page (Apache ECharts, vendored). No inline script (CSP): the page passes its
// numbers with json_script as #orders-figures; the tables under the charts stay the accessible fallback.
(function () {
  var source = document.getElementById("orders-figures");
  if (!source || !window.echarts) { return; }
  var data = JSON.parse(source.textContent);
  var RED = "#c8161d", GOLD = "#e0a100", GREEN = "#1a7f37";
  var font = { fontFamily: getComputedStyle(document.body).fontFamily, fontSize: 12 };
  var charts = [];

  function short(label) { return label.length > 8 ? label.slice(0, 8) + "…" : label; }

  // Horizontal bars: long Chinese names fit on a phone; one row per category, first at the top.
  function bars(id, labels, series, opts) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.style.width = "100%";
    el.style.height = Math.max(180, labels.length * 28 * Math.max(1, series.length * 0.75) + 70) + "px";
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      textStyle: font,
      animation: false,
      grid: { left: 8, right: 40, top: series.length > 1 ? 56 : 10, bottom: 10, containLabel: true },
      legend: series.length > 1 ? { top: 0, data: series.map(function (s) { return s.name; }) } : undefined,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: opts.minInterval || 0, max: opts.max },
      yAxis: { type: "category", inverse: true, data: labels, axisLabel: { formatter: short } },
      series: series.map(function (s) {
        return {
          name: s.name, type: "bar", data: s.data, itemStyle: { color: s.color },
          label: { show: true, position: "right" }, barMaxWidth: 18,
        };
      }),
    });
    el.dataset.ready = "1";
    charts.push(chart);
  }

  bars("chart-status",
    data.statuses.map(function (s) { return s.label; }),
    [{ name: data.text.orders, data: data.statuses.map(function (s) { return s.value; }), color: RED }],
    { minInterval: 1 });
  bars("chart-times", data.rows,
    [{ name: data.text.accept, data: data.median_accept_h, color: GOLD },
     { name: data.text.complete, data: data.median_complete_h, color: RED }],
    {});
  bars("chart-satisfaction", data.rows,
    [{ name: data.text.satisfaction, data: data.satisfaction, color: GREEN }],
    { max: 5 });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
