package hashring

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/signpost-cdn/signpost/internal/fixture"
)

// item is a named candidate for the vector tests.
type item struct {
	name  string
	id    string // hashId
	count int
	order int
}

// orderNames orders items for s with a Ring and checks the result, every
// prefix (AppendNearest) and both walk strategies against the reference.
func orderNames(t *testing.T, items []item, s string) []string {
	t.Helper()
	pc := NewPointCache(MD5)
	members := make([]Member, len(items))
	refItems := make([]refItem, len(items))
	for i, it := range items {
		members[i] = Member{Points: pc.Get(it.id, it.count), Order: it.order}
		refItems[i] = refItem{pts: refPoints(MD5, it.id, it.count), order: it.order}
	}
	r, err := NewRing(members)
	if err != nil {
		t.Fatal(err)
	}
	h := r.Hash(s)
	want := refOrder(refItems, h)
	got := r.AppendOrder(nil, h, nil)
	if !slices.Equal(toInts(got), want) {
		t.Fatalf("%q: ring order %v, reference %v", s, got, want)
	}
	checkRing(t, r, h, nil, want)
	names := make([]string, len(got))
	for i, m := range got {
		names[i] = items[m].name
	}
	return names
}

func toInts(a []int32) []int {
	out := make([]int, len(a))
	for i, v := range a {
		out[i] = int(v)
	}
	return out
}

// checkRing compares every k and both walk strategies with want.
func checkRing(t *testing.T, r *Ring, h float64, avail func(int) bool, want []int) {
	t.Helper()
	saved := r.budget
	defer func() { r.budget = saved }()
	for _, budget := range []int{saved, 0, math.MaxInt} {
		r.budget = budget
		for k := 0; k <= len(want)+1; k++ {
			got := toInts(r.AppendNearest(nil, h, k, avail))
			if w := want[:min(k, len(want))]; !slices.Equal(got, w) {
				t.Fatalf("budget %d, h %v, k %d: got %v, want %v", budget, h, k, got, w)
			}
		}
	}
}

func TestNumberSearcher(t *testing.T) {
	// Spec §5.3 / N1.
	p := &Points{vals: []float64{1.2, 2.3, 3.4, 4.5, 5.6}}
	for _, tt := range []struct {
		h    float64
		want int
	}{{3.4, 2}, {1.9, 1}, {1.3, 0}, {6.7, 4}, {0.1, 0}} {
		if got := p.Nearest(tt.h); got != tt.want {
			t.Errorf("Nearest(%v) = %d, want %d", tt.h, got, tt.want)
		}
	}
	if got := (&Points{}).Nearest(1); got != -1 {
		t.Errorf("empty Nearest = %d, want -1", got)
	}
	// Equal distances go to the lower point.
	if got := (&Points{vals: []float64{1, 3}}).Nearest(2); got != 0 {
		t.Errorf("tie Nearest = %d, want 0", got)
	}
}

