package healthfeed

import (
	"crypto/sha256"
	"strconv"
	"testing"

	"github.com/signpost-cdn/signpost/control"
)

// BenchmarkDecide measures the per-poll work on a changed body from a
// 5,000-cache CDN: decode, availability key, and the mass-down assessment
// against the fixture table (24 caches; assess is linear in table caches).
func BenchmarkDecide(b *testing.B) {
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = "edge-" + strconv.Itoa(i)
	}
	body := crStates(b, ids, downSet(ids[:50]...), 0)
	tab := fixtureRouter(b).Load()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = sha256.Sum256(body)
		s, err := control.ParseCrStates("bench", body)
		if err != nil {
			b.Fatal(err)
		}
		_ = availabilityKey(s)
		_ = assess(tab, nil, s)
	}
}

// BenchmarkAvailabilityKey is the follower's own part of BenchmarkDecide.
func BenchmarkAvailabilityKey(b *testing.B) {
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = "edge-" + strconv.Itoa(i)
	}
	s, err := control.ParseCrStates("bench", crStates(b, ids, downSet(ids[:50]...), 0))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = availabilityKey(s)
	}
}
