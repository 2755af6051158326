package hashring

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzOrder checks the ring against the reference on rings derived from the
// input: the first 16 bytes seed the generator of a tie-heavy ring (as in
// TestRingMatchesReferenceTies), the rest is hashed as the request string
// of an MD5 ring over shared hashIds.
func FuzzOrder(f *testing.F) {
	f.Add([]byte("0123456789abcdef/stuff"))
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01edge-cache-001@xmpp.cdn.example.com--0"))
	pc := NewPointCache(MD5)
	ids := []string{"edge-cache-001@xmpp.cdn.example.com", "edge-cache-002@xmpp.cdn.example.com"}
	refPts := map[[2]any][]float64{}
	f.Fuzz(func(t *testing.T, data []byte) {
		var seed [16]byte
		copy(seed[:], data)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
		s := ""
		if len(data) > 16 {
			s = string(data[16:])
		}
		var c randomCase
		var members []Member
		for range 1 + rng.IntN(6) {
			id := ids[rng.IntN(len(ids))]
			count := []int{0, 1, 2, 1000}[rng.IntN(4)]
			order := rng.IntN(5) - 2
			key := [2]any{id, count}
			if refPts[key] == nil {
				refPts[key] = refPoints(MD5, id, count)
			}
			members = append(members, Member{Points: pc.Get(id, count), Order: order})
			c.items = append(c.items, refItem{pts: refPts[key], order: order})
		}
		r, err := NewRing(members)
		if err != nil {
			t.Fatal(err)
		}
		c.ring = r
		h := Hash(s)
		if h != refH(MD5, s) {
			t.Fatalf("Hash(%q) = %v, want %v", s, h, refH(MD5, s))
		}
		if math.IsNaN(h) {
			t.Fatal("NaN hash")
		}
		checkAgainstReference(t, rng, c, h, s)
	})
}
