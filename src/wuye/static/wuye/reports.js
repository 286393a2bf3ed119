// 经营看板: draws the charts from the JSON the page embeds (no extra request); a click on a bar, a
// point or a slice opens the households behind it, like the numbers in the tables.
(function () {
  const el = document.getElementById("dashboard-data");
  if (!el || !window.echarts) return;
  const data = JSON.parse(el.textContent);
  const charts = [];
  const money = (v) => (v == null ? "—" : Number(v).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  function make(id, option, onClick) {
    const node = document.getElementById(id);
    if (!node) return;
    const chart = echarts.init(node, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: false, textStyle: { fontFamily: "inherit" } }, option));
    if (onClick) chart.on("click", onClick);
    charts.push(chart);
  }
  // Rates in tooltips read as percentages (87.5%), amounts as yuan: each series says which it is.
  const pct = (v) => (v == null ? "—" : `${Number(v).toFixed(1)}%`);
  const yuan = (v) => (v == null ? "—" : `${money(v)} 元`);
  const narrow = (id) => { const n = document.getElementById(id); return n && n.clientWidth < 420; };
  const go = (url) => { if (url) window.location.href = url; };

  const t = data.trend;
  make("chart-trend", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 60, right: 70, top: 40, bottom: 30 },
    xAxis: { type: "category", data: t.months },
    yAxis: [
      { type: "value", name: "收缴率 %", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      { type: "value", name: "金额（元）", splitLine: { show: false } },
    ],
    series: [
      { name: "实收（本期+清欠）", type: "bar", yAxisIndex: 1, data: t.received, tooltip: { valueFormatter: yuan }, itemStyle: { color: "#9cc3f5" } },
      { name: "计划金额", type: "bar", yAxisIndex: 1, data: t.target, tooltip: { valueFormatter: yuan }, itemStyle: { color: "#e0e6ee" } },
      { name: "当期收缴率", type: "line", data: t.current, tooltip: { valueFormatter: pct }, smooth: false, symbolSize: 7, itemStyle: { color: "#1f6feb" } },
      { name: "综合收缴率", type: "line", data: t.overall, tooltip: { valueFormatter: pct }, symbolSize: 6, itemStyle: { color: "#2e7d32" } },
      { name: "目标收缴率", type: "line", data: t.target_rate, tooltip: { valueFormatter: pct }, symbol: "none", lineStyle: { type: "dashed", width: 2 }, itemStyle: { color: "#c62828" } },
    ],
  }, (p) => go(t.urls[p.dataIndex]));

  const a = data.aging;
  make("chart-aging", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: money },
    legend: { top: 0 },
    grid: { left: 64, right: 8, top: 36, bottom: narrow("chart-aging") ? 44 : 30 },
    xAxis: { type: "category", data: a.labels, axisLabel: { interval: 0, fontSize: 10, rotate: narrow("chart-aging") ? 30 : 0 } },
    yAxis: { type: "value", name: "元" },
    series: [
      { name: "已收楼", type: "bar", stack: "aging", data: a.handed, itemStyle: { color: "#1f6feb" } },
      { name: "未收楼（开发商）", type: "bar", stack: "aging", data: a.developer, itemStyle: { color: "#b26a00" } },
    ],
  }, (p) => go(a.urls[p.dataIndex] + (p.seriesIndex === 1 ? "&developer=1" : "&developer=0")));

  function pie(id, rows) {
    make(id, {
      tooltip: { trigger: "item", formatter: (p) => `${p.name}<br>${money(p.value)} 元（${p.percent}%）` },
      title: rows.length ? undefined : { text: "截至日没有在案的欠费户", left: "center", top: "middle", textStyle: { color: "#6b7785", fontSize: 13, fontWeight: "normal" } },
      series: [{ type: "pie", radius: ["35%", "65%"], data: rows, showEmptyCircle: false, label: { formatter: "{b}" } }],
    }, (p) => go(rows[p.dataIndex] && rows[p.dataIndex].url));
  }
  pie("chart-classes", data.classes);
  pie("chart-reasons", data.reasons);
  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  window.addEventListener("beforeprint", () => charts.forEach((c) => c.resize()));
  window.wuyeCharts = charts;
})();
