package loadtest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// httpWorker sends HTTP/1.1 requests over keep-alive connections, one at
// a time or pipelined (depth requests per write, plain HTTP in closed
// loop), from prebuilt request bytes, and parses only what the check
// needs (status, Location, Content-Length, Connection). It is a minimal
// client in the manner of wrk: no per-request allocation and two system
// calls per request (per depth requests when pipelining). HTTPS connections are per delivery service (the SNI
// name is the service's host) and verify the router's certificate.
type httpWorker struct {
	sh    *shared
	rec   *recorder
	proto Proto
	reqs  []httpRequest
	addr  string
	tls   *tls.Config // nil for HTTP
	// conns[svc] is the connection for a service (HTTP: conns[0] for all).
	conns []net.Conn
	tlsc  []*tls.Config
	next  int
	// depth is the number of pipelined requests per call (HTTP only).
	depth int
	out   []byte
	// buf[off:have] holds received, unparsed response bytes.
	buf       []byte
	off, have int
	locBuf    []byte
	miss      missCheck
}

func newHTTPWorker(sh *shared, rec *recorder, p Proto, reqs []httpRequest, addr string, tc *tls.Config, depth, offset int) *httpWorker {
	if tc != nil || depth < 1 {
		depth = 1
	}
	w := &httpWorker{sh: sh, rec: rec, proto: p, reqs: reqs, addr: addr, tls: tc, next: offset % len(reqs),
		depth: depth, buf: make([]byte, 64<<10), out: make([]byte, 0, 4096), locBuf: make([]byte, 0, 512),
		conns: make([]net.Conn, len(sh.cdn.Services))}
	if tc != nil {
		// One client configuration per service, built once.
		w.tlsc = make([]*tls.Config, len(sh.cdn.Services))
		for _, r := range reqs {
			if w.tlsc[r.svc] == nil {
				c := tc.Clone()
				c.ServerName = r.host
				w.tlsc[r.svc] = c
			}
		}
	}
	return w
}

func (w *httpWorker) close() {
	for i, c := range w.conns {
		if c != nil {
			c.Close()
			w.conns[i] = nil
		}
	}
}

func (w *httpWorker) connFor(svc int32) (net.Conn, int, error) {
	k := 0
	if w.tls != nil {
		k = int(svc)
	}
	if c := w.conns[k]; c != nil {
		return c, k, nil
	}
	c, err := net.DialTimeout("tcp", w.addr, w.sh.timeout)
	if err != nil {
		return nil, k, err
	}
	if w.tls != nil {
		tc := tls.Client(c, w.tlsc[svc])
		_ = tc.SetDeadline(time.Now().Add(w.sh.timeout))
		if err := tc.Handshake(); err != nil {
			c.Close()
			return nil, k, err
		}
		c = tc
	}
	w.conns[k] = c
	w.off, w.have = 0, 0
	return c, k, nil
}

func (w *httpWorker) one(at int64) {
	t0 := w.sh.now()
	if at < 0 {
		at = t0
	}
	depth := w.depth
	first := w.next
	r := &w.reqs[first]
	c, k, err := w.connFor(r.svc)
	if err != nil {
		w.next = (w.next + 1) % len(w.reqs)
		w.failed(r, err, at)
		return
	}
	// Write depth requests (pipelined on one connection; HTTPS: depth 1).
	w.out = w.out[:0]
	for i := range depth {
		w.out = append(w.out, w.reqs[(first+i)%len(w.reqs)].wire...)
	}
	w.next = (first + depth) % len(w.reqs)
	w.rec.sent(depth)
	_ = c.SetDeadline(time.Now().Add(w.sh.timeout))
	if _, err := c.Write(w.out); err != nil {
		w.drop(k)
		for i := range depth {
			w.failed(&w.reqs[(first+i)%len(w.reqs)], err, at)
		}
		return
	}
	for i := range depth {
		r := &w.reqs[(first+i)%len(w.reqs)]
		status, loc, closeAfter, err := w.readResponse(c)
		lat := w.sh.now() - at
		if err != nil {
			w.drop(k)
			for j := i; j < depth; j++ {
				w.failed(&w.reqs[(first+j)%len(w.reqs)], err, at)
			}
			return
		}
		v := w.sh.cdn.checkRedirect(r, status, loc)
		if v.miss != missNone {
			v = w.miss.http(w.sh.cdn, r, w.proto == ProtoHTTPS, v)
		}
		w.rec.record(v.out, v.why, lat)
		if v.out != outOK && v.out != outMiss && w.sh.s.want(v.out, v.why) {
			w.sh.s.add(v.out, v.why, w.proto, w.sh.cdn.Services[r.svc].XMLID, r.client,
				w.miss.detail(v, fmt.Sprintf("GET %s Host %s: status %d, Location %q", r.path, r.host, status, loc)))
		}
		if closeAfter {
			w.drop(k)
			for j := i + 1; j < depth; j++ {
				w.failed(&w.reqs[(first+j)%len(w.reqs)], errHTTPClosed, at)
			}
			return
		}
	}
}

