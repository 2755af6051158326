// Package loadtest drives DNS and HTTP/HTTPS load at a router and checks
// every answer against the CDN it was given: a DNS answer must hold
// addresses of caches that serve the delivery service asked for, an HTTP
// redirect must point at such a cache. It records latency in HDR
// histograms, reports progress every second and produces a JSON result,
// a text summary and (package loadtest/report) an HTML report.
//
// The generator's send and receive loops allocate nothing per request
// (see the *_alloc_test.go files); DNS over UDP batches system calls with
// sendmmsg/recvmmsg on Linux and sends runs of equal-sized queries as one
// segmented (UDP GSO) message. Answers without a cache are compared with
// the routing table: where it selects no cache either they are expected
// misses, counted apart from errors.
package loadtest

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/loadtest/cdngen"
	"github.com/signpost-cdn/signpost/router"
)

// CDN is what the harness knows about the CDN under test: the compiled
// routing table (built exactly as the router builds it), the client
// populations of a generated directory, and for every delivery service the
// answers that are correct.
type CDN struct {
	// Dir is the snapshot directory.
	Dir string
	// Table is the routing table built from Dir.
	Table *router.Table
	// Clients are the populations of clients.json; nil when Dir has none
	// (then every request comes from the miss population of
	// DefaultMissClients).
	Clients *cdngen.Clients
	// Services holds one entry per delivery service, in table order.
	Services []Service
	// ECSAll is the snapshot's config ecsEnable.
	ECSAll bool
	// BuildTime is how long loading and building took.
	BuildTime time.Duration

	byID map[string]int
}

// Service is one delivery service with the answers the harness accepts.
type Service struct {
	XMLID string
	// Type is HTTP, DNS, STEERING or CLIENT_STEERING (from the snapshot:
	// DNS when any matchset is DNS, steering types from steering.json).
	Type string
	// FQDN is routingName.<first domain>: the DNS query name and HTTP Host.
	FQDN string
	// AcceptHTTP, AcceptHTTPS and RedirectToHTTPS are the protocol flags.
	AcceptHTTP, AcceptHTTPS, RedirectToHTTPS bool
	// CoverageZoneOnly services refuse clients outside coverage zones.
	CoverageZoneOnly bool
	// ECS is true when the router honours ECS for this service.
	ECS bool
	// IP6 is true when AAAA queries are answered with cache addresses
	// (ip6RoutingEnabled); otherwise an empty AAAA answer is correct.
	IP6 bool
	// Addrs are the addresses of the caches serving the service (for
	// steering services: serving any target), plus DNS bypass addresses.
	Addrs map[netip.Addr]struct{}
	// Hosts are the lower-case redirect hosts accepted: the caches'
	// reference FQDNs for the service (or its targets).
	Hosts map[string]struct{}
	// BypassHosts are the lower-case hosts of the HTTP bypass destinations
	// of the service and, for steering services, of its targets. A
	// redirect there has no cache: it is an expected miss when the
	// routing table, too, answers with the bypass.
	BypassHosts []string
	// Caches is the number of caches serving the service.
	Caches int
}

// Service types.
const (
	TypeHTTP           = "HTTP"
	TypeDNS            = "DNS"
	TypeSteering       = "STEERING"
	TypeClientSteering = "CLIENT_STEERING"
)

// LoadCDN reads a snapshot directory, validates every dataset in it the way
// the router does, builds the routing table and derives the accepted
// answers. An unreadable or invalid directory is an error listing every
// problem (file, JSON path, value).
func LoadCDN(dir string) (*CDN, error) {
	start := time.Now()
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("loadtest: snapshot directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("loadtest: snapshot directory %s: not a directory", dir)
	}
	datasets := map[string]control.Dataset{}
	var problems []control.Problem
	for _, file := range control.Files() {
		data, rerr := os.ReadFile(filepath.Join(dir, file))
		if errors.Is(rerr, os.ErrNotExist) {
			if file == control.FileSnapshot {
				problems = append(problems, control.Problem{File: file, Message: "required file is missing from " + dir})
			}
			continue
		}
		if rerr != nil {
			problems = append(problems, control.Problem{File: file, Message: rerr.Error()})
			continue
		}
		d, perr := control.ParseFile(file, data)
		if perr != nil {
			var ve *control.ValidationError
			if errors.As(perr, &ve) {
				problems = append(problems, ve.Problems...)
			} else {
				problems = append(problems, control.Problem{File: file, Message: perr.Error()})
			}
			continue
		}
		datasets[file] = d
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("loadtest: snapshot directory %s: %w", dir, &control.ValidationError{Problems: problems})
	}
	set := control.Assemble(datasets, 1, time.Now())
	t, err := router.NewBuilder(hashring.MD5, nil).Build(set)
	if err != nil {
		return nil, fmt.Errorf("loadtest: snapshot directory %s: %w", dir, err)
	}
	c := &CDN{Dir: dir, Table: t, ECSAll: set.Snapshot.Config.ECSEnable}
	if _, err := os.Stat(filepath.Join(dir, cdngen.FileClients)); err == nil {
		cl, err := cdngen.ReadClients(dir)
		if err != nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
		c.Clients = cl
	}
	c.derive(set)
	c.BuildTime = time.Since(start)
	return c, nil
}

