package metrics

import (
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRegistryTextGolden(t *testing.T) {
	// One shard: a histogram's sum is added per shard, and a float sum
	// depends on the order of the shards the observations landed in
	// (7.0155 or 7.015499999999999 by chance, with -race).
	r := NewRegistry(Options{Shards: 1})
	q := r.CounterVec("signpost_dns_queries_total", "DNS queries by result.", "rtype", "ds")
	cz := q.With("CZ", "foo")
	geo := q.With("GEO", `we"ird\ds`+"\nx")
	g := r.Gauge("signpost_table_generation", "Generation of the routing table.\nSecond line \\ here.")
	h := r.Histogram("signpost_dns_duration_seconds", "Time to answer.", []float64{0.001, 0.01, 0.1, math.Inf(1)})
	r.GaugeFunc("signpost_up", "Always 1.", func() float64 { return 1 })
	c := r.Counter("a_first_total", "Sorted first.")
	drops := r.CounterVec("signpost_dns_dropped_total", "Kept elsewhere.", "reason")
	var kept uint64 = 7
	drops.WithFunc(func() uint64 { return kept }, "malformed")
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	cz.Add(3)
	cz.Inc()
	geo.Inc()
	g.Set(42)
	g.Add(-0.5)
	h.ObserveDuration(500 * time.Microsecond)
	h.Observe(0.005)
	h.Observe(0.01)
	h.Observe(7)
	c.AddShard(5, 2)

	got := string(r.AppendText(nil))
	want := `# HELP a_first_total Sorted first.
# TYPE a_first_total counter
a_first_total 2
# HELP signpost_dns_dropped_total Kept elsewhere.
# TYPE signpost_dns_dropped_total counter
signpost_dns_dropped_total{reason="malformed"} 7
# HELP signpost_dns_duration_seconds Time to answer.
# TYPE signpost_dns_duration_seconds histogram
signpost_dns_duration_seconds_bucket{le="0.001"} 1
signpost_dns_duration_seconds_bucket{le="0.01"} 3
signpost_dns_duration_seconds_bucket{le="0.1"} 3
signpost_dns_duration_seconds_bucket{le="+Inf"} 4
signpost_dns_duration_seconds_sum 7.0155
signpost_dns_duration_seconds_count 4
# HELP signpost_dns_queries_total DNS queries by result.
# TYPE signpost_dns_queries_total counter
signpost_dns_queries_total{rtype="CZ",ds="foo"} 4
signpost_dns_queries_total{rtype="GEO",ds="we\"ird\\ds\nx"} 1
# HELP signpost_table_generation Generation of the routing table.\nSecond line \\ here.
# TYPE signpost_table_generation gauge
signpost_table_generation 41.5
# HELP signpost_up Always 1.
# TYPE signpost_up gauge
signpost_up 1
`
	if got != want {
		t.Errorf("text mismatch\n got:\n%s\nwant:\n%s", got, want)
	}
	if errs := checkExposition(got); len(errs) > 0 {
		t.Errorf("exposition check: %q", errs)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType || rec.Body.String() != want {
		t.Errorf("ServeHTTP: content type %q, body equal %v", ct, rec.Body.String() == want)
	}
	var sb strings.Builder
	if n, err := r.WriteTo(&sb); err != nil || n != int64(len(want)) || sb.String() != want {
		t.Errorf("WriteTo = %d, %v", n, err)
	}
}

func TestRegistrationErrorsListed(t *testing.T) {
	r := NewRegistry(Options{})
	r.Counter("ok_total", "")
	dup := r.Counter("ok_total", "")
	r.Counter("9bad", "")
	v := r.CounterVec("labels_total", "", "good", "__reserved", "good")
	r.Histogram("h", "", []float64{1, 0.5, math.NaN()})
	r.HistogramVec("h2", "", []float64{1}, "le")
	r.Histogram("h3", "", nil)
	cv := r.CounterVec("cv_total", "", "a")
	wrong := cv.With("x", "y")
	r.GaugeFunc("gf", "", nil)
	err := r.Err()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`metric "ok_total" registered twice`,
		`invalid metric name "9bad"`,
		`invalid label name "__reserved"`,
		`label name "good" repeated`,
		`bucket 1 (0.5) not above bucket 0 (1)`,
		`bucket 2 is NaN`,
		`"le" is reserved`,
		`histogram "h3": no buckets`,
		`metric "cv_total": 2 label values ["x" "y"] for 1 label names ["a"]`,
		`gauge func "gf": nil function`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	// Handles of failed registrations still work and are not exported.
	dup.Inc()
	wrong.Inc()
	v.With("a", "b", "c").Inc()
	text := string(r.AppendText(nil))
	if strings.Contains(text, "labels_total") || strings.Contains(text, "9bad") || strings.Contains(text, " gf ") {
		t.Errorf("failed families exported:\n%s", text)
	}
	if errs := checkExposition(text); len(errs) > 0 {
		t.Errorf("exposition check: %q", errs)
	}
}

func TestWithReturnsSameHandle(t *testing.T) {
	r := NewRegistry(Options{})
	v := r.GaugeVec("g", "", "k")
	a, b := v.With("x"), v.With("x")
	if a != b {
		t.Error("With returned two gauges for one label set")
	}
	hv := r.HistogramVec("hv_seconds", "", LatencyBuckets(), "kind")
	if h1, h2 := hv.With("udp"), hv.With("udp"); h1 != h2 {
		t.Error("HistogramVec.With returned two histograms for one label set")
	}
	hv.With("tcp").Observe(0.002)
	if errs := checkExposition(string(r.AppendText(nil))); len(errs) > 0 {
		t.Errorf("exposition check: %q", errs)
	}
}

func TestHistogramBuckets(t *testing.T) {
	r := NewRegistry(Options{Shards: 1})
	h := r.Histogram("h", "", []float64{1, 2, 3})
	for _, v := range []float64{-1, 1, 1.5, 2, 3, 3.0001, math.NaN(), math.Inf(1)} {
		h.Observe(v)
	}
	counts, _ := h.snapshot(nil)
	want := []uint64{2, 2, 1, 3}
	for i := range want {
		if counts[i] != want[i] {
			t.Fatalf("counts = %v, want %v", counts, want)
		}
	}
	if h.Count() != 8 {
		t.Errorf("Count = %d", h.Count())
	}
}

func TestConcurrentCounts(t *testing.T) {
	r := NewRegistry(Options{Shards: 8})
	c := r.Counter("c_total", "")
	g := r.Gauge("g", "")
	h := r.Histogram("h_seconds", "", LatencyBuckets())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c.Inc()
				c.AddShard(w, 1)
				g.Add(1)
				h.Observe(float64(i) / 1000)
			}
		})
	}
	// Scrape while writing: every snapshot must pass the checker.
	for range 20 {
		if errs := checkExposition(string(r.AppendText(nil))); len(errs) > 0 {
			t.Fatalf("exposition check: %q", errs)
		}
	}
	wg.Wait()
	if c.Value() != 16000 || g.Value() != 8000 || h.Count() != 8000 {
		t.Errorf("counter %d gauge %v histogram %d", c.Value(), g.Value(), h.Count())
	}
}

