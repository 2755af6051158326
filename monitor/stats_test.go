package monitor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

func TestDecodeAstatsFixture(t *testing.T) {
	body := fixture.Read(t, "monitor/astats.json")
	var s Stats
	if err := s.DecodeJSON(body); err != nil {
		t.Fatal(err)
	}
	// Compare every stat with encoding/json.
	var ref struct {
		ATS    map[string]any `json:"ats"`
		System map[string]any `json:"system"`
	}
	if err := json.Unmarshal(body, &ref); err != nil {
		t.Fatal(err)
	}
	// The fixture repeats some names; the last occurrence is the value.
	last := map[string]int{}
	for i := 0; i < s.Len(); i++ {
		last[string(s.AppendName(nil, i))] = i
	}
	if len(last) != len(ref.ATS)+len(ref.System) {
		t.Fatalf("decoded %d distinct stats, encoding/json %d", len(last), len(ref.ATS)+len(ref.System))
	}
	for name, i := range last {
		want, ok := ref.ATS[name]
		if sys, isSys := strings.CutPrefix(name, "system."); isSys {
			want, ok = ref.System[sys]
		}
		if !ok {
			t.Fatalf("stat %q not in the reference", name)
		}
		switch w := want.(type) {
		case float64:
			if v, _ := s.Num(i); v != w {
				t.Errorf("%s = %v, want %v", name, v, w)
			}
		case string:
			if v := string(s.AppendValue(nil, i)); v != w {
				t.Errorf("%s = %q, want %q", name, v, w)
			}
		case bool:
			if v, _ := s.Num(i); (v != 0) != w {
				t.Errorf("%s = %v, want %v", name, v, w)
			}
		}
	}
	v, err := astatsVitals(&s)
	if err != nil {
		t.Fatal(err)
	}
	if v.loadAvg != 0.30 || len(v.ifaces) != 1 || v.ifaces[0] != (ifaceSample{"eth0", 47907832129, 728207677726, 70000}) || v.notAvailable {
		t.Errorf("vitals = %+v", v)
	}
	if n, ok := s.LookupNum("system.inf.speed"); !ok || n != 70000 {
		t.Errorf("system.inf.speed = %v %v", n, ok)
	}
	counters := remapCounters(&s, &dsMatcher{}, true, map[string]string{})
	if c := counters["edge-cache-0.delivery.service.zero"]; c == nil || c.outBytes != 29272790987 || c.inBytes != 296727207 {
		t.Errorf("remap counters keyed by xmlId (astats-dsnames) = %+v", counters)
	}
	var m dsMatcher
	if err := m.add("zero", `.*\.delivery\..*`); err != nil {
		t.Fatal(err)
	}
	counters = remapCounters(&s, &m, false, map[string]string{})
	if c := counters["zero"]; c == nil || c.s2xx != 929777209+7209 {
		t.Errorf("remap counters by routing label = %+v", counters["zero"])
	}
}

func TestDecodeAstatsCSVFixture(t *testing.T) {
	var s Stats
	if err := s.DecodeCSV(fixture.Read(t, "monitor/astats.csv")); err != nil {
		t.Fatal(err)
	}
	v, err := astatsVitals(&s)
	if err != nil {
		t.Fatal(err)
	}
	// The CSV fixture's proc.net.dev has two fields run together
	// ("0 0790726"), so field 8 is what the JSON fixture has as field 9.
	if v.loadAvg != 0.30 || v.ifaces[0].out != 10210700052 || v.ifaces[0].speedMbps != 70000 {
		t.Errorf("vitals = %+v", v)
	}
}

