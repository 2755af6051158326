// Package dnsserver is the transport of the authoritative DNS server: UDP
// with one SO_REUSEPORT socket per worker and batched recvmmsg/sendmmsg,
// TCP per RFC 7766 with connection caps and timeouts, the per-packet path
// (header gate, handler, response) without allocation, and counters.
//
// Routing decisions live behind the Handler interface; this package knows
// nothing about zones or tables.
package dnsserver

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

// Transport is the protocol a query arrived on.
type Transport uint8

// Transports.
const (
	UDP Transport = iota
	TCP
)

// String names the transport.
func (t Transport) String() string {
	if t == TCP {
		return "tcp"
	}
	return "udp"
}

// Handler answers accepted queries. ServeDNS is called with a query that
// passed the header gate (QR=0, opcode QUERY, one question, class IN or
// ANY, EDNS version 0) and a Response already holding the header and the
// question; the handler appends records, sets the RCODE and AA, and may
// echo ECS with SetECSScope or Drop the query. When it returns, the server
// finishes the message (OPT, header counts, truncation to the transport's
// limit) and sends it.
//
// ServeDNS runs on a worker goroutine and is called concurrently from
// several workers; it must not block, must not retain w, q or their slices
// after returning, and should not allocate. Both w and q are reused for the
// next query of the worker.
type Handler interface {
	ServeDNS(w *Response, q *dnswire.Query, client netip.AddrPort)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *Response, q *dnswire.Query, client netip.AddrPort)

// ServeDNS calls f.
func (f HandlerFunc) ServeDNS(w *Response, q *dnswire.Query, client netip.AddrPort) {
	f(w, q, client)
}

var _ Handler = HandlerFunc(nil)

// Response is the handler's view of the response under construction. It
// wraps a dnswire.Writer over the buffer the worker answers into (a TCP
// connection's transmit buffer; on Linux UDP, the query's own slot); its
// lifetime is one ServeDNS call.
type Response struct {
	w       dnswire.Writer
	tr      Transport
	drop    bool
	state   any
	start   time.Time
	elapsed time.Duration
	sampled bool
}

// Start returns when the server started handling the query, reading the
// clock now if the server did not (see Sampled). A handler that needs a
// timestamp (an access log) calls it; the server then also uses the
// handler's SetElapsed for its statistics.
func (r *Response) Start() time.Time {
	if r.start.IsZero() {
		r.start = time.Now()
	}
	return r.start
}

// Sampled reports whether this query's latency is measured for the
// latency histograms. Clock reads are a measurable share of a query's
// cost, so without an access log only one query in latencySampleEvery is
// timed; counters still count every query.
func (r *Response) Sampled() bool { return r.sampled || !r.start.IsZero() }

// SetElapsed reports the handler's measurement of the time since Start;
// the server then uses it for its latency statistics instead of reading
// the clock once more.
func (r *Response) SetElapsed(d time.Duration) { r.elapsed = d }

// latencySampleEvery is how often (one query in N) a query is timed when
// no handler asks for a timestamp. A power of two.
const latencySampleEvery = 16

// HandlerState returns the value the handler stored with SetHandlerState on
// this Response, or nil. The Response belongs to one worker (one UDP worker,
// or one TCP connection whose state is pooled across connections), so a
// handler keeps its per-worker scratch memory here instead of allocating
// per query.
func (r *Response) HandlerState() any { return r.state }

// SetHandlerState stores per-worker handler state; see HandlerState.
func (r *Response) SetHandlerState(v any) { r.state = v }

// Transport returns the protocol of the query.
func (r *Response) Transport() Transport { return r.tr }

// Drop makes the server send nothing for this query.
func (r *Response) Drop() { r.drop = true }

// SetRcode sets the response code (dnswire.Rcode*).
func (r *Response) SetRcode(rcode int) { r.w.SetRcode(rcode) }

// SetAuthoritative sets or clears AA.
func (r *Response) SetAuthoritative(aa bool) { r.w.SetAuthoritative(aa) }

// SetECSScope echoes the query's Client Subnet option with this scope prefix
// length. Without a call ECS is not echoed.
func (r *Response) SetECSScope(scope uint8) { r.w.SetECSScope(scope) }

// Append appends a record from a template to a section; see
// dnswire.Writer.AppendTTL for the truncation rules.
func (r *Response) Append(s dnswire.Section, owner dnswire.Owner, rr *dnswire.RR) bool {
	return r.w.AppendTTL(s, owner, rr, rr.TTL)
}

// AppendTTL is Append with a TTL that overrides the template's.
func (r *Response) AppendTTL(s dnswire.Section, owner dnswire.Owner, rr *dnswire.RR, ttl uint32) bool {
	return r.w.AppendTTL(s, owner, rr, ttl)
}

