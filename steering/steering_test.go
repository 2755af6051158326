package steering

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/hashring"
	"github.com/signpost-cdn/signpost/internal/fixture"
)

// registry is a fake routing table: every listed name is a delivery
// service, with its index in the list.
type registry []string

func (r registry) index(name string) (int32, bool) {
	i := slices.Index(r, name)
	return int32(i), i >= 0
}

// allNames lists every delivery service named by the steering document.
func allNames(s *control.Steering) registry {
	var r registry
	add := func(n string) {
		if !slices.Contains(r, n) {
			r = append(r, n)
		}
	}
	for _, e := range s.Entries {
		add(e.DeliveryService)
		for _, t := range e.Targets {
			add(t.DeliveryService)
		}
	}
	return r
}

func compileFixture(t *testing.T, file string) (*Table, registry) {
	t.Helper()
	return compileFixtureTB(t, file)
}

func mustIndex(tb testing.TB, reg registry, name string) int32 {
	i, ok := reg.index(name)
	if !ok {
		tb.Fatalf("no %q", name)
	}
	return i
}

func compileFixtureTB(t testing.TB, file string) (*Table, registry) {
	t.Helper()
	s, err := control.ParseSteering(file, fixture.Read(t, "atc/"+file))
	if err != nil {
		t.Fatal(err)
	}
	reg := allNames(s)
	tab, err := Compile(s, len(reg), reg.index, hashring.NewPointCache(hashring.MD5).Get)
	if err != nil {
		t.Fatal(err)
	}
	return tab, reg
}

func entry(t *testing.T, tab *Table, reg registry, name string) *Entry {
	t.Helper()
	i, _ := reg.index(name)
	e := tab.Entry(i)
	if e == nil {
		t.Fatalf("no entry %q", name)
	}
	return e
}

func names(e *Entry, idx []int32) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = e.Targets[i].XMLID
	}
	return out
}

// TestVectors holds spec §15.2 S1-S4 and the steering rows of §5.10 on the
// fixture steering.json.
func TestVectors(t *testing.T) {
	tab, reg := compileFixture(t, "steering.json")
	for _, tc := range []struct {
		name, entry, path string
		want              []string
	}{
		{"S1", "client-steering-test-1", "/qwerytuiop/asdfghjkl", []string{"client-steering-target-2", "client-steering-target-1"}},
		{"S2", "client-steering-test-2", "/qwerytuiop/asdfghjkl", []string{"steering-target-2", "steering-target-1",
			"client-steering-target-2", "client-steering-target-4", "client-steering-target-3", "client-steering-target-1",
			"steering-target-4", "steering-target-3"}},
		{"S3-stuff", "steering-test-1", "/stuff", []string{"steering-target-2", "steering-target-1"}},
		{"S3-thing", "steering-test-1", "/some/path/thing", []string{"steering-target-2", "steering-target-1"}},
		{"S3-m3u8", "steering-test-1", "/path/.m3u8", []string{"steering-target-2", "steering-target-1"}},
		{"S3-qwerty", "steering-test-1", "/qwerytuiop/asdfghjkl", []string{"steering-target-2", "steering-target-1"}},
		{"S4", "client-steering-diversity-test", "/foo", []string{"csd-target-4", "csd-target-2", "csd-target-3", "csd-target-5", "csd-target-1"}},
		{"5.10-stuff", "steering-test-2", "/stuff", []string{"steering-target-4", "steering-target-3"}},
		{"5.10-thing", "steering-test-2", "/some/path/thing", []string{"steering-target-3", "steering-target-4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := entry(t, tab, reg, tc.entry)
			h := hashring.Hash(tc.path)
			if got := names(e, e.AppendOrder(nil, h)); !slices.Equal(got, tc.want) {
				t.Errorf("order %v\n want %v", got, tc.want)
			}
			if got := names(e, e.AppendSelect(nil, h, hashring.Dispersion{Limit: 1, Shuffled: true})); !slices.Equal(got, tc.want[:1]) {
				t.Errorf("select %v, want %v", got, tc.want[:1])
			}
		})
	}
}

