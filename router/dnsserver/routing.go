package dnsserver

import (
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/dnswire"
	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router"
	"github.com/signpost-cdn/signpost/router/accesslog"
)

// Options configures a RoutingHandler. Every field is optional.
type Options struct {
	// AccessLog receives one line per query in Traffic Router's DNS format
	// (spec 11.2); nil disables the access log.
	AccessLog *accesslog.Writer
	// Metrics receives the handler's counters and latency histogram; nil
	// disables them. Registration problems are reported by Metrics.Err.
	Metrics *metrics.Registry
	// Logger receives publish warnings (records skipped because of bad
	// snapshot data); nil discards them.
	Logger *slog.Logger
	// Hostname is this router's host name; its first label names the local
	// Traffic Router in SOA MNAME. Empty means os.Hostname. A snapshot with
	// exactly one contentRouters entry always uses that entry.
	Hostname string
}

// RoutingHandler is the authoritative DNS answer logic of Traffic Router
// (spec 4.8, 4.9, 6.2 to 6.11) behind the Handler seam. Publish compiles the
// zones of a table off the query path and swaps table and zones in with one
// pointer store; ServeDNS loads that pointer once per query, so a query
// sees one consistent table and zone set.
type RoutingHandler struct {
	r    *router.Router
	cur  atomic.Pointer[compiled]
	opts Options
	log  *slog.Logger
	m    *handlerMetrics

	mu     sync.Mutex // serializes Publish
	points *hashring.PointCache
}

var _ Handler = (*RoutingHandler)(nil)

// NewRoutingHandler returns a handler answering from r's tables. It answers
// nothing (drops queries) until the first Publish or Sync succeeds.
func NewRoutingHandler(r *router.Router, opts Options) *RoutingHandler {
	h := &RoutingHandler{r: r, opts: opts, log: opts.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics != nil {
		h.m = newHandlerMetrics(opts.Metrics)
	}
	return h
}

// Publish compiles the zones of t and makes t and its zones current. On
// error the previous table and zones keep serving. Records skipped for bad
// snapshot data are logged as warnings, each naming the field and value.
func (h *RoutingHandler) Publish(t *router.Table) error {
	if t == nil {
		return errors.New("dnsserver: publish: nil table")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.points == nil || h.points.Mode() != t.HashMode() {
		h.points = hashring.NewPointCache(t.HashMode())
	}
	c, err := compile(t, compileOptions{hostname: h.opts.Hostname, points: h.points})
	if err != nil {
		return err
	}
	h.points.Sweep()
	for _, w := range c.warnings {
		h.log.Warn("dns zone record skipped", "generation", t.Generation, "problem", w)
	}
	h.cur.Store(c)
	return nil
}

// Sync publishes the router's current table when it is not the one being
// served. It returns an error when the router has no table yet.
func (h *RoutingHandler) Sync() error {
	t := h.r.Load()
	if t == nil {
		return errors.New("dnsserver: sync: the router has no table yet")
	}
	if c := h.cur.Load(); c != nil && c.table == t {
		return nil
	}
	return h.Publish(t)
}

// Table returns the table being served, or nil before the first Publish.
func (h *RoutingHandler) Table() *router.Table {
	if c := h.cur.Load(); c != nil {
		return c.table
	}
	return nil
}

// flushBatch publishes the counts deferred in the worker's state.
func (h *RoutingHandler) flushBatch(w *Response) {
	if st, _ := w.HandlerState().(*queryState); st != nil && h.m != nil {
		h.m.flush(st)
	}
}

// ServeDNS answers one query; see Handler.
func (h *RoutingHandler) ServeDNS(w *Response, q *dnswire.Query, client netip.AddrPort) {
	// The access log needs every query's time; otherwise only sampled
	// queries are timed (Response.Sampled).
	timed := h.opts.AccessLog != nil || w.Sampled()
	var start time.Time
	if timed {
		start = w.Start()
	}
	c := h.cur.Load()
	if c == nil {
		w.Drop()
		return
	}
	st, _ := w.HandlerState().(*queryState)
	if st == nil {
		st = newQueryState()
		w.SetHandlerState(st)
	}
	st.reset(client.Addr().Unmap())
	st.logging = h.opts.AccessLog != nil
	resolve(c, st, w, q)
	w.SetRcode(st.rcode)
	w.SetAuthoritative(st.aa)
	var elapsed time.Duration
	if timed {
		elapsed = time.Since(start)
		w.SetElapsed(elapsed)
	}
	if h.m != nil {
		h.m.observe(st, q.Type, elapsed, timed)
	}
	if h.opts.AccessLog != nil {
		h.opts.AccessLog.LogDNS(st.record(q, start, elapsed))
	}
}
