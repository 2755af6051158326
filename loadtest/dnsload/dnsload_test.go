package dnsload

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/czf"
)

func small() Options {
	o := Defaults()
	o.Prefixes, o.StaticNames, o.MixQueries, o.ECSQueries = 300, 40, 2000, 500
	return o
}

func TestWriteValidatesAndIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	names, err := Write(dir, small())
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 10 {
		t.Errorf("wrote %d files: %v", len(names), names)
	}
	problems, err := control.ValidatePath(filepath.Join(dir, "signpost"))
	if err != nil || len(problems) > 0 {
		t.Fatalf("snapshot directory: err %v, problems %v", err, problems)
	}
	for _, d := range []string{"knot/run", "knot/db", "gdnsd/run", "gdnsd/state"} {
		if fi, err := os.Stat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: not a directory (%v)", d, err)
		}
	}
	a, err := Generate("/x", small())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate("/x", small())
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	o := small()
	o.Seed = 2
	c, _ := Generate("/x", o)
	if bytes.Equal(a["signpost/czmap.json"], c["signpost/czmap.json"]) {
		t.Error("another seed gave the same czmap.json")
	}
}

// gdnsdNets reads the "10.x.y.0/24 => [ dcN ]" lines of the gdnsd config.
func gdnsdNets(t *testing.T, config []byte) map[netip.Prefix]string {
	t.Helper()
	nets := map[netip.Prefix]string{}
	sc := bufio.NewScanner(bytes.NewReader(config))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 || f[1] != "=>" || f[2] != "[" {
			continue
		}
		if p, err := netip.ParsePrefix(f[0]); err == nil {
			nets[p] = f[3]
		}
	}
	return nets
}

// TestCoverageAgrees checks that signpost's coverage zone file and gdnsd's
// nets map send every /24 (and loopback) to the same group, and that the
// group's cache answers with the address gdnsd's dcmap gives.
func TestCoverageAgrees(t *testing.T) {
	o := small()
	files, err := Generate("/bench", o)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := czf.Parse("czmap.json", files["signpost/czmap.json"])
	if err != nil {
		t.Fatal(err)
	}
	nets := gdnsdNets(t, files["gdnsd/config"])
	if len(nets) != o.Prefixes+2 {
		t.Fatalf("gdnsd nets: %d entries, want %d", len(nets), o.Prefixes+2)
	}
	for p, dc := range nets {
		if p.Bits() == 0 {
			continue
		}
		zi, ok := tbl.Lookup(p.Addr())
		if !ok || tbl.Zone(zi).Name != dc {
			t.Errorf("%s: gdnsd %s, czmap zone %d (%v)", p, dc, zi, ok)
		}
	}
	cfg := string(files["gdnsd/config"])
	for g := range o.Groups {
		if want := groupName(g) + " => " + cacheAddr(g).String(); !strings.Contains(cfg, want) {
			t.Errorf("gdnsd dcmap lacks %q", want)
		}
	}
	crc := string(files["signpost/crconfig.json"])
	for _, want := range []string{`"ecsEnable": "true"`, `"ip": "192.0.2.29"`, `"name": "h39"`} {
		if !strings.Contains(crc, want) {
			t.Errorf("crconfig.json lacks %s", want)
		}
	}
	checks := strings.Split(strings.TrimSpace(string(files["ecs-checks.txt"])), "\n")
	if len(checks) != o.Groups+5 {
		t.Errorf("ecs-checks.txt: %d lines", len(checks))
	}
	for _, line := range checks {
		f := strings.Fields(line)
		dc := nets[netip.MustParsePrefix(f[0])]
		if !strings.Contains(cfg, dc+" => "+f[1]+"\n") {
			t.Errorf("check %q: gdnsd maps it to %s", line, dc)
		}
	}
}

