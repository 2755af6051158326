package loadtest

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is the outcome of a run, encoded as the JSON result.
type Result struct {
	Config  Config    `json:"config"`
	Started time.Time `json:"started"`
	Elapsed Duration  `json:"elapsed"`
	// Interrupted is set when the run was stopped before its duration.
	Interrupted bool `json:"interrupted"`
	// Error is why the run stopped early, if it did.
	Error       string      `json:"error,omitempty"`
	Environment Environment `json:"environment"`
	CDN         CDNInfo     `json:"cdn"`
	// Total sums every protocol.
	Total Summary `json:"total"`
	// Protocols has one summary per protocol that sent load.
	Protocols []Summary `json:"protocols"`
	// Timeline has one point per second.
	Timeline []Point `json:"timeline"`
	// Wrong and Errors are samples of bad answers.
	Wrong  []Sample `json:"wrongSamples"`
	Errors []Sample `json:"errorSamples"`
	// FirstErrors maps a reason to the first detail seen for it.
	FirstErrors map[string]string `json:"firstErrors,omitempty"`
}

// Environment describes the machine the generator ran on.
type Environment struct {
	GoVersion  string `json:"goVersion"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"numCPU"`
	Hostname   string `json:"hostname"`
	// GeneratorCPU is the generator process's CPU time during the run.
	GeneratorCPU Duration `json:"generatorCPU"`
}

// CDNInfo describes the CDN the answers were checked against.
type CDNInfo struct {
	Dir              string   `json:"dir"`
	CDNName          string   `json:"cdnName"`
	DeliveryServices int      `json:"deliveryServices"`
	Caches           int      `json:"caches"`
	CacheGroups      int      `json:"cacheGroups"`
	ECSEnable        bool     `json:"ecsEnable"`
	ClientsFile      bool     `json:"clientsFile"`
	BuildTime        Duration `json:"buildTime"`
	// Exercised lists the delivery services per protocol.
	Exercised map[string][]string `json:"exercised"`
	// ECSServices counts the exercised DNS services whose router honours ECS.
	ECSServices int `json:"ecsServices"`
}

// Summary is the figures of one protocol (or all).
type Summary struct {
	Protocol  string `json:"protocol"`
	Sent      uint64 `json:"sent"`
	Completed uint64 `json:"completed"`
	OK        uint64 `json:"ok"`
	Wrong     uint64 `json:"wrong"`
	Errors    uint64 `json:"errors"`
	Timeouts  uint64 `json:"timeouts"`
	// ExpectedMisses are answers without a cache (DNS NXDOMAIN or no
	// address, HTTP 503 or a redirect to the bypass destination) for which
	// the routing table built from the snapshot selects no cache either:
	// the router's specified MISS, neither good nor an error.
	ExpectedMisses uint64  `json:"expectedMisses"`
	Rate           float64 `json:"rate"` // completed per second
	// Latency in milliseconds.
	Latency Latency `json:"latency"`
	// Reasons counts wrong answers and errors by reason.
	Reasons map[string]uint64 `json:"reasons,omitempty"`
	// MissReasons counts expected misses by the answer given.
	MissReasons map[string]uint64 `json:"expectedMissReasons,omitempty"`
	// Spectrum is the latency distribution (percentile, ms) for the chart.
	Spectrum []Quantile `json:"spectrum"`
}

// Latency holds latency figures in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Quantile is one point of a latency distribution.
type Quantile struct {
	Percentile float64 `json:"percentile"`
	Ms         float64 `json:"ms"`
}

// Point is one second of a run.
type Point struct {
	// T is the end of the interval in seconds since the start.
	T        float64 `json:"t"`
	Sent     uint64  `json:"sent"`
	OK       uint64  `json:"ok"`
	Wrong    uint64  `json:"wrong"`
	Errors   uint64  `json:"errors"`
	Timeouts uint64  `json:"timeouts"`
	// ExpectedMisses counts answers without a cache that the routing
	// table agrees with (Summary.ExpectedMisses).
	ExpectedMisses uint64 `json:"expectedMisses"`
	// Rate is completed requests per second in the interval.
	Rate float64 `json:"rate"`
	// ByProtocol is the completed rate per protocol.
	ByProtocol map[string]float64 `json:"byProtocol"`
	Latency    Latency            `json:"latency"`
}

var spectrumPercentiles = []float64{0, 10, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99, 99.995, 99.999, 100}

func ms(us int64) float64 { return float64(us) / 1000 }

func latencyOf(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{Mean: h.Mean() / 1000, P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)),
		P99: ms(h.ValueAtQuantile(99)), P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max())}
}