func (w *httpWorker) drop(k int) {
	if c := w.conns[k]; c != nil {
		c.Close()
		w.conns[k] = nil
	}
	w.off, w.have = 0, 0
}

func (w *httpWorker) failed(r *httpRequest, err error, at int64) {
	o, why := classifyErr(err)
	w.rec.record(o, why, w.sh.now()-at)
	if w.sh.s.want(o, why) {
		w.sh.s.add(o, why, w.proto, w.sh.cdn.Services[r.svc].XMLID, r.client, err.Error())
	}
	if o == outError {
		time.Sleep(10 * time.Millisecond) // a router that is down: do not spin
	}
}

var (
	errHTTPMalformed = errors.New("malformed HTTP response")
	errHTTPTooLarge  = errors.New("HTTP response larger than 16 KiB")
	errHTTPChunked   = errors.New("chunked HTTP response body (not expected from a router redirect)")
	errHTTPClosed    = errors.New("router closed the connection with pipelined requests unanswered")
	crlfcrlf         = []byte("\r\n\r\n")
)

// fill reads more bytes from c, first moving unread bytes to the front.
func (w *httpWorker) fill(c net.Conn) error {
	if w.off > 0 {
		w.have = copy(w.buf, w.buf[w.off:w.have])
		w.off = 0
	}
	if w.have == len(w.buf) {
		return errHTTPTooLarge
	}
	n, err := c.Read(w.buf[w.have:])
	w.have += n
	if err != nil && n == 0 {
		return err
	}
	return nil
}

// readResponse parses the next response. loc aliases the worker's buffer
// and is valid until the next call.
func (w *httpWorker) readResponse(c net.Conn) (status int, loc []byte, closeAfter bool, err error) {
	hdrEnd := -1
	for {
		if i := bytes.Index(w.buf[w.off:w.have], crlfcrlf); i >= 0 {
			hdrEnd = w.off + i + 4
			break
		}
		if err := w.fill(c); err != nil {
			return 0, nil, false, err
		}
	}
	h := w.buf[w.off:hdrEnd]
	if len(h) < 12 || !bytes.HasPrefix(h, []byte("HTTP/1.")) || h[8] != ' ' {
		return 0, nil, false, errHTTPMalformed
	}
	for _, d := range h[9:12] {
		if d < '0' || d > '9' {
			return 0, nil, false, errHTTPMalformed
		}
		status = status*10 + int(d-'0')
	}
	clen := 0
	line := h[bytes.IndexByte(h, '\n')+1:]
	for len(line) > 2 {
		e := bytes.IndexByte(line, '\n')
		if e < 0 {
			break
		}
		l := bytes.TrimRight(line[:e], "\r")
		line = line[e+1:]
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 {
			continue
		}
		name, val := l[:colon], bytes.TrimSpace(l[colon+1:])
		switch {
		case asciiEqualFold(name, "location"):
			loc = val
		case asciiEqualFold(name, "content-length"):
			clen = 0
			for _, d := range val {
				if d < '0' || d > '9' || clen > 1<<30 {
					return 0, nil, false, errHTTPMalformed
				}
				clen = clen*10 + int(d-'0')
			}
		case asciiEqualFold(name, "connection"):
			closeAfter = asciiEqualFold(val, "close")
		case asciiEqualFold(name, "transfer-encoding"):
			return 0, nil, false, errHTTPChunked
		}
	}
	if hdrEnd-w.off+clen > len(w.buf) {
		return 0, nil, false, errHTTPTooLarge
	}
	// The body must be in the buffer before the next response is parsed;
	// reading it may move the header, so the header is checked first and
	// loc is only valid while nothing is read.
	if w.have-hdrEnd >= clen {
		w.off = hdrEnd + clen
		return status, loc, closeAfter, nil
	}
	// Copy what the caller needs (status is a value; Location is copied
	// into locBuf) and read the rest of the body.
	w.locBuf = append(w.locBuf[:0], loc...)
	need := clen - (w.have - hdrEnd)
	w.off = w.have
	for need > 0 {
		if err := w.fill(c); err != nil {
			return 0, nil, false, err
		}
		take := min(need, w.have-w.off)
		w.off += take
		need -= take
	}
	return status, w.locBuf, closeAfter, nil
}

// asciiEqualFold reports whether b equals the lower-case ASCII s, ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
