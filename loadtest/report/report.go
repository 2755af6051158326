// Package report renders a load test result as one self-contained HTML
// page: summary tables, throughput over time, latency over time and the
// HDR latency distribution, drawn by a vendored copy of uPlot (see
// assets/VENDORED.md) inlined into the page, so it opens offline.
package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"time"

	"github.com/signpost-cdn/signpost/loadtest"
)

// Vendored chart library and the project's chart code.
var (
	//go:embed assets/uPlot.iife.min.js
	uplotJS string
	//go:embed assets/uPlot.min.css
	uplotCSS string
	//go:embed assets/charts.js
	chartsJS string
)

// UPlotVersion is the vendored uPlot release.
const UPlotVersion = "1.6.32"

// Scripts returns the JavaScript a page needs to draw result charts: uPlot
// followed by signpostCharts (signpostCharts.draw(rootElement, result)
// fills elements of class throughput-chart, latency-chart and
// distribution-chart under rootElement).
func Scripts() template.JS { return template.JS(uplotJS + "\n" + chartsJS) }

// Styles returns uPlot's style sheet.
func Styles() template.CSS { return template.CSS(uplotCSS) }

// Style is the page style shared by the report and the serve page.
const Style = `body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:1150px}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}.bad{color:#b00;font-weight:bold}.ok{color:#070}
.chart{margin:1em 0}code{background:#f6f6f6;padding:0 3px}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}`

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":     func(d loadtest.Duration) string { return time.Duration(d).Round(time.Millisecond).String() },
	"f3":      func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f0":      func(v float64) string { return fmt.Sprintf("%.0f", v) },
	"sorted":  sortedKeys[uint64],
	"sortedS": sortedKeys[string],
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>signpost load test {{.R.Started.Format "2006-01-02 15:04:05"}}</title>
<style>{{.Style}}</style><style>{{.UCSS}}</style></head>
<body>
<h1>signpost load test</h1>
<p id="config">{{with .R.Config}}{{if eq .Mode "open"}}Open loop at {{f0 .Rate}} requests/s{{else}}Closed loop, concurrency {{.Concurrency}}{{end}}, duration {{dur .Duration}}, timeout {{dur .Timeout}};
targets DNS <code>{{.DNS}}</code> HTTP <code>{{.HTTP}}</code> HTTPS <code>{{.HTTPS}}</code>{{end}}.
Started {{.R.Started.Format "2006-01-02 15:04:05 MST"}}, elapsed {{dur .R.Elapsed}}{{if .R.Interrupted}} <span class="bad">(interrupted: {{.R.Error}})</span>{{end}}.</p>
<p>CDN <b>{{.R.CDN.CDNName}}</b> from <code>{{.R.CDN.Dir}}</code>: {{.R.CDN.DeliveryServices}} delivery services, {{.R.CDN.Caches}} caches in {{.R.CDN.CacheGroups}} cache groups;
ECS {{if .R.CDN.ECSEnable}}enabled for all{{else}}honoured by {{.R.CDN.ECSServices}} of the exercised DNS services{{end}}.
Generator: {{.R.Environment.GoVersion}}, GOMAXPROCS {{.R.Environment.GOMAXPROCS}}, CPU time {{dur .R.Environment.GeneratorCPU}}.</p>
<h2>Results</h2>
<table id="summary"><tr><th class="l">protocol</th><th>sent</th><th>completed</th><th>rate/s</th><th>ok</th><th>wrong</th><th>errors</th><th>timeouts</th><th title="answers without a cache for which the snapshot selects no cache either">expected misses</th><th>mean ms</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>
{{range .Rows}}<tr class="row-{{.Protocol}}"><td class="l">{{.Protocol}}</td><td>{{.Sent}}</td><td>{{.Completed}}</td><td>{{f0 .Rate}}</td><td>{{.OK}}</td><td{{if .Wrong}} class="bad"{{end}}>{{.Wrong}}</td><td{{if .Errors}} class="bad"{{end}}>{{.Errors}}</td><td{{if .Timeouts}} class="bad"{{end}}>{{.Timeouts}}</td><td class="miss">{{.ExpectedMisses}}</td>
<td>{{f3 .Latency.Mean}}</td><td>{{f3 .Latency.P50}}</td><td>{{f3 .Latency.P90}}</td><td>{{f3 .Latency.P99}}</td><td>{{f3 .Latency.P999}}</td><td>{{f3 .Latency.Max}}</td></tr>
{{end}}</table>
{{with .R.Total.Reasons}}<h2>Wrong answers and errors by reason</h2><table>{{range $k := sorted .}}<tr><td class="l">{{$k}}</td><td>{{index $.R.Total.Reasons $k}}</td></tr>{{end}}</table>{{end}}
{{with .R.Total.MissReasons}}<h2 id="expected-misses">Expected misses by answer</h2><p>Answers without a cache (DNS NXDOMAIN or no address, HTTP 503 or a redirect to the bypass destination) for which the routing table built from the snapshot selects no cache for the same delivery service and client either: Traffic Router's specified MISS (for example a cache group whose <code>backupLocations.fallbackToClosest</code> is false and whose backups have no cache for the service). They are neither good answers nor errors.</p><table>{{range $k := sorted .}}<tr><td class="l">{{$k}}</td><td>{{index $.R.Total.MissReasons $k}}</td></tr>{{end}}</table>{{end}}
{{with .R.FirstErrors}}<h2>First error of each kind</h2><table>{{range $k := sortedS .}}<tr><td class="l">{{$k}}</td><td class="l">{{index $.R.FirstErrors $k}}</td></tr>{{end}}</table>{{end}}
<div id="charts"><div class="chart throughput-chart"></div><div class="chart latency-chart"></div><div class="chart distribution-chart"></div></div>
{{if .Samples}}<h2>Samples</h2><table><tr><th>at</th><th class="l">kind</th><th class="l">protocol</th><th class="l">delivery service</th><th class="l">client</th><th class="l">detail</th></tr>
{{range .Samples}}<tr><td>{{dur .At}}</td><td class="l">{{.Kind}}</td><td class="l">{{.Protocol}}</td><td class="l">{{.Service}}</td><td class="l">{{.Client}}</td><td class="l">{{.Detail}}</td></tr>{{end}}</table>{{end}}
<h2>Delivery services exercised</h2>{{range $p, $l := .R.CDN.Exercised}}<p><b>{{$p}}</b>: {{range $i, $x := $l}}{{if $i}}, {{end}}{{$x}}{{end}}</p>{{end}}
<p style="color:#777;font-size:.85em">Charts: uPlot {{.UVersion}} (MIT). Latency is recorded in HDR histograms{{if eq .R.Config.Mode "open"}}, measured from each request's scheduled send time (coordinated-omission correction){{end}}.</p>
<script id="result" type="application/json">{{.JSON}}</script>
<script>{{.JS}}</script>
<script>signpostCharts.draw(document.getElementById("charts"), JSON.parse(document.getElementById("result").textContent));</script>
</body></html>
`))

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Write writes the HTML report of r to w.
func Write(w io.Writer, r *loadtest.Result) error {
	js, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	rows := append(append([]loadtest.Summary(nil), r.Protocols...), r.Total)
	samples := append(append([]loadtest.Sample(nil), r.Wrong...), r.Errors...)
	return page.Execute(w, map[string]any{
		"R": r, "Rows": rows, "Samples": samples, "JSON": template.JS(js), "JS": Scripts(),
		"UCSS": Styles(), "Style": template.CSS(Style), "UVersion": UPlotVersion,
	})
}
