package loadtest

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Proto is a load protocol.
type Proto uint8

// Protocols.
const (
	ProtoDNSUDP Proto = iota
	ProtoDNSTCP
	ProtoHTTP
	ProtoHTTPS
	numProtos
)

var protoNames = [numProtos]string{"dns-udp", "dns-tcp", "http", "https"}

// String returns the protocol's name in results ("dns-udp", "dns-tcp",
// "http", "https").
func (p Proto) String() string {
	if p < numProtos {
		return protoNames[p]
	}
	return "unknown"
}

// outcome classifies one request.
type outcome uint8

const (
	outOK outcome = iota
	outWrong
	outError
	outTimeout
	// outMiss is an answer without a cache that the routing table agrees
	// with (missCheck): counted apart, neither good nor an error.
	outMiss
)

// reason is why a request was not OK (or a detail of an OK one).
type reason uint8

// Reasons 0-15 are DNS rcodes.
const (
	reasonNone      reason = 0
	reasonMalformed reason = 16 + iota
	reasonTruncated
	reasonTransport
	reasonTLS
	reasonStatus
	reasonWrongAddr
	reasonEmpty
	reasonWrongCNAME
	reasonWrongHost
	reasonNoLocation
	reasonTimeout
	reasonUnavailable
	reasonBypass
	numReasons
)

var rcodeNames = [16]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
	"YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15"}

func (r reason) String() string {
	if r < 16 {
		return "rcode " + rcodeNames[r]
	}
	switch r {
	case reasonMalformed:
		return "malformed response"
	case reasonTruncated:
		return "truncated (TC) over UDP"
	case reasonTransport:
		return "transport error"
	case reasonTLS:
		return "TLS error"
	case reasonStatus:
		return "unexpected HTTP status"
	case reasonWrongAddr:
		return "address of a cache not serving the delivery service"
	case reasonEmpty:
		return "no address in the answer"
	case reasonWrongCNAME:
		return "unexpected CNAME"
	case reasonWrongHost:
		return "redirect to a host not serving the delivery service"
	case reasonNoLocation:
		return "redirect without Location"
	case reasonTimeout:
		return "timeout"
	case reasonUnavailable:
		return "HTTP 503 (no cache)"
	case reasonBypass:
		return "redirect to the delivery service's bypass destination"
	}
	return "unknown"
}

// Histogram bounds: microseconds from 1 µs to 60 s, two significant digits
// (1 % resolution; about 53 KB per histogram).
const (
	histMin    = 1
	histMax    = 60_000_000
	histDigits = 2
)

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(histMin, histMax, histDigits) }

// counts are the counters of one interval or a whole run.
type counts struct {
	sent, ok, wrong, errors, timeouts uint64
	// misses are expected misses (outMiss).
	misses  uint64
	reasons [numReasons]uint64
	// missReasons counts expected misses by the answer's reason.
	missReasons [numReasons]uint64
}

func (c *counts) add(o *counts) {
	c.sent += o.sent
	c.ok += o.ok
	c.wrong += o.wrong
	c.errors += o.errors
	c.timeouts += o.timeouts
	c.misses += o.misses
	for i := range c.reasons {
		c.reasons[i] += o.reasons[i]
		c.missReasons[i] += o.missReasons[i]
	}
}

func (c *counts) done() uint64 { return c.ok + c.wrong + c.errors + c.timeouts + c.misses }

// recorder collects one worker's results. Workers record under mu (never
// contended but by the once-a-second collector); recording allocates
// nothing.
type recorder struct {
	mu    sync.Mutex
	proto Proto
	hist  *hdrhistogram.Histogram
	c     counts
	s     *sampler
}

func newRecorder(p Proto, s *sampler) *recorder {
	return &recorder{proto: p, hist: newHist(), s: s}
}

func (r *recorder) sent(n int) {
	r.mu.Lock()
	r.c.sent += uint64(n)
	r.mu.Unlock()
}

// record counts one finished request; lat is its latency in nanoseconds
// (ignored for timeouts).
func (r *recorder) record(o outcome, why reason, lat int64) {
	r.mu.Lock()
	r.recordLocked(o, why, lat)
	r.mu.Unlock()
}

func (r *recorder) recordLocked(o outcome, why reason, lat int64) {
	switch o {
	case outOK:
		r.c.ok++
	case outWrong:
		r.c.wrong++
	case outError:
		r.c.errors++
	case outTimeout:
		r.c.timeouts++
		why = reasonTimeout
	case outMiss:
		r.c.misses++
		r.c.missReasons[why]++
		why = reasonNone
	}
	if why != reasonNone {
		r.c.reasons[why]++
	}
	if o != outTimeout {
		us := lat / 1000
		if us < histMin {
			us = histMin
		} else if us > histMax {
			us = histMax
		}
		_ = r.hist.RecordValue(us)
	}
}

// drain moves the recorder's interval into dst and h and resets it.
func (r *recorder) drain(dst *counts, h *hdrhistogram.Histogram) {
	r.mu.Lock()
	dst.add(&r.c)
	r.c = counts{}
	if r.hist.TotalCount() > 0 {
		h.Merge(r.hist)
		r.hist.Reset()
	}
	r.mu.Unlock()
}

// Sample is one wrong answer or error, kept for the report.
type Sample struct {
	// At is the time since the start of the run.
	At       Duration `json:"at"`
	Protocol string   `json:"protocol"`
	Service  string   `json:"deliveryService"`
	Client   string   `json:"client"`
	Kind     string   `json:"kind"` // "wrong" or "error"
	Reason   string   `json:"reason"`
	Detail   string   `json:"detail"`
}

// sampler keeps the first max wrong answers and the first max errors.
// Taking a sample allocates (strings for the report); it only happens for
// bad answers.
type sampler struct {
	mu     sync.Mutex
	start  time.Time
	max    int
	wrong  []Sample
	errors []Sample
	// first holds the first detail seen per reason.
	first [numReasons]string
}

func (s *sampler) want(o outcome, why reason) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o == outWrong {
		return len(s.wrong) < s.max
	}
	return len(s.errors) < s.max || s.first[why] == ""
}

func (s *sampler) add(o outcome, why reason, p Proto, service, client, detail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first[why] == "" {
		s.first[why] = detail
	}
	smp := Sample{At: Duration(time.Since(s.start)), Protocol: p.String(), Service: service, Client: client,
		Kind: "error", Reason: why.String(), Detail: detail}
	if o == outWrong {
		smp.Kind = "wrong"
		if len(s.wrong) < s.max {
			s.wrong = append(s.wrong, smp)
		}
		return
	}
	if len(s.errors) < s.max {
		s.errors = append(s.errors, smp)
	}
}