// AppendOriginSet appends a pre-encoded RRset of a zone origin in the given
// order; when it returns false nothing was written and the caller appends
// the records one by one. checked says the caller knows the set applies to
// the question's name (set.AppliesTo). See dnswire.Writer.AppendOriginSet.
func (r *Response) AppendOriginSet(s dnswire.Section, set *dnswire.OriginSet, order []uint8, checked bool) bool {
	if checked {
		return r.w.AppendOriginSetChecked(s, set, order)
	}
	return r.w.AppendOriginSet(s, set, order)
}

// Truncated reports whether an answer or authority RRset did not fit (TC).
func (r *Response) Truncated() bool { return r.w.Truncated() }

// Count returns the number of records appended to a section.
func (r *Response) Count(s dnswire.Section) int { return r.w.Count(s) }

// handlerRef boxes a Handler for atomic.Pointer.
type handlerRef struct{ h Handler }

// Processor runs the per-packet path: header gate and parse, the handler,
// and the finished response, counting into a stats shard. The UDP and TCP
// engines own one per worker or connection; tests and fuzzers use it
// directly. A Processor is not safe for concurrent use.
type Processor struct {
	q       dnswire.Query
	r       Response
	handler *atomic.Pointer[handlerRef]
	shard   *shard
	n       uint64 // queries served, for latency sampling

	pendQType, pendRcode pendingAdd // deferred counts (tally.go)
}

// NewProcessor returns a Processor calling h, with its own Stats.
func NewProcessor(h Handler) *Processor {
	p := &Processor{handler: new(atomic.Pointer[handlerRef]), shard: &newStats(1).shards[0]}
	if h != nil {
		p.handler.Store(&handlerRef{h})
	}
	return p
}

// Serve handles one raw query msg from client and returns the response,
// built in dst[:0] without growing it, or nil when nothing must be sent.
// The size limit is the query's UDP limit over UDP (512 without EDNS, else
// the client's size within [512, 1232]) and 65535 over TCP, capped by
// cap(dst). msg must stay unchanged until Serve returns.
// A panicking handler is recovered: the query is counted as DropPanic and
// Serve returns nil.
func (p *Processor) Serve(dst, msg []byte, client netip.AddrPort, tr Transport) (resp []byte) {
	defer func() {
		if recover() != nil {
			p.shard.drops[DropPanic].Add(1)
			resp = nil
		}
		p.flushCounts()
	}()
	return p.serve(dst, msg, client, tr)
}

// serve is Serve without the recovery: a panicking handler panics out of
// it, and the caller must recover and count the drop (Serve does; the
// Linux UDP engine recovers once per batch). It defers the query's type and
// response code counts; the caller calls flushCounts.
func (p *Processor) serve(dst, msg []byte, client netip.AddrPort, tr Transport) []byte {
	p.n++
	sampled := p.n&(latencySampleEvery-1) == 0
	var start time.Time
	if sampled {
		start = time.Now()
	}
	st := p.shard
	q := &p.q
	v := q.Parse(msg)
	if v == dnswire.Drop {
		st.drops[DropMalformed].Add(1)
		return nil
	}
	limit := dnswire.MaxTCPSize
	if tr == UDP {
		limit = q.UDPLimit()
	}
	r := &p.r
	r.tr, r.drop, r.start, r.elapsed, r.sampled = tr, false, start, 0, sampled
	r.w.Start(dst, q, limit)
	if v == dnswire.Reply {
		r.w.SetRcode(q.Rcode)
	} else {
		p.pendQType.add(st.qtypes[:], qtypeBucket(q.Type))
		ref := p.handler.Load()
		if ref == nil {
			st.drops[DropNotReady].Add(1)
			return nil
		}
		ref.h.ServeDNS(r, q, client)
		if r.drop {
			st.drops[DropHandler].Add(1)
			return nil
		}
	}
	out := r.w.Finish()
	if out == nil {
		st.drops[DropNoRoom].Add(1)
		return nil
	}
	elapsed, timed := r.elapsed, r.elapsed != 0
	if !timed && !r.start.IsZero() {
		elapsed, timed = time.Since(r.start), true
	}
	rcode := r.w.Rcode()
	if rcode >= NumRcodes {
		rcode = dnswire.RcodeServFail
	}
	p.pendRcode.add(st.rcodes[:], rcode)
	st.countResponse(r.w.Truncated(), elapsed, timed)
	return out
}

// Stats returns the counters of a Processor made by NewProcessor.
func (p *Processor) Stats() Snapshot {
	return snapshotShards(p.shard)
}