func TestDecodeStatsOverHTTPFixtures(t *testing.T) {
	for _, f := range []string{"monitor/stats_over_http.json", "monitor/stats_over_http.csv"} {
		var s Stats
		var err error
		if strings.HasSuffix(f, ".csv") {
			err = s.DecodeCSV(fixture.Read(t, f))
		} else {
			err = s.DecodeJSON(fixture.Read(t, f))
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v, err := sohVitals(&s)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v.loadAvg != 6080.0/65536 || len(v.ifaces) == 0 {
			t.Errorf("%s: vitals = %+v", f, v)
		}
		if _, ok := v.iface("docker0"); !ok {
			t.Errorf("%s: no docker0 in %+v", f, v.ifaces)
		}
		if f == "monitor/stats_over_http.json" && v.timestamp.UnixMilli() != 1684784877939 {
			t.Errorf("timestamp = %v", v.timestamp)
		}
	}
}

func TestDecodeBadPayloads(t *testing.T) {
	good := fixture.Read(t, "monitor/astats.json")
	tests := map[string]string{
		"empty":           "",
		"garbage":         "<html>",
		"truncated":       string(good[:len(good)/2]),
		"bad number":      `{"ats": {"a": 1.2.3}}`,
		"bad literal":     `{"ats": {"a": tru}}`,
		"unterminated":    `{"ats": {"a": "x`,
		"trailing":        `{"ats": {}} x`,
		"bad escape":      `{"ats": {"a\q": 1}}`,
		"missing colon":   `{"ats": {"a" 1}}`,
		"top-level array": `[1,2]`,
	}
	for name, body := range tests {
		var s Stats
		if err := s.DecodeJSON([]byte(body)); err == nil || !strings.Contains(err.Error(), "offset ") {
			t.Errorf("%s: error = %v", name, err)
		}
	}
	var s Stats
	if err := s.DecodeJSON([]byte(`{"other": [1, {"x": "}"}], "ats": {"a\u00e9\n": "v\"w", "n": null, "o": {"x": 1}, "neg": -2.5e3}}`)); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 2 || string(s.AppendName(nil, 0)) != "a\u00e9\n" || string(s.AppendValue(nil, 0)) != `v"w` {
		t.Errorf("escapes: %d %q %q", s.Len(), s.AppendName(nil, 0), s.AppendValue(nil, 0))
	}
	if v, _ := s.Num(1); v != -2500 {
		t.Errorf("neg = %v", v)
	}
	for name, body := range map[string]string{
		"no loadavg":        `{"system": {"inf.name": "eth0", "proc.net.dev": "eth0:1 2 3 4 5 6 7 8 9"}}`,
		"loadavg fields":    `{"system": {"inf.name": "eth0", "proc.loadavg": "1 2 3", "proc.net.dev": "eth0:1 2 3 4 5 6 7 8 9"}}`,
		"interface differs": `{"system": {"inf.name": "eth1", "proc.loadavg": "0.1 0.2 0.3 1/2 3", "proc.net.dev": "eth0:1 2 3 4 5 6 7 8 9"}}`,
		"few counters":      `{"system": {"inf.name": "eth0", "proc.loadavg": "0.1 0.2 0.3 1/2 3", "proc.net.dev": "eth0:1 2 3"}}`,
	} {
		var s Stats
		if err := s.DecodeJSON([]byte(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := astatsVitals(&s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	var soh Stats
	_ = soh.DecodeJSON([]byte(`{"global": {"plugin.system_stats.loadavg.one": 1}}`))
	if _, err := sohVitals(&soh); err == nil || !strings.Contains(err.Error(), "loadavg.five") {
		t.Errorf("soh missing stats: %v", err)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`{"ats": {"a": 1, "b": "x"}, "system": {"inf.name": "eth0"}}`))
	f.Add([]byte(`{"global": {"a\u0041": -1e5}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Stats
		if s.DecodeJSON(b) == nil {
			for i := 0; i < s.Len(); i++ {
				_ = s.AppendName(nil, i)
				_ = s.AppendValue(nil, i)
			}
			_, _ = astatsVitals(&s)
			_, _ = sohVitals(&s)
		}
	})
}

// BenchmarkDecodeAstats compares the astats decoder with encoding/json
// decoding into maps (Traffic Monitor's approach) on the fixture payload.
func BenchmarkDecodeAstats(b *testing.B) {
	body := fixture.Read(b, "monitor/astats.json")
	b.Run("signpost", func(b *testing.B) {
		var s Stats
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if err := s.DecodeJSON(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var ref struct {
				ATS    map[string]any `json:"ats"`
				System map[string]any `json:"system"`
			}
			if err := json.Unmarshal(body, &ref); err != nil {
				b.Fatal(err)
			}
		}
	})
}