func TestSteeringVectors(t *testing.T) {
	// Spec §15.2 S1-S5 (§5.10).
	w := func(name string, weight int) item { return item{name: name, id: name, count: weight} }
	o := func(name string, weight, order int) item {
		return item{name: name, id: name, count: weight, order: order}
	}
	tests := []struct {
		name  string
		items []item
		s     string
		want  []string
	}{
		{"S1", []item{w("client-steering-target-1", 5000), w("client-steering-target-2", 5000)},
			"/qwerytuiop/asdfghjkl", []string{"client-steering-target-2", "client-steering-target-1"}},
		{"S2", []item{
			o("steering-target-1", 0, -100), o("steering-target-2", 0, -101),
			o("client-steering-target-1", 0, 1), o("client-steering-target-2", 0, -1),
			w("client-steering-target-3", 5000), w("client-steering-target-4", 5000),
			o("steering-target-3", 0, 6000), o("steering-target-4", 0, 5001),
		}, "/qwerytuiop/asdfghjkl", []string{
			"steering-target-2", "steering-target-1", "client-steering-target-2",
			"client-steering-target-4", "client-steering-target-3", "client-steering-target-1",
			"steering-target-4", "steering-target-3",
		}},
		{"S4", []item{w("csd-target-1", 5000), w("csd-target-2", 5000), w("csd-target-3", 5000),
			w("csd-target-4", 5000), w("csd-target-5", 5000)},
			"/foo", []string{"csd-target-4", "csd-target-2", "csd-target-3", "csd-target-5", "csd-target-1"}},
		{"S5", []item{o("a", 0, -1), o("b", 0, -2), o("c", 0, 3)}, "anything", []string{"a", "c", "b"}},
		{"§5.10 steering-test-2 /stuff", []item{w("steering-target-3", 60000), w("steering-target-4", 45000)},
			"/stuff", []string{"steering-target-4", "steering-target-3"}},
		{"§5.10 steering-test-2 /some/path/thing", []item{w("steering-target-3", 60000), w("steering-target-4", 45000)},
			"/some/path/thing", []string{"steering-target-3", "steering-target-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := orderNames(t, tt.items, tt.s); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("S3", func(t *testing.T) {
		items := []item{w("steering-target-1", 1000), w("steering-target-2", 9000)}
		for _, s := range []string{"/stuff", "/some/path/thing", "/path/.m3u8", "/qwerytuiop/asdfghjkl"} {
			if got := orderNames(t, items, s); got[0] != "steering-target-2" {
				t.Errorf("%q: got %v, want steering-target-2 first", s, got)
			}
		}
	})
}

type crServer struct {
	name   string
	hashID string
	count  int
}

// fixtureCaches reads contentServers of the fixture CrConfig in document
// order: hashId (a JSON string, else the server name) and hashCount (> 0,
// else 1000), per spec §5.2.
func fixtureCaches(t *testing.T) map[string]crServer {
	t.Helper()
	var doc struct {
		ContentServers json.RawMessage `json:"contentServers"`
	}
	if err := json.Unmarshal(fixture.Read(t, "atc/CrConfig.json"), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]crServer{}
	var servers map[string]struct {
		HashID    any `json:"hashId"`
		HashCount any `json:"hashCount"`
	}
	if err := json.Unmarshal(doc.ContentServers, &servers); err != nil {
		t.Fatal(err)
	}
	for name, s := range servers {
		c := crServer{name: name, hashID: name, count: 1000}
		if id, ok := s.HashID.(string); ok {
			c.hashID = id
		}
		if n, ok := s.HashCount.(float64); ok && n > 0 {
			c.count = int(n)
		}
		out[name] = c
	}
	return out
}

// hashMapItems puts names in Java HashMap iteration order (spec §5.9).
func hashMapItems(names []string, mk func(string) item) []item {
	var items []item
	for _, i := range JavaHashMapOrder(names, JavaStringHashCode) {
		items = append(items, mk(names[i]))
	}
	return items
}

func TestCacheVectors(t *testing.T) {
	caches := fixtureCaches(t)
	group := func(ids ...string) []item {
		names := make([]string, len(ids))
		for i, id := range ids {
			names[i] = "edge-cache-" + id
		}
		return hashMapItems(names, func(n string) item {
			c, ok := caches[n]
			if !ok {
				t.Fatalf("fixture has no contentServers[%q]", n)
			}
			return item{name: strings.TrimPrefix(n, "edge-cache-"), id: c.hashID, count: c.count}
		})
	}
	g0 := group("000", "001", "002")
	if got := []string{g0[0].name, g0[1].name, g0[2].name}; !slices.Equal(got, []string{"001", "002", "000"}) {
		t.Fatalf("HashMap order of 000/001/002 = %v, want [001 002 000]", got)
	}
	g3 := group("030", "031", "032")
	tests := []struct {
		name  string
		items []item
		s     string
		want  []string // a prefix of the expected order
	}{
		{"C1", g0, "/stuff", []string{"002", "001", "000"}},
		{"C2", g0, "/some/path/thing", []string{"001", "000", "002"}},
		{"C3", g0, "/another/different/path", []string{"002", "001", "000"}},
		{"C4", g0, "/path/.m3u8", []string{"002", "001", "000"}},
		{"C5", g0, "edge.dns-test.thecdn.example.com", []string{"002", "001", "000"}},
		{"C6", g3, "/path/.m3u8", []string{"032", "030", "031"}},
		{"C7", g3, "/qwerytuiop/force-to-target-2/asdfghjkl", []string{"032", "031", "030"}},
		{"C8", g3, "/stuff", []string{"031", "032", "030"}},
		{"C8 /", g3, "/", []string{"031", "030", "032"}},
		{"C9 080", group("080", "081", "082"), "/stuff", []string{"081"}},
		{"C9 070", group("070", "071", "072"), "/stuff", []string{"071"}},
		{"C10", group("010", "011", "012"), "/qwerytuiop/force-to-target-1/asdfghjkl", []string{"011"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := orderNames(t, tt.items, tt.s)
			if !slices.Equal(got[:len(tt.want)], tt.want) {
				t.Errorf("got %v, want prefix %v", got, tt.want)
			}
		})
	}
	t.Run("C5 dispersion", func(t *testing.T) {
		// DNS consistent routing with maxDnsIps 2: the top two, shuffled.
		pc := NewPointCache(MD5)
		members := make([]Member, len(g0))
		for i, it := range g0 {
			members[i] = Member{Points: pc.Get(it.id, it.count)}
		}
		r, err := NewRing(members)
		if err != nil {
			t.Fatal(err)
		}
		h := Hash("edge.dns-test.thecdn.example.com")
		seen := map[string]int{}
		for range 200 {
			got := r.AppendDispersed(nil, h, Dispersion{Limit: 2, Shuffled: true}, nil)
			names := []string{g0[got[0]].name, g0[got[1]].name}
			seen[strings.Join(names, ",")]++
			slices.Sort(names)
			if len(got) != 2 || !slices.Equal(names, []string{"001", "002"}) {
				t.Fatalf("got %v, want {001, 002}", names)
			}
		}
		if len(seen) != 2 {
			t.Errorf("200 shuffles produced orders %v, want both", seen)
		}
	})
}

func TestEdgeTrafficRouterVectors(t *testing.T) {
	// Spec §15.2 T1: edge TRs of a TR location, keyed by name in a HashMap,
	// 1000 virtual nodes each, hashed on the zone origin with a dot.
	var doc struct {
		ContentRouters map[string]struct {
			Location string `json:"location"`
		} `json:"contentRouters"`
	}
	if err := json.Unmarshal(fixture.Read(t, "atc/CrConfig.json"), &doc); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		loc  string
		want []string
	}{
		{"location-0", []string{"03", "02", "01", "04"}},
		{"location-9", []string{"07", "08", "06", "05"}},
	} {
		var names []string
		for name, cr := range doc.ContentRouters {
			if cr.Location == tt.loc {
				names = append(names, name)
			}
		}
		slices.Sort(names) // any insertion order: these keys do not collide
		items := hashMapItems(names, func(n string) item {
			return item{name: strings.TrimPrefix(n, "edge-testing-tr-"), id: n, count: 1000}
		})
		if got := orderNames(t, items, "http-only-test.thecdn.example.com."); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.loc, got, tt.want)
		}
	}
}

