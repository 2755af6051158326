package loadtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// shared is what every worker of a run reads.
type shared struct {
	cdn     *CDN
	s       *sampler
	start   time.Time
	timeout time.Duration
}

func (sh *shared) now() int64 { return int64(time.Since(sh.start)) }

// tcpWorker sends DNS queries over one TCP connection, one at a time,
// redialling after an error.
type tcpWorker struct {
	sh      *shared
	rec     *recorder
	addr    string
	queries []dnsQuery
	conn    net.Conn
	next    int
	id      uint16
	out     []byte
	in      []byte
	miss    missCheck
}

func newTCPWorker(sh *shared, rec *recorder, addr string, queries []dnsQuery, offset int) *tcpWorker {
	return &tcpWorker{sh: sh, rec: rec, addr: addr, queries: queries, next: offset % len(queries),
		out: make([]byte, 2+512), in: make([]byte, 65535)}
}

func (w *tcpWorker) close() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *tcpWorker) one(at int64) {
	q := &w.queries[w.next]
	w.next++
	if w.next == len(w.queries) {
		w.next = 0
	}
	t0 := w.sh.now()
	if at < 0 {
		at = t0
	}
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.addr, w.sh.timeout)
		if err != nil {
			w.fail(q, err, at)
			return
		}
		w.conn = c
	}
	w.id++
	n := len(q.wire)
	binary.BigEndian.PutUint16(w.out, uint16(n))
	copy(w.out[2:], q.wire)
	w.out[2], w.out[3] = byte(w.id>>8), byte(w.id)
	_ = w.conn.SetDeadline(time.Now().Add(w.sh.timeout))
	if _, err := w.conn.Write(w.out[:2+n]); err != nil {
		w.fail(q, err, at)
		return
	}
	if _, err := io.ReadFull(w.conn, w.in[:2]); err != nil {
		w.fail(q, err, at)
		return
	}
	m := int(binary.BigEndian.Uint16(w.in))
	if _, err := io.ReadFull(w.conn, w.in[:m]); err != nil {
		w.fail(q, err, at)
		return
	}
	msg := w.in[:m]
	lat := w.sh.now() - at
	v := verdict{out: outError, why: reasonMalformed}
	if m >= 12 && msg[0] == byte(w.id>>8) && msg[1] == byte(w.id) {
		v = w.sh.cdn.checkDNS(q, msg)
	}
	if v.miss != missNone {
		var src netip.Addr
		if a, ok := w.conn.LocalAddr().(*net.TCPAddr); ok {
			src = a.AddrPort().Addr()
		}
		v = w.miss.dns(w.sh.cdn, q, src, v)
	}
	w.rec.record(v.out, v.why, lat)
	w.rec.sent(1)
	if v.out != outOK && v.out != outMiss {
		if v.why == reasonMalformed {
			w.close() // the stream is out of step
		}
		if w.sh.s.want(v.out, v.why) {
			w.sh.s.add(v.out, v.why, ProtoDNSTCP, w.sh.cdn.Services[q.svc].XMLID, q.client.addr.String(), w.miss.detail(v, dnsDetail(q, v, msg)))
		}
	}
}

func (w *tcpWorker) fail(q *dnsQuery, err error, at int64) {
	w.close()
	o, why := classifyErr(err)
	w.rec.record(o, why, w.sh.now()-at)
	w.rec.sent(1)
	if w.sh.s.want(o, why) {
		w.sh.s.add(o, why, ProtoDNSTCP, w.sh.cdn.Services[q.svc].XMLID, q.client.addr.String(), err.Error())
	}
	if o == outError {
		time.Sleep(10 * time.Millisecond) // a router that is down: do not spin
	}
}

// classifyErr maps a transport error to an outcome.
func classifyErr(err error) (outcome, reason) {
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return outTimeout, reasonNone
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var ae tls.AlertError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) ||
		errors.As(err, &rh) || errors.As(err, &ae) || strings.Contains(err.Error(), "tls:") {
		return outError, reasonTLS
	}
	return outError, reasonTransport
}

// dnsDetail describes a bad DNS answer for a sample.
func dnsDetail(q *dnsQuery, v verdict, msg []byte) string {
	qt := "A"
	if q.qtype == 28 {
		qt = "AAAA"
	}
	d := fmt.Sprintf("%s %s (client %s, %s)", q.wireName(), qt, q.client.addr, q.client.pop)
	switch v.why {
	case reasonWrongAddr:
		d += ": answered " + v.bad.String()
	case reasonWrongCNAME:
		if q.client.cname != "" {
			d += ": want CNAME " + q.client.cname
		} else {
			d += ": a CNAME where addresses were expected"
		}
	}
	return fmt.Sprintf("%s (%d-byte response)", d, len(msg))
}

// wireName returns the query name of q in presentation form.
func (q *dnsQuery) wireName() string {
	var buf [256]byte
	n := readName(q.wire, 12, buf[:])
	if n < 0 {
		return "?"
	}
	return string(buf[:n])
}
