// Package metrics is a small Prometheus text-format (version 0.0.4) metrics library:
// sharded counters, gauges and fixed-bucket histograms whose hot-path operations do not
// allocate, labelled families whose series are created up front (the hot path holds
// *Counter handles and never looks a label up), and a Registry that writes the
// exposition text.
//
// Registration problems (an invalid or duplicate name, a wrong number of label values,
// unsorted buckets) do not panic: the constructor still returns a working handle that is
// not exported, and Registry.Err reports every problem at once, so a component registers
// all its metrics and then checks Err.
package metrics

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// ContentType is the media type of the text the Registry writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Options configures a Registry.
type Options struct {
	// Shards is the number of cells of every counter and histogram (rounded up to a power
	// of two; default GOMAXPROCS, at most 16). Each counter shard costs 64 bytes.
	Shards int
}

// Registry holds metric families and writes them in the text exposition format. It is
// safe for concurrent use.
type Registry struct {
	shards int

	mu       sync.Mutex
	families map[string]*family
	errs     []error
}

type kind uint8

const (
	kindCounter kind = iota
	kindGauge
	kindHistogram
)

func (k kind) String() string {
	switch k {
	case kindCounter:
		return "counter"
	case kindGauge:
		return "gauge"
	default:
		return "histogram"
	}
}

// family is one metric name with its HELP, TYPE and series.
type family struct {
	name       string
	help       string
	kind       kind
	labelNames []string
	buckets    []float64 // histograms
	series     []*series // sorted by label values
}

// series is one labelled child; exactly one of the value fields is set.
type series struct {
	labelValues []string
	counter     *Counter
	gauge       *Gauge
	gaugeFunc   func() float64
	counterFunc func() uint64
	histogram   *Histogram
}

// NewRegistry returns an empty Registry.
func NewRegistry(opts Options) *Registry {
	n := opts.Shards
	if n <= 0 {
		n = min(runtime.GOMAXPROCS(0), 16)
	}
	n = 1 << bits.Len(uint(n-1))
	return &Registry{shards: n, families: map[string]*family{}}
}

// Err returns every registration problem so far, joined, or nil.
func (r *Registry) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

func (r *Registry) fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("metrics: "+format, args...))
}

// register adds a family; it returns nil (after recording why) when the family cannot be
// exported.
func (r *Registry) register(name, help string, k kind, labelNames []string, buckets []float64) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	ok := true
	if !validMetricName(name) {
		r.fail("invalid metric name %q: want [a-zA-Z_:][a-zA-Z0-9_:]*", name)
		ok = false
	}
	if _, dup := r.families[name]; dup {
		r.fail("metric %q registered twice", name)
		ok = false
	}
	for i, l := range labelNames {
		switch {
		case !validLabelName(l):
			r.fail("metric %q: invalid label name %q: want [a-zA-Z_][a-zA-Z0-9_]* not starting with __", name, l)
			ok = false
		case k == kindHistogram && l == "le":
			r.fail("metric %q: label name \"le\" is reserved for histogram buckets", name)
			ok = false
		case slices.Contains(labelNames[:i], l):
			r.fail("metric %q: label name %q repeated", name, l)
			ok = false
		}
	}
	if k == kindHistogram {
		if len(buckets) == 0 {
			r.fail("histogram %q: no buckets", name)
			ok = false
		}
		for i, b := range buckets {
			if math.IsNaN(b) {
				r.fail("histogram %q: bucket %d is NaN", name, i)
				ok = false
			} else if i > 0 && b <= buckets[i-1] {
				r.fail("histogram %q: bucket %d (%g) not above bucket %d (%g)", name, i, b, i-1, buckets[i-1])
				ok = false
			}
		}
	}
	if !ok {
		return nil
	}
	f := &family{name: name, help: help, kind: k, labelNames: slices.Clone(labelNames), buckets: buckets}
	r.families[name] = f
	return f
}

// child finds or adds the series of f with labelValues; nil (after recording why) when
// the values do not fit f.
func (r *Registry) child(f *family, labelValues []string, newSeries func() *series) *series {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(labelValues) != len(f.labelNames) {
		r.fail("metric %q: %d label values %q for %d label names %q", f.name, len(labelValues), labelValues, len(f.labelNames), f.labelNames)
		return nil
	}
	i, found := slices.BinarySearchFunc(f.series, labelValues, func(s *series, v []string) int {
		return slices.Compare(s.labelValues, v)
	})
	if found {
		return f.series[i]
	}
	s := newSeries()
	s.labelValues = slices.Clone(labelValues)
	f.series = slices.Insert(f.series, i, s)
	return s
}

// Counter registers and returns an unlabelled counter.
func (r *Registry) Counter(name, help string) *Counter {
	f := r.register(name, help, kindCounter, nil, nil)
	if f == nil {
		return newCounter(r.shards)
	}
	return r.child(f, nil, func() *series { return &series{counter: newCounter(r.shards)} }).counter
}