func TestItemsMigrateFromSmallerToLargerBucket(t *testing.T) {
	// ConsistentHasherTest.itemsMigrateFromSmallerToLargerBucket (§5.10).
	if testing.Short() {
		t.Skip("computes 200,000 points")
	}
	ring := func(small, large int) *Ring {
		r, err := NewRing([]Member{
			{Points: NewPoints(MD5, "Small One", small)},
			{Points: NewPoints(MD5, "Larger bucket", large)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	before, after := ring(10000, 90000), ring(20000, 80000)
	rng := rand.New(rand.NewPCG(5, 6))
	var small, moved int
	for i := range 10000 {
		path := fmt.Sprintf("/%d/%x/%d", i, rng.Uint64(), rng.IntN(1000))
		h := Hash(path)
		b := before.AppendNearest(nil, h, 1, nil)[0]
		a := after.AppendNearest(nil, h, 1, nil)[0]
		if b == 0 {
			small++
			if a != 0 {
				t.Fatalf("%q moved from the small bucket to the large one", path)
			}
		} else if a == 0 {
			moved++
		}
	}
	if small == 0 || moved == 0 {
		t.Errorf("small bucket held %d paths and gained %d: want both > 0", small, moved)
	}
}

func TestDispersion(t *testing.T) {
	pc := NewPointCache(MD5)
	var members []Member
	for i := range 6 {
		members = append(members, Member{Points: pc.Get(fmt.Sprint("c", i), 100)})
	}
	r, err := NewRing(members)
	if err != nil {
		t.Fatal(err)
	}
	h := Hash("/x")
	full := r.AppendOrder(nil, h, nil)
	if got := r.AppendDispersed(nil, h, Dispersion{Limit: 0, Shuffled: true}, nil); len(got) != 0 {
		t.Errorf("limit 0: got %v, want none", got)
	}
	if got := r.AppendDispersed(nil, h, Dispersion{Limit: 3}, nil); !slices.Equal(got, full[:3]) {
		t.Errorf("limit 3 unshuffled: got %v, want %v", got, full[:3])
	}
	if got := r.AppendDispersed(nil, h, Dispersion{Limit: 2_000_000_000, Shuffled: true}, nil); len(got) != len(full) {
		t.Errorf("limit 2e9: got %d members, want %d", len(got), len(full))
	}
	firsts := map[int32]int{}
	for range 3000 {
		got := r.AppendDispersed([]int32{-1}, h, Dispersion{Limit: 3, Shuffled: true}, nil)
		if got[0] != -1 {
			t.Fatal("dst prefix overwritten")
		}
		s := slices.Clone(got[1:])
		slices.Sort(s)
		w := slices.Clone(full[:3])
		slices.Sort(w)
		if !slices.Equal(s, w) {
			t.Fatalf("got %v, want a permutation of %v", got[1:], full[:3])
		}
		firsts[got[1]]++
	}
	for _, m := range full[:3] {
		if n := firsts[m]; n < 800 || n > 1200 {
			t.Errorf("member %d first %d times of 3000, want about 1000", m, n)
		}
	}
}

func TestNewRingModes(t *testing.T) {
	_, err := NewRing([]Member{
		{Points: NewPoints(MD5, "a", 3)},
		{Points: NewPoints(XXHash, "b", 3)},
		{Points: NewPoints(XXHash, "c", 0)}, // no points: mode irrelevant
		{},
	})
	if err == nil || !strings.Contains(err.Error(), `member 1 (hashId "b"): mode xxhash, ring mode md5`) {
		t.Errorf("mixed modes: err = %v", err)
	}
	r, err := NewRing([]Member{{Points: NewPoints(XXHash, "b", 3)}, {Order: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode() != XXHash || r.Len() != 2 || r.Hash("q") != XXHash.Hash("q") {
		t.Errorf("xxhash ring: mode %v, len %d", r.Mode(), r.Len())
	}
	empty, err := NewRing(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := empty.AppendOrder(nil, 1, nil); len(got) != 0 {
		t.Errorf("empty ring ordered %v", got)
	}
}

func TestRingConcurrent(t *testing.T) {
	r, _ := benchRing(t, MD5, 80) // pooled scratch
	hs := benchHashes(MD5)
	want := make([][]int32, len(hs))
	for i, h := range hs {
		want[i] = r.AppendOrder(nil, h, nil)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			var dst []int32
			for i := range hs {
				j := (i + g*17) % len(hs)
				dst = r.AppendOrder(dst[:0], hs[j], nil)
				if !slices.Equal(dst, want[j]) {
					t.Errorf("goroutine %d, hash %d: order differs", g, j)
					return
				}
			}
		})
	}
	wg.Wait()
}