// derive fills Services from the table.
func (c *CDN) derive(set *control.Set) {
	t := c.Table
	dss := t.DeliveryServices()
	c.Services = make([]Service, len(dss))
	c.byID = make(map[string]int, len(dss))
	steer := map[string]*control.SteeringEntry{}
	if set.Steering != nil {
		for i := range set.Steering.Entries {
			e := &set.Steering.Entries[i]
			steer[e.DeliveryService] = e
		}
	}
	// Caches serving each service.
	addrs := make([]map[netip.Addr]struct{}, len(dss))
	hosts := make([]map[string]struct{}, len(dss))
	counts := make([]int, len(dss))
	for i := range dss {
		addrs[i] = map[netip.Addr]struct{}{}
		hosts[i] = map[string]struct{}{}
	}
	caches := t.Caches()
	for ci := range caches {
		cache := &caches[ci]
		for di := range dss {
			ref, ok := cache.Reference(int32(di))
			if !ok {
				continue
			}
			counts[di]++
			hosts[di][strings.ToLower(ref)] = struct{}{}
			for _, a := range []netip.Addr{cache.IP, cache.IP6} {
				if a.IsValid() {
					addrs[di][a.Unmap()] = struct{}{}
				}
			}
		}
	}
	for i := range dss {
		ds := dss[i].DeliveryService
		s := Service{
			XMLID: ds.ID, Type: TypeHTTP, FQDN: strings.ToLower(ds.RoutingName + "." + ds.Domain()),
			AcceptHTTP: ds.Protocol.AcceptHTTP, AcceptHTTPS: ds.Protocol.AcceptHTTPS,
			RedirectToHTTPS: ds.Protocol.RedirectToHTTPS, CoverageZoneOnly: ds.CoverageZoneOnly,
			ECS: c.ECSAll || ds.ECSEnabled, IP6: ds.IP6RoutingEnabled, Addrs: addrs[i], Hosts: hosts[i], Caches: counts[i],
		}
		if ds.IsDNS {
			s.Type = TypeDNS
		}
		if e, ok := steer[ds.ID]; ok {
			s.Type = TypeSteering
			if e.ClientSteering {
				s.Type = TypeClientSteering
			}
			s.Addrs, s.Hosts = map[netip.Addr]struct{}{}, map[string]struct{}{}
			for _, tg := range e.Targets {
				j, ok := t.DeliveryService(tg.DeliveryService)
				if !ok {
					continue
				}
				for a := range addrs[j.Index] {
					s.Addrs[a] = struct{}{}
				}
				for h := range hosts[j.Index] {
					s.Hosts[h] = struct{}{}
				}
				if b := j.BypassHTTP; b != nil && b.FQDN != "" {
					s.BypassHosts = append(s.BypassHosts, strings.ToLower(strings.TrimSuffix(b.FQDN, ".")))
				}
				s.Caches += counts[j.Index]
			}
		}
		if b := ds.BypassHTTP; b != nil && b.FQDN != "" {
			s.BypassHosts = append(s.BypassHosts, strings.ToLower(strings.TrimSuffix(b.FQDN, ".")))
		}
		if b := ds.BypassDNS; b != nil {
			for _, a := range []netip.Addr{b.IP, b.IP6} {
				if a.IsValid() {
					s.Addrs[a.Unmap()] = struct{}{}
				}
			}
		}
		c.Services[i] = s
		c.byID[ds.ID] = i
	}
}

// Service returns the delivery service with the given xml_id.
func (c *CDN) Service(xmlID string) (*Service, bool) {
	i, ok := c.byID[xmlID]
	if !ok {
		return nil, false
	}
	return &c.Services[i], true
}
