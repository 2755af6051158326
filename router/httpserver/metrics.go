package httpserver

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router"
)

// statuses are the response codes counted by value; others count as
// "other".
var statuses = [...]int{200, 302, 400, 403, 404, 408, 413, 431, 500, 503, 520}

// numResultTypes is the number of router.ResultType values.
const numResultTypes = int(router.ResultGeoDS) + 1

// serverMetrics are the handles of the HTTP metrics, registered once.
type serverMetrics struct {
	byStatus    [len(statuses) + 1]*metrics.Counter
	byResult    [numResultTypes]*metrics.Counter
	latency     *metrics.Histogram
	apiRequests *metrics.Counter
}

func newServerMetrics(reg *metrics.Registry, s *Server) *serverMetrics {
	m := &serverMetrics{}
	codes := reg.CounterVec("signpost_http_responses_total", "HTTP routing responses by status code.", "code")
	for i, c := range statuses {
		m.byStatus[i] = codes.With(strconv.Itoa(c))
	}
	m.byStatus[len(statuses)] = codes.With("other")
	results := reg.CounterVec("signpost_http_results_total", "HTTP routing requests by Traffic Router result type (rtype).", "rtype")
	for i := range m.byResult {
		m.byResult[i] = results.With(router.ResultType(i).String())
	}
	m.latency = reg.Histogram("signpost_http_request_duration_seconds", "Time to route one HTTP request.", metrics.LatencyBuckets())
	m.apiRequests = reg.Counter("signpost_http_api_requests_total", "Traffic Router API requests.")
	reg.GaugeFunc("signpost_http_table_generation", "Generation of the routing table the HTTP server serves (0 = none).", func() float64 {
		if d := s.data.Load(); d != nil {
			return float64(d.table.Generation)
		}
		return 0
	})
	reg.GaugeFunc("signpost_http_table_published_timestamp_seconds", "When the served routing table was published to the HTTP server.", func() float64 {
		if d := s.data.Load(); d != nil {
			return float64(d.published.UnixNano()) / 1e9
		}
		return 0
	})
	reg.GaugeFunc("signpost_http_certificates_missing", "sslEnabled delivery services without a usable certificate.", func() float64 {
		n := 0
		if d := s.data.Load(); d != nil {
			for _, st := range d.tls {
				if st.State != "ok" {
					n++
				}
			}
		}
		return float64(n)
	})
	if s.cfg.ReloadStatus != nil {
		rs := s.cfg.ReloadStatus
		reg.GaugeFunc("signpost_control_generation", "Generation of the last dataset set the control source published.", func() float64 {
			return float64(rs().Generation)
		})
		reg.GaugeFunc("signpost_control_last_reload_success", "1 when no dataset file's latest version was rejected, else 0.", func() float64 {
			for _, f := range rs().Files {
				if f.LastError != "" && f.LastErrorAt.After(f.Accepted) {
					return 0
				}
			}
			return 1
		})
		reg.GaugeFunc("signpost_control_rejected_versions", "Dataset file versions rejected since start, all files.", func() float64 {
			var n uint64
			for _, f := range rs().Files {
				n += f.RejectedCount
			}
			return float64(n)
		})
	}
	return m
}

func (m *serverMetrics) status(code int) {
	for i, c := range statuses {
		if c == code {
			m.byStatus[i].Inc()
			return
		}
	}
	m.byStatus[len(statuses)].Inc()
}

func (m *serverMetrics) observe(code int, rt router.ResultType, d time.Duration) {
	m.count(code, rt)
	m.latency.ObserveDuration(d)
}

// count counts a response without timing it.
func (m *serverMetrics) count(code int, rt router.ResultType) {
	m.status(code)
	if int(rt) < len(m.byResult) {
		m.byResult[rt].Inc()
	}
}

// dsTally holds the /crs/stats counters of one delivery service.
type dsTally struct {
	cz, geo, deepCZ, miss, dsr, err, static, fed, rgDenied, rgAlt atomic.Uint64
}

func (t *dsTally) count(rt router.ResultType) {
	switch rt {
	case router.ResultCZ:
		t.cz.Add(1)
	case router.ResultGeo, router.ResultGeoDS, router.ResultGeoRedirect:
		t.geo.Add(1)
	case router.ResultDeepCZ:
		t.deepCZ.Add(1)
	case router.ResultMiss, router.ResultAnonBlock:
		t.miss.Add(1)
	case router.ResultDSRedirect:
		t.dsr.Add(1)
	case router.ResultStaticRoute:
		t.static.Add(1)
	case router.ResultFed:
		t.fed.Add(1)
	case router.ResultRGDeny:
		t.rgDenied.Add(1)
	case router.ResultRGAlt:
		t.rgAlt.Add(1)
	default:
		t.err.Add(1)
	}
}

// tallies are the server-wide /crs/stats totals.
type tallies struct {
	total, dsMiss atomic.Uint64
	timed         atomic.Uint64 // requests whose time is in nanos
	nanos         atomic.Int64
}

func (t *tallies) add(rt router.ResultType, d time.Duration) {
	t.count(rt)
	t.timed.Add(1)
	t.nanos.Add(int64(d))
}

// count counts a request without its time.
func (t *tallies) count(rt router.ResultType) {
	t.total.Add(1)
	if rt == router.ResultDSMiss {
		t.dsMiss.Add(1)
	}
}
