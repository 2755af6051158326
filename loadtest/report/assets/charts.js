// Charts of a signpost load test result (uPlot). Used by the HTML report
// and the `signpost loadtest serve` page. result is the JSON result.
"use strict";
var signpostCharts = (function () {
  var colors = { "dns-udp": "#1f77b4", "dns-tcp": "#17becf", "http": "#2ca02c", "https": "#9467bd",
    total: "#222", wrong: "#d62728", errors: "#ff7f0e", timeouts: "#8c564b", expectedMisses: "#7f7f7f",
    p50: "#2ca02c", p99: "#ff7f0e", p999: "#d62728" };
  function width(el) { return Math.max(320, Math.min(el.clientWidth || 900, 1100)); }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function throughput(el, r) {
    var tl = r.timeline || [];
    var protos = (r.protocols || []).map(function (p) { return p.protocol; });
    var data = [tl.map(function (p) { return p.t; }), tl.map(function (p) { return p.rate; })];
    var series = [{ label: "s" }, { label: "completed/s", stroke: colors.total, width: 2 }];
    protos.forEach(function (name) {
      data.push(tl.map(function (p) { return (p.byProtocol || {})[name] || 0; }));
      series.push({ label: name + "/s", stroke: colors[name] || "#888" });
    });
    ["wrong", "errors", "timeouts", "expectedMisses"].forEach(function (k) {
      data.push(tl.map(function (p) { return p[k] || 0; }));
      series.push({ label: k === "expectedMisses" ? "expected misses" : k, stroke: colors[k], dash: [4, 4] });
    });
    return new uPlot({ title: "Throughput (requests per second)", width: width(el), height: 280,
      scales: { x: { time: false } }, axes: [{ label: "seconds" }, { label: "requests/s", size: 70 }],
      series: series }, data, el);
  }

  function latencyOverTime(el, r) {
    var tl = r.timeline || [];
    var data = [tl.map(function (p) { return p.t; }),
      tl.map(function (p) { return p.latency.p50; }),
      tl.map(function (p) { return p.latency.p99; }),
      tl.map(function (p) { return p.latency.p999; })];
    return new uPlot({ title: "Latency per second (ms)", width: width(el), height: 240,
      scales: { x: { time: false } }, axes: [{ label: "seconds" }, { label: "ms", size: 60 }],
      series: [{ label: "s" }, { label: "p50", stroke: colors.p50 }, { label: "p99", stroke: colors.p99 },
        { label: "p99.9", stroke: colors.p999 }] }, data, el);
  }

  // The HDR percentile plot: x is 1/(1-percentile/100) on a log scale.
  function distribution(el, r) {
    var rows = [r.total].concat(r.protocols || []).filter(function (s) { return s.spectrum && s.spectrum.length; });
    if (!rows.length) return null;
    var xs = rows[0].spectrum.filter(function (q) { return q.percentile < 100; })
      .map(function (q) { return 1 / (1 - q.percentile / 100); });
    var data = [xs];
    var series = [{ label: "percentile", value: function (u, v) { return v == null ? "" : (100 - 100 / v).toFixed(3) + "%"; } }];
    rows.forEach(function (s) {
      data.push(s.spectrum.filter(function (q) { return q.percentile < 100; }).map(function (q) { return q.ms; }));
      series.push({ label: s.protocol + " ms", stroke: colors[s.protocol] || colors.total, width: s.protocol === "total" ? 2 : 1 });
    });
    return new uPlot({ title: "Latency distribution (HDR percentiles, ms)", width: width(el), height: 280,
      scales: { x: { time: false, distr: 3 } },
      axes: [{ label: "percentile",
        splits: function (u) { var mx = u.scales.x.max; return [1, 2, 10, 100, 1000, 10000, 100000].filter(function (v) { return v <= mx * 1.0001; }); },
        values: function (u, vals) { return vals.map(function (v) { return ({ 1: "0%", 2: "50%", 10: "90%", 100: "99%", 1000: "99.9%", 10000: "99.99%", 100000: "99.999%" })[v] || ""; }); } },
        { label: "ms", size: 60 }],
      series: series }, data, el);
  }

  function draw(root, r) {
    var ids = ["throughput", "latency", "distribution"];
    var fns = [throughput, latencyOverTime, distribution];
    ids.forEach(function (id, i) {
      var el = root.querySelector("." + id + "-chart");
      if (!el) return;
      clear(el);
      if ((r.timeline || []).length || id === "distribution") fns[i](el, r);
    });
  }
  return { draw: draw };
})();
