package httpserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/router"
)

// tableData is what the HTTP server derives from one routing table: built
// by Publish, immutable, swapped with one pointer store.
type tableData struct {
	table *router.Table
	// certs maps a certificate alias (hostname without "*.", lower case)
	// to its certificate.
	certs map[string]*tls.Certificate
	// sslReady[ds] is true when the delivery service is sslEnabled and has
	// a usable certificate (spec 7.4.1).
	sslReady []bool
	// tls is the certificate state of every sslEnabled delivery service.
	tls []TLSStatus
	// anon is the anonymous IP blocker (nil when the feature is off).
	anon *router.AnonymousBlocker
	// regional is the regional geo-blocking rule set (nil when absent).
	regional *control.RegionalGeoblock
	// logHeaders[ds] are the request headers to log for the service: the
	// config's requestHeaders and the service's, without duplicates.
	logHeaders [][]string
	// strip is config strip.special.query.params.
	strip bool
	// tallies are the /crs/stats counters, one per delivery service.
	tallies []dsTally
	// published is when Publish built this data.
	published time.Time
}

// TLSStatus is the certificate state of one sslEnabled delivery service,
// as /crs/certificates reports it.
type TLSStatus struct {
	DeliveryService string    `json:"deliveryService"`
	Hostname        string    `json:"hostname,omitempty"`
	State           string    `json:"state"` // "ok", "missing" or "rejected"
	Reason          string    `json:"reason,omitempty"`
	NotAfter        time.Time `json:"notAfter,omitzero"`
}

// Publish rebuilds the per-table data (SNI certificates, anonymous and
// regional geo rules, logged headers) for t and makes it current. Call it
// after every router publish. Certificate problems do not fail it: a
// delivery service without a usable certificate keeps routing, redirecting
// to http://, and the reason is logged and shown at /crs/certificates.
func (s *Server) Publish(t *router.Table) error {
	if t == nil {
		return errors.New("httpserver: Publish: nil table")
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	prev := s.data.Load()
	d := buildTableData(t)
	for _, st := range d.tls {
		if st.State == "ok" {
			continue
		}
		if prev != nil && prev.tlsState(st.DeliveryService) == st {
			continue
		}
		s.log.Warn("httpserver: delivery service has no usable certificate; HTTPS redirects fall back to http://",
			"deliveryService", st.DeliveryService, "state", st.State, "reason", st.Reason, "generation", t.Generation)
	}
	s.data.Store(d)
	s.once.Do(func() { close(s.ready) })
	return nil
}

func (d *tableData) tlsState(ds string) TLSStatus {
	for _, st := range d.tls {
		if st.DeliveryService == ds {
			return st
		}
	}
	return TLSStatus{}
}

func buildTableData(t *router.Table) *tableData {
	set := t.Set
	dss := t.DeliveryServices()
	d := &tableData{
		table:      t,
		certs:      map[string]*tls.Certificate{},
		sslReady:   make([]bool, len(dss)),
		logHeaders: make([][]string, len(dss)),
		tallies:    make([]dsTally, len(dss)),
		published:  time.Now(),
	}
	var keys *control.TLSKeys
	if set != nil {
		keys = set.TLSKeys
		d.anon = router.NewAnonymousBlocker(set)
		d.regional = set.RegionalGeoblock
	}
	if keys != nil {
		for i := range keys.Entries {
			k := &keys.Entries[i]
			if _, dup := d.certs[k.Alias]; !dup {
				d.certs[k.Alias] = k.Certificate
			}
		}
	}
	snap := t.Snapshot()
	if snap != nil {
		d.strip = snap.Config.StripSpecialQueryParams
	}
	for i := range dss {
		ds := &dss[i]
		var names []string
		if snap != nil {
			names = appendUnique(names, snap.Config.RequestHeaders)
		}
		d.logHeaders[i] = appendUnique(names, ds.RequestHeaders)
		if !ds.SSLEnabled {
			continue
		}
		st := TLSStatus{DeliveryService: ds.ID, State: "missing", Reason: "no entry in sslkeys.json"}
		if keys == nil {
			st.Reason = "no sslkeys.json"
		} else if k, ok := keys.Key(ds.ID); ok {
			st.State, st.Reason, st.Hostname = "ok", "", k.Hostname
			if k.Certificate.Leaf != nil {
				st.NotAfter = k.Certificate.Leaf.NotAfter
			}
			d.sslReady[i] = true
		} else if r, ok := keys.Rejection(ds.ID); ok {
			st.State, st.Hostname = "rejected", r.Hostname
			st.Reason = fmt.Sprintf("%s: %s", r.Path, r.Reason)
		}
		d.tls = append(d.tls, st)
	}
	return d
}

func appendUnique(dst, names []string) []string {
	for _, n := range names {
		dup := false
		for _, h := range dst {
			if strings.EqualFold(h, n) {
				dup = true
				break
			}
		}
		if !dup && n != "" {
			dst = append(dst, n)
		}
	}
	return dst
}

// getCertificate selects the certificate by SNI (spec 7.10): the alias
// equal to the name, else the alias equal to the name minus its first
// label. Without a match the handshake fails.
func (s *Server) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	d := s.data.Load()
	if d == nil {
		return nil, errors.New("no routing table yet")
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name == "" {
		return nil, errors.New("no SNI server name")
	}
	if c, ok := d.certs[name]; ok {
		return c, nil
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		if c, ok := d.certs[name[i+1:]]; ok {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no certificate for server name %q", name)
}