func TestCheckerRejectsBadText(t *testing.T) {
	tests := []struct{ text, want string }{
		{"x 1\n", "before its TYPE"},
		{"# HELP b x\n# TYPE b counter\nb 1\n# HELP a x\n# TYPE a counter\na 1\n", `not after "b"`},
		{"# HELP a x\n# TYPE a counter\na{l=\"v\\q\"} 1\n", "bad escape"},
		{"# HELP a x\n# TYPE a counter\na -1\n", "counter value"},
		{"# HELP a x\n# TYPE a counter\na 1\na 2\n", "repeated"},
		{"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "not above previous"},
		{"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n", "no +Inf bucket"},
		{"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "!= _count"},
		{"# HELP a x\n# TYPE a counter\na 1", "newline"},
		{"# HELP a x\n# TYPE a gauge\na{b=\"c\" 1\n", "expected , or }"},
	}
	for _, tt := range tests {
		errs := checkExposition(tt.text)
		if !strings.Contains(strings.Join(errs, "|"), tt.want) {
			t.Errorf("checkExposition(%q) = %q, want an error containing %q", tt.text, errs, tt.want)
		}
	}
}

func TestCounterFuncNil(t *testing.T) {
	r := NewRegistry(Options{})
	r.CounterVec("x_total", "x", "k").WithFunc(nil, "a")
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), `counter func "x_total" ["a"]: nil function`) {
		t.Fatalf("Err() = %v", err)
	}
}
