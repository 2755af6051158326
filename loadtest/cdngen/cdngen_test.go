package cdngen

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/czf"
	"github.com/signpost-cdn/signpost/geo"
)

func mustScale(t testing.TB, name string) Options {
	t.Helper()
	o, err := Scale(name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestScalePresets(t *testing.T) {
	large := mustScale(t, "large")
	if large.DeliveryServices != 2000 || large.Caches != 10000 || large.CacheGroups != 1000 ||
		large.CoverageZonePrefixes != 200000 || large.GeoNetworks != 500000 {
		t.Errorf("large = %+v", large)
	}
	medium := mustScale(t, "medium")
	if medium.DeliveryServices*10 != large.DeliveryServices || medium.Caches*10 != large.Caches ||
		medium.CacheGroups*10 != large.CacheGroups || medium.CoverageZonePrefixes*10 != large.CoverageZonePrefixes {
		t.Errorf("medium is not a tenth of large: %+v", medium)
	}
	small := mustScale(t, "small")
	// About Traffic Router's fixture: 24 delivery services, 9 edge locations.
	if small.DeliveryServices != 24 || small.CacheGroups != 9 {
		t.Errorf("small = %+v", small)
	}
	for _, n := range ScaleNames() {
		mustScale(t, n)
	}
	if _, err := Scale("huge"); err == nil || !strings.Contains(err.Error(), `"huge"`) {
		t.Errorf("Scale(huge) error = %v", err)
	}
}

func TestInvalidOptionsListsEveryProblem(t *testing.T) {
	_, err := Write(t.TempDir(), Options{
		DeliveryServices: 0, Caches: 5, CacheGroups: 10, DNSShare: 1.5,
		UnavailableShare: 1, Domain: "bad_domain", GeoNetworks: -1,
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"DeliveryServices 0", "Caches 5", "DNSShare 1.5", "UnavailableShare 1", `Domain "bad_domain"`, "GeoNetworks -1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	o := mustScale(t, "small")
	o.DNSShare, o.SteeringServices = 1, 2
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "needs at least 2 HTTP") {
		t.Errorf("steering without HTTP targets: %v", err)
	}
}

// loaded is a generated directory loaded through the router's parsers.
type loaded struct {
	sum      *Summary
	snap     *control.Snapshot
	states   *control.CrStates
	cz, dcz  *czf.Table
	city     *geo.City
	steering *control.Steering
	feds     *control.Federations
	clients  *Clients
	tls      *control.TLSKeys
	ca       []byte
}

func load(t *testing.T, dir string, sum *Summary) *loaded {
	t.Helper()
	problems, err := control.ValidatePath(dir)
	if err != nil || len(problems) > 0 {
		for i, p := range problems {
			if i == 20 {
				break
			}
			t.Errorf("problem: %s", p)
		}
		t.Fatalf("ValidatePath: %d problems, err %v", len(problems), err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	l := &loaded{sum: sum}
	var errs [8]error
	l.snap, errs[0] = control.ParseSnapshot(control.FileSnapshot, read(control.FileSnapshot))
	l.states, errs[1] = control.ParseCrStates(control.FileHealth, read(control.FileHealth))
	l.cz, errs[2] = czf.Parse(control.FileCoverageZones, read(control.FileCoverageZones))
	l.dcz, errs[3] = czf.ParseDeep(control.FileDeepCoverageZones, read(control.FileDeepCoverageZones))
	l.city, errs[4] = geo.LoadCity(control.FileGeo, read(control.FileGeo))
	l.steering, errs[5] = control.ParseSteering(control.FileSteering, read(control.FileSteering))
	l.feds, errs[6] = control.ParseFederations(control.FileFederations, read(control.FileFederations))
	l.clients, errs[7] = ReadClients(dir)
	var err2 error
	if l.tls, err2 = control.ParseTLSKeys(control.FileTLSKeys, read(control.FileTLSKeys)); err2 != nil {
		t.Fatal(err2)
	}
	l.ca = read(FileCA)
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return l
}

func TestSmallAndMediumLoad(t *testing.T) {
	for _, scale := range []string{"small", "medium"} {
		t.Run(scale, func(t *testing.T) {
			if scale == "medium" && testing.Short() {
				t.Skip("short")
			}
			o := mustScale(t, scale)
			dir := t.TempDir()
			sum, err := Write(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d bytes in %v; %+v", scale, sum.Bytes(), sum.Elapsed, sum.Files)
			l := load(t, dir, sum)
			checkShape(t, l)
			checkClients(t, l)
		})
	}
}

// checkShape compares the loaded datasets with the options and checks the
// deployment: every regular delivery service has caches in GroupsPerDS
// cache groups (all of them for global ones), every cache serves a strict
// subset of the delivery services.
func checkShape(t *testing.T, l *loaded) {
	t.Helper()
	o, s := l.sum.Options, l.snap
	if len(s.DeliveryServices) != o.DeliveryServices || len(s.ContentServers) != o.Caches ||
		len(s.EdgeLocations) != o.CacheGroups || len(s.ContentRouters) != o.Routers {
		t.Errorf("snapshot has %d DS, %d caches, %d groups, %d routers; options %+v",
			len(s.DeliveryServices), len(s.ContentServers), len(s.EdgeLocations), len(s.ContentRouters), o)
	}
	if s.Config.DomainName != o.Domain {
		t.Errorf("domain_name %q", s.Config.DomainName)
	}
	online := 0
	for _, m := range s.Monitors {
		if m.Status == "ONLINE" {
			online++
		}
	}
	if online != 1 {
		t.Errorf("%d ONLINE monitors", online)
	}
	groups := map[string]map[string]bool{} // ds -> cache groups
	for _, c := range s.ContentServers {
		if !c.Known || c.HashCount != 999 || !c.IP.IsValid() || !c.IP6.IsValid() {
			t.Errorf("cache %s: %+v", c.ID, c)
		}
		if len(c.DeliveryServices) == 0 || len(c.DeliveryServices) >= l.sum.DeliveryServices-l.sum.SteeringServices {
			t.Errorf("cache %s serves %d delivery services", c.ID, len(c.DeliveryServices))
		}
		for _, ref := range c.DeliveryServices {
			ds, ok := s.DeliveryService(ref.XMLID)
			if !ok {
				t.Fatalf("cache %s: unknown DS %s", c.ID, ref.XMLID)
			}
			want := c.ID + "." + ds.Domains[0]
			if ds.IsDNS {
				want = ds.RoutingName + "." + ds.Domains[0]
			}
			if ref.FQDN != want {
				t.Errorf("cache %s DS %s reference %q, want %q", c.ID, ref.XMLID, ref.FQDN, want)
			}
			if groups[ref.XMLID] == nil {
				groups[ref.XMLID] = map[string]bool{}
			}
			groups[ref.XMLID][c.LocationID] = true
		}
	}
	var kinds [4]int
	for i, ds := range s.DeliveryServices {
		want := o.GroupsPerDS
		if i%50 == 0 {
			want = o.CacheGroups
		}
		steer := i >= o.DeliveryServices-o.SteeringServices
		if steer {
			want = 0
			if _, ok := l.steering.Entry(ds.ID); !ok {
				t.Errorf("steering DS %s not in steering.json", ds.ID)
			}
		}
		if len(groups[ds.ID]) != want {
			t.Errorf("DS %s has caches in %d cache groups, want %d", ds.ID, len(groups[ds.ID]), want)
		}
		switch {
		case steer:
			kinds[2]++
		case ds.IsDNS:
			kinds[1]++
			if ds.MaxDNSIPsForLocation == 0 {
				t.Errorf("DNS DS %s without maxDnsIpsForLocation", ds.ID)
			}
		default:
			kinds[0]++
			if ds.Protocol.AcceptHTTPS {
				kinds[3]++
			}
		}
	}
	if kinds[0] != l.sum.HTTPDeliveryServices || kinds[1] != l.sum.DNSDeliveryServices ||
		kinds[2] != l.sum.SteeringServices || kinds[3] != l.sum.HTTPSDeliveryServices || kinds[1] == 0 || kinds[3] == 0 {
		t.Errorf("kinds %v, summary %+v", kinds, l.sum)
	}
	down := 0
	for _, c := range l.states.Caches {
		if !c.IsAvailable {
			down++
		}
	}
	if down == 0 || down != l.sum.UnavailableCaches || down > o.Caches/10+1 {
		t.Errorf("%d unavailable caches, summary %d", down, l.sum.UnavailableCaches)
	}
	st := l.cz.Stats()
	if st.Zones != o.CacheGroups || st.Prefixes4+st.Prefixes6 != o.CoverageZonePrefixes || st.Duplicates != 0 || st.Prefixes6 == 0 {
		t.Errorf("czmap stats %+v", st)
	}
	if l.dcz.Len() != o.DeepZones {
		t.Errorf("%d deep zones", l.dcz.Len())
	}
	for i := range l.dcz.Len() {
		for _, c := range l.dcz.Zone(i).Caches {
			if _, ok := s.ContentServer(c); !ok {
				t.Errorf("deep zone cache %s not in the snapshot", c)
			}
		}
	}
	if len(l.steering.Entries) != o.SteeringServices || len(l.feds.Entries) != o.Federations {
		t.Errorf("%d steering entries, %d federations", len(l.steering.Entries), len(l.feds.Entries))
	}
	if md := l.city.Metadata(); md.Records == 0 {
		t.Errorf("geo metadata %+v", md)
	}
	checkTLS(t, l)
}

// checkTLS checks that every HTTP delivery service accepting HTTPS has a
// certificate for its routing name chaining to loadtest-ca.pem.
func checkTLS(t *testing.T, l *loaded) {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(l.ca) {
		t.Fatal("loadtest-ca.pem holds no certificate")
	}
	if len(l.tls.Entries) != l.sum.HTTPSDeliveryServices || len(l.tls.Rejected) != 0 || len(l.tls.Warnings) != 0 {
		t.Errorf("sslkeys.json: %d entries, %d rejected, %d warnings; want %d", len(l.tls.Entries), len(l.tls.Rejected), len(l.tls.Warnings), l.sum.HTTPSDeliveryServices)
	}
	for _, ds := range l.snap.DeliveryServices {
		if ds.IsDNS || !ds.Protocol.AcceptHTTPS {
			continue
		}
		k, ok := l.tls.Key(ds.ID)
		if !ok {
			t.Errorf("HTTPS DS %s has no certificate", ds.ID)
			continue
		}
		leaf := k.Certificate.Leaf
		inter := x509.NewCertPool()
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:       ds.RoutingName + "." + ds.Domains[0],
			Roots:         pool,
			Intermediates: inter,
			CurrentTime:   time.Unix(l.snap.Stats.Date, 0),
		})
		if err != nil {
			t.Errorf("DS %s certificate: %v", ds.ID, err)
		}
	}
}

// checkClients checks every client population against the loaded tables.
func checkClients(t *testing.T, l *loaded) {
	t.Helper()
	c, o := l.clients, l.sum.Options
	if len(c.DeliveryServices) != o.DeliveryServices || len(c.CoverageZone) != o.Clients ||
		len(c.GeoOnly) != o.Clients || len(c.Miss) == 0 || len(c.DeepCoverageZone) == 0 ||
		len(c.Federation) != 2*o.Federations {
		t.Fatalf("client counts: ds %d cz %d deep %d geo %d miss %d fed %d", len(c.DeliveryServices),
			len(c.CoverageZone), len(c.DeepCoverageZone), len(c.GeoOnly), len(c.Miss), len(c.Federation))
	}
	for _, d := range c.DeliveryServices {
		ds, ok := l.snap.DeliveryService(d.XMLID)
		if !ok || d.FQDN != ds.RoutingName+"."+ds.Domains[0] {
			t.Errorf("client DS %+v does not match the snapshot", d)
		}
	}
	zoneOf := func(tab *czf.Table, c ZoneClient) string {
		if i, ok := tab.Lookup(c.Addr); ok {
			return tab.Zone(i).Name
		}
		return ""
	}
	v6 := 0
	for _, cl := range c.CoverageZone {
		if got := zoneOf(l.cz, cl); got != cl.Zone || cl.Zone != cl.CacheGroup {
			t.Errorf("coverage client %+v: zone %q", cl, got)
		}
		if _, ok := l.snap.EdgeLocation(cl.Zone); !ok {
			t.Errorf("coverage client %+v: zone is not a cache group", cl)
		}
		if cl.Addr.Is6() {
			v6++
		}
	}
	if v6 == 0 {
		t.Error("no IPv6 coverage zone clients")
	}
	for _, cl := range c.DeepCoverageZone {
		if got := zoneOf(l.dcz, cl); got != cl.Zone {
			t.Errorf("deep client %+v: deep zone %q", cl, got)
		}
		if got := zoneOf(l.cz, ZoneClient{Addr: cl.Addr}); got != cl.CacheGroup {
			t.Errorf("deep client %+v: coverage zone %q", cl, got)
		}
	}
	defaults := 0
	for _, cl := range c.GeoOnly {
		if _, ok := l.cz.Lookup(cl.Addr); ok {
			t.Errorf("geo client %v is in a coverage zone", cl.Addr)
		}
		loc, ok := l.city.Lookup(cl.Addr)
		if !ok || loc.CountryCode != cl.Country || loc.IsDefault != cl.Default || (!loc.IsDefault && (loc.City == "" || loc.PostalCode == "")) || loc.CountryName == "" {
			t.Errorf("geo client %+v: lookup %+v, %v", cl, loc, ok)
		}
		if cl.Default {
			defaults++
		}
	}
	if defaults == 0 && o.Clients >= 200 {
		t.Error("no default-location geo clients")
	}
	for _, a := range c.Miss {
		_, inCZ := l.cz.Lookup(a)
		_, inDeep := l.dcz.Lookup(a)
		_, inGeo := l.city.Lookup(a)
		if inCZ || inDeep || inGeo {
			t.Errorf("miss client %v: cz %v deep %v geo %v", a, inCZ, inDeep, inGeo)
		}
	}
	for _, f := range c.Federation {
		m, ok := l.feds.Lookup(f.DeliveryService, f.Addr)
		if !ok || m.CNAME != f.CNAME {
			t.Errorf("federation client %+v: %+v %v", f, m, ok)
		}
		if _, ok := l.cz.Lookup(f.Addr); ok {
			t.Errorf("federation client %v is in a coverage zone", f.Addr)
		}
	}
}

func TestDeterministic(t *testing.T) {
	o := mustScale(t, "small")
	d1, d2 := t.TempDir(), t.TempDir()
	s1, err := Write(d1, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(d2, o); err != nil {
		t.Fatal(err)
	}
	mem, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(mem) != len(s1.Files) {
		t.Errorf("Generate returned %d files, Write wrote %d", len(mem), len(s1.Files))
	}
	for _, f := range s1.Files {
		b1, err1 := os.ReadFile(filepath.Join(d1, f.Name))
		b2, err2 := os.ReadFile(filepath.Join(d2, f.Name))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("%s differs between two runs", f.Name)
		}
		if !bytes.Equal(b1, mem[f.Name]) {
			t.Errorf("%s differs between Write and Generate", f.Name)
		}
		if int64(len(b1)) != f.Bytes {
			t.Errorf("%s: summary says %d bytes, file has %d", f.Name, f.Bytes, len(b1))
		}
	}
	if str := s1.String(); !strings.Contains(str, "crconfig.json") || !strings.Contains(str, "delivery services 24") {
		t.Errorf("Summary.String() = %q", str)
	}
	entries, _ := os.ReadDir(d1)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	o.Seed = 2
	other, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{control.FileSnapshot, control.FileCoverageZones, control.FileGeo, FileClients, control.FileTLSKeys} {
		if bytes.Equal(other[name], mem[name]) {
			t.Errorf("%s identical for seeds 1 and 2", name)
		}
	}
}

// TestGenerateRouterBenchShape generates, in memory, the snapshot router
// benchmarks build tables from: 1,000 delivery services, 5,000 caches in
// 500 cache groups.
func TestGenerateRouterBenchShape(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	o := mustScale(t, "medium")
	o.DeliveryServices, o.Caches, o.CacheGroups = 1000, 5000, 500
	files, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := control.ParseSnapshot(control.FileSnapshot, files[control.FileSnapshot])
	if err != nil {
		t.Fatal(err)
	}
	if len(s.DeliveryServices) != 1000 || len(s.ContentServers) != 5000 || len(s.EdgeLocations) != 500 || len(s.Warnings) != 0 {
		t.Errorf("%d DS, %d caches, %d groups, %d warnings", len(s.DeliveryServices), len(s.ContentServers), len(s.EdgeLocations), len(s.Warnings))
	}
	t.Logf("crconfig.json %d bytes", len(files[control.FileSnapshot]))
}

// TestAddressPlanLimitsFit plans the largest counts normalize accepts and
// checks they fit their address regions.
func TestAddressPlanLimitsFit(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	o := Options{Seed: 7, DeliveryServices: 1, Caches: 1, CacheGroups: 1,
		CoverageZonePrefixes: maxPrefixes, GeoNetworks: maxGeoNetworks}
	p := newPlan(mustNormalize(t, o))
	if p.err != nil {
		t.Fatalf("limits do not fit: %v", p.err)
	}
	o.CacheGroups, o.Caches = 1000, 1000
	if p := newPlan(mustNormalize(t, o)); p.err != nil {
		t.Fatalf("limits do not fit: %v", p.err)
	}
	tiny := allocator{next: 0, end: 4 * unit4, unit: unit4, width: 32}
	tiny.take(24)
	tiny.take(22)
	if !tiny.full {
		t.Error("allocator did not report a full region")
	}
}

func mustNormalize(t *testing.T, o Options) Options {
	t.Helper()
	o, err := o.normalize()
	if err != nil {
		t.Fatal(err)
	}
	return o
}