// TestZeroWeightQuirk is S5: with no weighted target the second
// negative-order target sorts last (quirk 15, kept).
func TestZeroWeightQuirk(t *testing.T) {
	s, err := control.ParseSteering("s.json", []byte(`{"response":[{"deliveryService":"ds","clientSteering":true,"targets":[
		{"deliveryService":"a","order":-1},{"deliveryService":"b","order":-2},{"deliveryService":"c","order":3}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	reg := allNames(s)
	tab, err := Compile(s, len(reg), reg.index, hashring.NewPointCache(hashring.MD5).Get)
	if err != nil {
		t.Fatal(err)
	}
	e := tab.Entry(0)
	if got := names(e, e.AppendOrder(nil, hashring.Hash("/anything"))); !slices.Equal(got, []string{"a", "c", "b"}) {
		t.Errorf("got %v, want [a c b]", got)
	}
}

// TestFilters: full match, case-sensitive, first filter wins
// (SteeringRegistryTest and spec §8.3).
func TestFilters(t *testing.T) {
	tab, reg := compileFixture(t, "steering.json")
	e := entry(t, tab, reg, "steering-test-1")
	for path, want := range map[string]string{
		"/qwerytuiop/force-to-target-2/asdfghjkl":        "steering-target-2",
		"/some/path/force-to-target-1/more/asdfasdf":     "steering-target-1",
		"/a/force-to-target-1/b/force-to-target-2/c":     "steering-target-1",
		"/force-to-target-1/x":                           "steering-target-1",
		"/force-to-target-1":                             "",
		"/x/FORCE-TO-TARGET-1/y":                         "",
		"/qwerytuiop/asdfghjkl":                          "",
		"/stuff/force-to-target-2/":                      "steering-target-2",
		"/stuff/force-to-target-2/more\nnewline-content": "",
	} {
		got := ""
		if k := e.FilterTarget([]byte(path)); k >= 0 {
			got = e.Targets[k].XMLID
		}
		if got != want {
			t.Errorf("%q: %q, want %q", path, got, want)
		}
	}
	if k := e.TargetByName([]byte("steering-target-1")); k != 0 {
		t.Errorf("option steering-target-1: %d", k)
	}
	if k := e.TargetByName([]byte("ds-02")); k != -1 {
		t.Errorf("option ds-02: %d", k)
	}
	// SteeringRegistryTest.
	s, err := control.ParseSteering("s.json", []byte(`[{"deliveryService":"steering-ds","targets":[{"deliveryService":"steering-target-01","weight":1}],
		"filters":[{"pattern":".*/force-to-one/.*","deliveryService":"steering-target-01"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	reg = allNames(s)
	tab, err = Compile(s, len(reg), reg.index, hashring.NewPointCache(hashring.MD5).Get)
	if err != nil {
		t.Fatal(err)
	}
	if k := tab.Entry(0).FilterTarget([]byte("/stuff/force-to-one/more/stuff")); k != 0 {
		t.Errorf("force-to-one: %d", k)
	}
	if k := tab.Entry(0).FilterTarget([]byte("/should/not/match")); k != -1 {
		t.Errorf("should not match: %d", k)
	}
}

// TestCompileCrossCheck: everything Traffic Router ignores silently is a
// warning naming file, path and value; the rest of the entry still works.
func TestCompileCrossCheck(t *testing.T) {
	s, err := control.ParseSteering("steering.json", []byte(`{"response":[
		{"deliveryService":"gone","targets":[{"deliveryService":"t1","weight":1}]},
		{"deliveryService":"st","targets":[{"deliveryService":"t1","weight":10},{"deliveryService":"missing","weight":5},
			{"deliveryService":"cs","weight":3}],
		 "filters":[{"pattern":".*/a/.*","deliveryService":"missing"},{"pattern":".*/b/.*","deliveryService":"t1"},
			{"pattern":".*/c/.*","deliveryService":"other"}]},
		{"deliveryService":"cs","clientSteering":true,"targets":[{"deliveryService":"missing","weight":1}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry{"st", "t1", "cs", "other"}
	tab, err := Compile(s, len(reg), reg.index, hashring.NewPointCache(hashring.MD5).Get)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range tab.Warnings() {
		got = append(got, w.String()+" value="+w.Value)
	}
	want := []string{
		`steering.json: response[0].deliveryService: warning: steering delivery service "gone" is not in the snapshot; entry ignored value=gone`,
		`steering.json: response[1].targets[1].deliveryService: warning: steering "st": target "missing" is not in the snapshot; ignored value=missing`,
		`steering.json: response[1].targets[2].deliveryService: warning: steering "st": target "cs" is itself a steering delivery service; it is routed as a plain delivery service value=cs`,
		`steering.json: response[1].filters[0].deliveryService: warning: steering "st": filter target "missing" is not a target in the snapshot; filter ignored value=missing`,
		`steering.json: response[1].filters[2].deliveryService: warning: steering "st": filter target "other" is not a target in the snapshot; filter ignored value=other`,
		`steering.json: response[2].targets[0].deliveryService: warning: steering "cs": target "missing" is not in the snapshot; ignored value=missing`,
		`steering.json: response[2].targets: warning: steering "cs" has no target in the snapshot; its requests get 503 value=`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	st := tab.Entry(0)
	if st == nil || len(st.Targets) != 2 || len(st.Filters) != 1 || st.Filters[0].Target != 0 {
		t.Fatalf("entry st: %+v", st)
	}
	if k := st.FilterTarget([]byte("/x/b/y")); k != 0 {
		t.Errorf("filter b: %d", k)
	}
	if tab.Entry(1) != nil || tab.Entry(-1) != nil || tab.Entry(99) != nil {
		t.Error("t1 is not a steering delivery service")
	}
	cs := tab.Entry(2)
	if cs == nil || !cs.ClientSteering || len(cs.Targets) != 0 || len(cs.AppendOrder(nil, 1)) != 0 ||
		len(cs.AppendSelect(nil, 1, hashring.Dispersion{Limit: 1})) != 0 {
		t.Errorf("entry cs: %+v", cs)
	}
	// Without a registry nothing is steering.
	empty, err := Compile(nil, 3, reg.index, nil)
	if err != nil || empty.Entry(0) != nil || len(empty.Entries()) != 0 {
		t.Errorf("nil registry: %v", err)
	}
}

// TestCompileErrors: a weight above MaxWeight rejects the build, naming
// every offending target.
func TestCompileErrors(t *testing.T) {
	s, err := control.ParseSteering("steering.json", []byte(`{"response":[
		{"deliveryService":"st","targets":[{"deliveryService":"t1","weight":2000000},{"deliveryService":"t2","weight":"1000001"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry{"st", "t1", "t2"}
	_, err = Compile(s, len(reg), reg.index, hashring.NewPointCache(hashring.MD5).Get)
	var ve *control.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors()) != 2 {
		t.Fatalf("err %v", err)
	}
	if want := `steering.json: response[0].targets[1].weight: steering "st": target "t2": weight 1000001 is above the maximum 1000000`; ve.Errors()[1].String() != want {
		t.Errorf("%s\nwant %s", ve.Errors()[1], want)
	}
}

// TestMigration is spec §5.10's itemsMigrateFromSmallerToLargerBucket on
// the fixture: steering-test-1 goes from 1000/9000 (steering.json) to
// 2000/8000 (steering2.json); of 10,000 random paths only paths of
// target-2 move, and they all move to target-1; the share moved is the
// weight change (10%, within 1.5 points).
func TestMigration(t *testing.T) {
	before, reg1 := compileFixture(t, "steering.json")
	after, reg2 := compileFixture(t, "steering2.json")
	e1, e2 := entry(t, before, reg1, "steering-test-1"), entry(t, after, reg2, "steering-test-1")
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 10000
	moved, first1 := 0, 0
	for range n {
		path := fmt.Sprintf("/%x/%x/asset.ts", rng.Uint64(), rng.Uint32())
		h := hashring.Hash(path)
		a := e1.Targets[e1.AppendSelect(nil, h, hashring.Dispersion{Limit: 1})[0]].XMLID
		b := e2.Targets[e2.AppendSelect(nil, h, hashring.Dispersion{Limit: 1})[0]].XMLID
		if a == "steering-target-1" {
			first1++
			if b != a {
				t.Fatalf("%s moved away from the growing target", path)
			}
		}
		if a != b {
			moved++
		}
	}
	if share := float64(first1) / n; share < 0.085 || share > 0.115 {
		t.Errorf("target-1 share before %.3f, want about 0.10", share)
	}
	if share := float64(moved) / n; share < 0.085 || share > 0.115 {
		t.Errorf("moved %.3f, want about 0.10", share)
	}
}

func TestRequiredLiteral(t *testing.T) {
	for pattern, want := range map[string]string{
		".*/force-to-target-1/.*": "/force-to-target-1/",
		"/a/.*/bcd/.*":            "/bcd/",
		"abc":                     "abc",
		"(?i).*/news/.*":          "",
		"a|b":                     "",
		".*":                      "",
		"((":                      "",
	} {
		if got := string(requiredLiteral(pattern)); got != want {
			t.Errorf("%q: %q, want %q", pattern, got, want)
		}
	}
}
