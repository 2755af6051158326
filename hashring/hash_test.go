package hashring

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestHashVectors(t *testing.T) {
	// Spec §15.2 H1-H5 and §5.1.
	tests := []struct {
		name, in string
		want     float64
	}{
		{"H1", "", 2.8194976848941264e+38},
		{"H2", "/stuff", 1.2383087669172229e+38},
		{"H3", "edge.dns-test.thecdn.example.com", 6.102169743736204e+37},
		{"H4", "http-only-test.thecdn.example.com.", 1.6821715820966753e+38},
		{"H5", "edge-cache-001@xmpp.cdn.example.com--0", 1.0600088667683446e+38},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Hash(tt.in); got != tt.want {
				t.Errorf("Hash(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got := HashBytes([]byte(tt.in)); got != tt.want {
				t.Errorf("HashBytes(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got := MD5.Hash(tt.in); got != tt.want {
				t.Errorf("MD5.Hash(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got := refH(MD5, tt.in); got != tt.want {
				t.Errorf("reference H(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestHashUTF8AndLong(t *testing.T) {
	for _, s := range []string{"/ünïcødé/路径/😀", string(make([]byte, 10000)), "a;b=c?d"} {
		if got, want := Hash(s), refH(MD5, s); got != want {
			t.Errorf("Hash(%.20q) = %v, want %v", s, got, want)
		}
		if got, want := XXHash.Hash(s), refH(XXHash, s); got != want {
			t.Errorf("XXHash.Hash(%.20q) = %v, want %v", s, got, want)
		}
		if got, want := XXHash.HashBytes([]byte(s)), refH(XXHash, s); got != want {
			t.Errorf("XXHash.HashBytes(%.20q) = %v, want %v", s, got, want)
		}
	}
}

func bigFloat64(hi, lo uint64) float64 {
	x := new(big.Int).SetUint64(hi)
	x.Lsh(x, 64)
	x.Or(x, new(big.Int).SetUint64(lo))
	f, _ := new(big.Float).SetInt(x).Float64()
	return f
}

// TestUint128ToFloat64 proves the bit-level rounding against math/big on
// random values of every magnitude and on the values around ties.
func TestUint128ToFloat64(t *testing.T) {
	check := func(hi, lo uint64) {
		t.Helper()
		if got, want := uint128ToFloat64(hi, lo), bigFloat64(hi, lo); got != want {
			t.Fatalf("uint128ToFloat64(%#x, %#x) = %v (%#x), want %v (%#x)",
				hi, lo, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
	check(0, 0)
	check(0, 1)
	check(0, math.MaxUint64)
	check(math.MaxUint64, math.MaxUint64) // rounds up to 2^128
	check(1, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	// Edge cases: for every position of the leading bit, values whose
	// dropped bits are exactly half (a tie), just below, just above, with
	// even and odd mantissas, and mantissas of all ones (carry).
	for shift := uint(0); shift < 128; shift++ {
		for _, mant := range []uint64{1 << 52, 1<<52 | 1, 1<<53 - 1, 1<<53 - 2, rng.Uint64()>>11 | 1<<52} {
			if shift < 53 {
				continue // exact values, covered by the random part
			}
			drop := shift - 52 // bits below the mantissa
			// value = mant<<drop + tail, tail < 1<<drop
			for _, tail := range tails(drop, rng) {
				hi, lo := shl128(mant, drop)
				lo2, carry := addCarry(lo, tail.lo)
				hi = hi + tail.hi + carry
				check(hi, lo2)
			}
		}
	}
	for range 200000 {
		hi, lo := rng.Uint64(), rng.Uint64()
		s := rng.UintN(128)
		if s >= 64 {
			hi, lo = 0, lo>>(s-64)
		} else {
			hi >>= s
		}
		check(hi, lo)
	}
}

type u128 struct{ hi, lo uint64 }

// tails returns the remainders half, half-1, half+1, 1, max and 0 for drop
// dropped bits.
func tails(drop uint, rng *rand.Rand) []u128 {
	half := u128{}
	if drop-1 >= 64 {
		half.hi = 1 << (drop - 1 - 64)
	} else {
		half.lo = 1 << (drop - 1)
	}
	sub1 := func(x u128) u128 {
		if x.lo == 0 {
			return u128{x.hi - 1, math.MaxUint64}
		}
		return u128{x.hi, x.lo - 1}
	}
	add1 := func(x u128) u128 {
		if x.lo == math.MaxUint64 {
			return u128{x.hi + 1, 0}
		}
		return u128{x.hi, x.lo + 1}
	}
	maxT := sub1(u128{half.hi<<1 | half.lo>>63, half.lo << 1})
	r := u128{rng.Uint64(), rng.Uint64()}
	r.hi &= maxT.hi
	r.lo &= maxT.lo
	return []u128{{}, {0, 1}, half, sub1(half), add1(half), maxT, r}
}

func shl128(x uint64, s uint) (hi, lo uint64) {
	if s >= 64 {
		return x << (s - 64), 0
	}
	if s == 0 {
		return 0, x
	}
	return x >> (64 - s), x << s
}

func addCarry(a, b uint64) (uint64, uint64) {
	s := a + b
	if s < a {
		return s, 1
	}
	return s, 0
}

func TestHashRandomStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 64)
	for range 20000 {
		n := rng.IntN(len(buf))
		for i := range n {
			buf[i] = byte(rng.UintN(256))
		}
		s := string(buf[:n])
		if got, want := Hash(s), refH(MD5, s); got != want {
			t.Fatalf("Hash(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMode(t *testing.T) {
	for _, m := range []Mode{MD5, XXHash} {
		got, ok := ParseMode(m.String())
		if !ok || got != m || !m.Valid() {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, ok)
		}
	}
	if _, ok := ParseMode("sha1"); ok {
		t.Error(`ParseMode("sha1") succeeded`)
	}
	if Mode(7).Valid() || Mode(7).String() != "Mode(7)" {
		t.Errorf("Mode(7): Valid %v, String %q", Mode(7).Valid(), Mode(7).String())
	}
	if MD5.Hash("x") == XXHash.Hash("x") {
		t.Error("MD5 and XXHash agree on \"x\"")
	}
}