func TestECSQueries(t *testing.T) {
	o := small()
	files, err := Generate("/bench", o)
	if err != nil {
		t.Fatal(err)
	}
	nets := gdnsdNets(t, files["gdnsd/config"])
	data := files["queries-ecs.bin"]
	seen := map[netip.Prefix]bool{}
	n := 0
	for len(data) > 0 {
		l := int(binary.BigEndian.Uint16(data))
		var m dns.Msg
		if err := m.Unpack(data[2 : 2+l]); err != nil {
			t.Fatalf("message %d: %v", n, err)
		}
		data = data[2+l:]
		n++
		if q := m.Question[0]; q.Name != RoutedName+"." || q.Qtype != dns.TypeA {
			t.Fatalf("message %d: question %v", n, q)
		}
		opt := m.IsEdns0()
		if opt == nil || opt.UDPSize() != 1232 || len(opt.Option) != 1 {
			t.Fatalf("message %d: OPT %v", n, opt)
		}
		ecs := opt.Option[0].(*dns.EDNS0_SUBNET)
		a, _ := netip.AddrFromSlice(ecs.Address)
		p := netip.PrefixFrom(a.Unmap(), int(ecs.SourceNetmask))
		if ecs.Family != 1 || ecs.SourceNetmask != 24 || nets[p] == "" {
			t.Fatalf("message %d: ECS %v not a coverage zone /24", n, ecs)
		}
		seen[p] = true
	}
	if n != o.ECSQueries {
		t.Errorf("%d messages, want %d", n, o.ECSQueries)
	}
	if len(seen) < o.Prefixes/2 {
		t.Errorf("only %d distinct subnets in %d queries", len(seen), n)
	}
}

func TestMixQueries(t *testing.T) {
	o := small()
	files, err := Generate("/bench", o)
	if err != nil {
		t.Fatal(err)
	}
	zone := string(files["knot/zones/"+StaticZone+".zone"])
	var nx, aaaa, a int
	for _, line := range strings.Split(strings.TrimSpace(string(files["queries-mix.txt"])), "\n") {
		f := strings.Fields(line)
		label := strings.TrimSuffix(f[0], "."+StaticZone)
		switch {
		case strings.HasPrefix(label, "nx"):
			nx++
		case f[1] == "AAAA":
			aaaa++
			if !strings.Contains(zone, "\n"+label+" IN AAAA ") {
				t.Errorf("%s: no AAAA in the zone", line)
			}
		default:
			a++
			if !strings.Contains(zone, "\n"+label+" IN A ") {
				t.Errorf("%s: no A in the zone", line)
			}
		}
	}
	total := float64(nx + aaaa + a)
	if int(total) != o.MixQueries || float64(nx)/total < 0.08 || float64(nx)/total > 0.12 || float64(aaaa)/total < 0.08 {
		t.Errorf("mix: %d NX, %d AAAA, %d A", nx, aaaa, a)
	}
}

func TestOptionsErrors(t *testing.T) {
	o := Options{Prefixes: 0, Groups: 500, StaticNames: 1, MixQueries: 1, ECSQueries: 1, KnotPort: 70000, GdnsdPort: 1}
	_, err := Generate("/x", o)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Prefixes 0", "Groups 500", "StaticNames 1", "KnotPort 70000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := Generate("relative", Defaults()); err == nil || !strings.Contains(err.Error(), `"relative"`) {
		t.Errorf("relative directory: %v", err)
	}
	o = Defaults()
	o.Prefixes, o.Groups = 5, 10
	if _, err := Generate("/x", o); err == nil || !strings.Contains(err.Error(), "at least Groups") {
		t.Errorf("fewer prefixes than groups: %v", err)
	}
}

func TestMainCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"--out", t.TempDir(), "--prefixes", "50", "--ecs-queries", "10"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "50 /24s over 10 groups") {
		t.Errorf("output %q", out.String())
	}
	if code := Main(nil, &out, &errb); code != 2 {
		t.Errorf("no --out: exit %d", code)
	}
}