// Gauge registers and returns an unlabelled gauge.
func (r *Registry) Gauge(name, help string) *Gauge {
	f := r.register(name, help, kindGauge, nil, nil)
	if f == nil {
		return &Gauge{}
	}
	return r.child(f, nil, func() *series { return &series{gauge: &Gauge{}} }).gauge
}

// GaugeFunc registers a gauge whose value is fn's result at each write. fn must be safe
// for concurrent use.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	f := r.register(name, help, kindGauge, nil, nil)
	if f == nil {
		return
	}
	if fn == nil {
		r.mu.Lock()
		r.fail("gauge func %q: nil function", name)
		delete(r.families, name)
		r.mu.Unlock()
		return
	}
	r.child(f, nil, func() *series { return &series{gaugeFunc: fn} })
}

// Histogram registers and returns an unlabelled histogram with the given bucket upper
// bounds (strictly increasing; +Inf is implicit). buckets is not retained.
func (r *Registry) Histogram(name, help string, buckets []float64) *Histogram {
	b := normBuckets(buckets)
	f := r.register(name, help, kindHistogram, nil, b)
	if f == nil {
		return newHistogram(b, r.shards)
	}
	return r.child(f, nil, func() *series { return &series{histogram: newHistogram(b, r.shards)} }).histogram
}

// normBuckets copies buckets without a trailing +Inf.
func normBuckets(b []float64) []float64 {
	b = slices.Clone(b)
	for len(b) > 0 && math.IsInf(b[len(b)-1], 1) {
		b = b[:len(b)-1]
	}
	return b
}

// CounterVec is a counter family with fixed label names. Create each series with With
// when the label values become known (at start or when a snapshot is built) and keep the
// *Counter for the hot path.
type CounterVec struct {
	r *Registry
	f *family
}

// CounterVec registers a labelled counter family.
func (r *Registry) CounterVec(name, help string, labelNames ...string) *CounterVec {
	return &CounterVec{r: r, f: r.register(name, help, kindCounter, labelNames, nil)}
}

// With returns the counter of labelValues (in label-name order), creating it at the
// first call. It locks the registry: call it at setup, not per request.
func (v *CounterVec) With(labelValues ...string) *Counter {
	if v.f != nil {
		if s := v.r.child(v.f, labelValues, func() *series { return &series{counter: newCounter(v.r.shards)} }); s != nil {
			return s.counter
		}
	}
	return newCounter(v.r.shards)
}

// WithFunc adds the series of labelValues whose value is fn's result at each write: for
// counts another component keeps (fn must be safe for concurrent use and never decrease).
// A series of labelValues that already exists keeps its source.
func (v *CounterVec) WithFunc(fn func() uint64, labelValues ...string) {
	if v.f == nil {
		return
	}
	if fn == nil {
		v.r.mu.Lock()
		v.r.fail("counter func %q %q: nil function", v.f.name, labelValues)
		v.r.mu.Unlock()
		return
	}
	v.r.child(v.f, labelValues, func() *series { return &series{counterFunc: fn} })
}

// GaugeVec is a gauge family with fixed label names; see CounterVec.
type GaugeVec struct {
	r *Registry
	f *family
}

// GaugeVec registers a labelled gauge family.
func (r *Registry) GaugeVec(name, help string, labelNames ...string) *GaugeVec {
	return &GaugeVec{r: r, f: r.register(name, help, kindGauge, labelNames, nil)}
}

// With returns the gauge of labelValues, creating it at the first call (setup only).
func (v *GaugeVec) With(labelValues ...string) *Gauge {
	if v.f != nil {
		if s := v.r.child(v.f, labelValues, func() *series { return &series{gauge: &Gauge{}} }); s != nil {
			return s.gauge
		}
	}
	return &Gauge{}
}

// HistogramVec is a histogram family with fixed label names and buckets; see CounterVec.
type HistogramVec struct {
	r       *Registry
	f       *family
	buckets []float64
}

// HistogramVec registers a labelled histogram family.
func (r *Registry) HistogramVec(name, help string, buckets []float64, labelNames ...string) *HistogramVec {
	b := normBuckets(buckets)
	return &HistogramVec{r: r, f: r.register(name, help, kindHistogram, labelNames, b), buckets: b}
}

// With returns the histogram of labelValues, creating it at the first call (setup only).
func (v *HistogramVec) With(labelValues ...string) *Histogram {
	if v.f != nil {
		if s := v.r.child(v.f, labelValues, func() *series { return &series{histogram: newHistogram(v.buckets, v.r.shards)} }); s != nil {
			return s.histogram
		}
	}
	return newHistogram(v.buckets, v.r.shards)
}

// WriteTo writes the exposition text to w.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(r.AppendText(nil))
	return int64(n), err
}

// ServeHTTP serves the exposition text.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	_, _ = w.Write(r.AppendText(nil))
}

func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func validLabelName(s string) bool {
	if s == "" || strings.HasPrefix(s, "__") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