func summarize(p string, c *counts, h *hdrhistogram.Histogram, secs float64) Summary {
	s := Summary{Protocol: p, Sent: c.sent, Completed: c.done(), OK: c.ok, Wrong: c.wrong, Errors: c.errors,
		Timeouts: c.timeouts, ExpectedMisses: c.misses, Latency: latencyOf(h)}
	if secs > 0 {
		s.Rate = float64(c.done()) / secs
	}
	for r, n := range c.reasons {
		if n > 0 {
			if s.Reasons == nil {
				s.Reasons = map[string]uint64{}
			}
			s.Reasons[reason(r).String()] = n
		}
		if m := c.missReasons[r]; m > 0 {
			if s.MissReasons == nil {
				s.MissReasons = map[string]uint64{}
			}
			s.MissReasons[reason(r).String()] = m
		}
	}
	if h.TotalCount() > 0 {
		for _, q := range spectrumPercentiles {
			v := h.ValueAtQuantile(q)
			if q == 100 {
				v = h.Max()
			}
			s.Spectrum = append(s.Spectrum, Quantile{Percentile: q, Ms: ms(v)})
		}
	}
	return s
}

// share formats n/of as a percentage.
func share(n, of uint64) string {
	if of == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.3g%%", 100*float64(n)/float64(of))
}

// WriteSummary writes the text summary of r.
func (r *Result) WriteSummary(w io.Writer) {
	c := r.Config
	load := fmt.Sprintf("closed loop, concurrency %d", c.Concurrency)
	if c.Mode == OpenLoop {
		load = fmt.Sprintf("open loop, %.0f requests/s", c.Rate)
	}
	fmt.Fprintf(w, "signpost loadtest: %s for %s (%s elapsed)", load, time.Duration(c.Duration), time.Duration(r.Elapsed).Round(time.Millisecond))
	if r.Interrupted {
		fmt.Fprint(w, " INTERRUPTED")
	}
	fmt.Fprintln(w)
	if r.Error != "" {
		fmt.Fprintf(w, "stopped: %s\n", r.Error)
	}
	fmt.Fprintf(w, "CDN %s (%s): %d delivery services, %d caches, %d cache groups; ECS %v (%d exercised DNS services honour it)\n",
		r.CDN.CDNName, r.CDN.Dir, r.CDN.DeliveryServices, r.CDN.Caches, r.CDN.CacheGroups, r.CDN.ECSEnable, r.CDN.ECSServices)
	fmt.Fprintf(w, "generator: GOMAXPROCS %d, %d CPUs, CPU time %s\n", r.Environment.GOMAXPROCS, r.Environment.NumCPU,
		time.Duration(r.Environment.GeneratorCPU).Round(time.Millisecond))
	fmt.Fprintf(w, "\n%-8s %10s %10s %12s %8s %8s %8s %8s %9s %9s %9s %9s\n", "protocol", "sent", "done", "rate/s", "wrong", "errors", "timeouts", "exp.miss", "p50 ms", "p99 ms", "p99.9 ms", "max ms")
	rows := append(append([]Summary(nil), r.Protocols...), r.Total)
	for _, s := range rows {
		fmt.Fprintf(w, "%-8s %10d %10d %12.0f %8d %8d %8d %8d %9.3f %9.3f %9.3f %9.3f\n", s.Protocol, s.Sent, s.Completed, s.Rate,
			s.Wrong, s.Errors, s.Timeouts, s.ExpectedMisses, s.Latency.P50, s.Latency.P99, s.Latency.P999, s.Latency.Max)
	}
	t := r.Total
	fmt.Fprintf(w, "\nok %s, expected misses %s, wrong %s, errors %s, timeouts %s of %d completed\n", share(t.OK, t.Completed),
		share(t.ExpectedMisses, t.Completed), share(t.Wrong, t.Completed), share(t.Errors, t.Completed), share(t.Timeouts, t.Completed), t.Completed)
	if len(t.Reasons) > 0 {
		keys := make([]string, 0, len(t.Reasons))
		for k := range t.Reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-55s %d\n", k, t.Reasons[k])
		}
	}
	if len(t.MissReasons) > 0 {
		keys := make([]string, 0, len(t.MissReasons))
		for k := range t.MissReasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "expected misses (the snapshot selects no cache for the client either):")
		for _, k := range keys {
			fmt.Fprintf(w, "  %-55s %d\n", k, t.MissReasons[k])
		}
	}
	if len(r.FirstErrors) > 0 {
		keys := make([]string, 0, len(r.FirstErrors))
		for k := range r.FirstErrors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "first error of each kind:")
		for _, k := range keys {
			fmt.Fprintf(w, "  %s: %s\n", k, r.FirstErrors[k])
		}
	}
	for _, s := range r.Wrong[:min(len(r.Wrong), 5)] {
		fmt.Fprintf(w, "wrong: %s %s from %s: %s\n", s.Protocol, s.Service, s.Client, s.Detail)
	}
}

// Summary returns the text summary.
func (r *Result) Summary() string {
	var b strings.Builder
	r.WriteSummary(&b)
	return b.String()
}
