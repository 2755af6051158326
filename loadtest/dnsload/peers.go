package dnsload

import (
	"bytes"
	"fmt"
	"path/filepath"
)

// knotConf is Knot DNS's configuration as BENCHMARKING.md gives it: loopback,
// one UDP and one TCP worker, the static zone without journal.
func (p *plan) knotConf() []byte {
	d := filepath.Join(p.dir, "knot")
	var b bytes.Buffer
	fmt.Fprintf(&b, `server:
    listen: 127.0.0.1@%d
    rundir: %s/run
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: %s/db
log:
  - target: stderr
    any: warning
zone:
  - domain: %s
    file: %s/zones/%s.zone
    journal-content: none
    zonefile-sync: -1
`, p.o.KnotPort, d, d, StaticZone, d, StaticZone)
	return b.Bytes()
}

// zoneHead is the SOA and NS of a zone as signpost serves them: one content
// router, named tr0.<CDN domain> (outside the zone, so no glue).
func zoneHead(b *bytes.Buffer, origin string) {
	fmt.Fprintf(b, "$ORIGIN %s.\n$TTL %d\n", origin, answerTTL)
	fmt.Fprintf(b, "@ 300 IN SOA %s.%s. hostmaster.%s. 1 7200 3600 1209600 300\n", routerName, Domain, origin)
	fmt.Fprintf(b, "@ 3600 IN NS %s.%s.\n", routerName, Domain)
}

// staticZone is Knot's copy of the static delivery service's entries.
func (p *plan) staticZone() []byte {
	var b bytes.Buffer
	zoneHead(&b, StaticZone)
	b.WriteString("www IN A 192.0.2.10\nimg IN A 192.0.2.11\n")
	for i := range p.o.StaticNames {
		fmt.Fprintf(&b, "h%d IN A %s\n", i, staticAddr4(i))
		if i%4 == 0 {
			fmt.Fprintf(&b, "h%d IN AAAA %s\n", i, staticAddr6(i))
		}
	}
	return b.Bytes()
}

// gdnsdConfig is the geo instance: the geoip plugin with a nets map of the
// coverage zone /24s over one datacenter per cache group, no GeoIP database.
func (p *plan) gdnsdConfig() []byte {
	d := filepath.Join(p.dir, "gdnsd")
	var b bytes.Buffer
	fmt.Fprintf(&b, `options => {
  listen => [ 127.0.0.1:%d ]
  udp_threads => 1
  tcp_threads => 1
  run_dir => %s/run
  state_dir => %s/state
}
plugins => {
  geoip => {
    maps => {
      czmap => {
        datacenters => [`, p.o.GdnsdPort, d, d)
	for g := range p.o.Groups {
		fmt.Fprintf(&b, " %s", groupName(g))
	}
	b.WriteString(" ]\n        nets => {\n")
	for _, n := range p.nets {
		fmt.Fprintf(&b, "          %s => [ %s ]\n", n.prefix, groupName(n.group))
	}
	fmt.Fprintf(&b, "          127.0.0.0/8 => [ %s ]\n", groupName(loopbackGroup%p.o.Groups))
	fmt.Fprintf(&b, "          0.0.0.0/0 => [ %s ]\n", groupName(0))
	b.WriteString("        }\n      }\n    }\n    resources => {\n      edge => {\n        map => czmap\n        dcmap => {\n")
	for g := range p.o.Groups {
		fmt.Fprintf(&b, "          %s => %s\n", groupName(g), cacheAddr(g))
	}
	b.WriteString("        }\n      }\n    }\n  }\n}\n")
	return b.Bytes()
}

// geoZone is gdnsd's zone with the routed name as a DYNA record.
func (p *plan) geoZone() []byte {
	var b bytes.Buffer
	zoneHead(&b, GeoZone)
	b.WriteString("edge DYNA geoip!edge\n")
	return b.Bytes()
}
