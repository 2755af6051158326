package dnsserver

import (
	"time"

	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// handlerMetrics are the RoutingHandler's series, created at construction
// so the query path only increments.
type handlerMetrics struct {
	rcodes  [16]*metrics.Counter
	qtypes  [NumQTypes]*metrics.Counter
	results [accesslog.ResultGeoDS + 1]*metrics.Counter
	latency *metrics.Histogram
}

var rcodeNames = [16]string{
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
	"NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15",
}

func newHandlerMetrics(reg *metrics.Registry) *handlerMetrics {
	m := &handlerMetrics{}
	rc := reg.CounterVec("signpost_dns_routing_responses_total", "DNS queries answered by the routing handler, by response code.", "rcode")
	for i := range m.rcodes {
		m.rcodes[i] = rc.With(rcodeNames[i])
	}
	qt := reg.CounterVec("signpost_dns_routing_queries_total", "DNS queries answered by the routing handler, by query type.", "qtype")
	for i := range m.qtypes {
		m.qtypes[i] = qt.With(QTypeName(i))
	}
	rt := reg.CounterVec("signpost_dns_routing_results_total", "DNS queries by Traffic Router result type (NONE: static answer or no zone).", "rtype")
	for i := range m.results {
		name := accesslog.ResultType(i).String()
		if i == 0 {
			name = "NONE"
		}
		m.results[i] = rt.With(name)
	}
	m.latency = reg.Histogram("signpost_dns_routing_duration_seconds", "Time the routing handler spends on a query (lookup, routing, answer, access log excluded); without an access log one query in 16 is timed.", metrics.LatencyBuckets())
	return m
}

// observe counts a query; the counts wait in st until flush (tally.go).
func (m *handlerMetrics) observe(st *queryState, qtype uint16, d time.Duration, timed bool) {
	st.pendRcode.add(m.rcodes[:], st.rcode&0xF)
	st.pendQType.add(m.qtypes[:], qtypeBucket(qtype))
	if int(st.rtype) < len(m.results) {
		st.pendResult.add(m.results[:], int(st.rtype))
	}
	if timed {
		m.latency.ObserveDuration(d)
	}
}

// flush publishes the counts waiting in st.
func (m *handlerMetrics) flush(st *queryState) {
	st.pendRcode.flush(m.rcodes[:])
	st.pendQType.flush(m.qtypes[:])
	st.pendResult.flush(m.results[:])
}
