package healthfeed

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/internal/metrics"
)

// Poll results counted in signpost_health_polls_total{result}.
const (
	resultApplied    = "applied"    // new health applied to the router
	resultUnchanged  = "unchanged"  // identical body or identical availability: nothing to do
	resultDistrusted = "distrusted" // mass-down update held back
	resultFailed     = "failed"     // no monitor gave a good answer
)

// feedMetrics are the follower's metric handles. Without a registry they
// are unexported handles that still count (Status reads none of them).
type feedMetrics struct {
	polls           map[string]*metrics.Counter
	monitorFailures []*metrics.Counter
	distrustAccept  *metrics.Counter
	failOpenTotal   *metrics.Counter
	failOpen        *metrics.Gauge
	cachesDown      *metrics.Gauge
	stateErrors     *metrics.Counter
	lastSuccess     atomic.Int64 // unix nanoseconds, read by the age gauge
}

func newFeedMetrics(reg *metrics.Registry, monitors []string) *feedMetrics {
	if reg == nil {
		// A private registry: handles work, nothing is exported.
		reg = metrics.NewRegistry(metrics.Options{Shards: 1})
	}
	m := &feedMetrics{polls: map[string]*metrics.Counter{}}
	polls := reg.CounterVec("signpost_health_polls_total",
		"Health polls by result: applied, unchanged, distrusted, failed (no monitor answered).", "result")
	for _, r := range []string{resultApplied, resultUnchanged, resultDistrusted, resultFailed} {
		m.polls[r] = polls.With(r)
	}
	fails := reg.CounterVec("signpost_health_monitor_failures_total",
		"Failed requests to a health monitor (transport error, timeout, non-200, bad body).", "monitor")
	for _, u := range monitors {
		m.monitorFailures = append(m.monitorFailures, fails.With(u))
	}
	m.distrustAccept = reg.Counter("signpost_health_distrusted_accepted_total",
		"Distrusted mass-down updates accepted after confirmation.")
	m.failOpenTotal = reg.Counter("signpost_health_fail_open_total",
		"Times health became older than its limit and the router failed open.")
	m.failOpen = reg.Gauge("signpost_health_fail_open",
		"1 while health is older than its limit and every cache counts as available.")
	m.cachesDown = reg.Gauge("signpost_health_caches_down",
		"Caches of the current table the last accepted health marks unavailable.")
	m.stateErrors = reg.Counter("signpost_health_state_errors_total",
		"Failures to read or write the last good health in the state directory.")
	reg.GaugeFunc("signpost_health_age_seconds",
		"Seconds since the last successful health poll (since start when none).", func() float64 {
			ns := m.lastSuccess.Load()
			if ns == 0 {
				return math.NaN()
			}
			return time.Since(time.Unix(0, ns)).Seconds()
		})
	return m
}
