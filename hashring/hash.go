package hashring

import (
	"crypto/md5"
	"math"
	"math/bits"
	"strconv"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Mode selects the hash function of a PointCache and a Ring. It is chosen
// when a table is built; the zero value is MD5.
type Mode uint8

const (
	// MD5 is Traffic Router's hash (spec §5.1): the MD5 digest of the UTF-8
	// bytes read as an unsigned big-endian 128-bit integer, rounded to the
	// nearest float64 (ties to even). Use it for parity with Traffic Router.
	MD5 Mode = iota
	// XXHash hashes with xxhash64 and converts the 64-bit value to float64
	// (rounded to nearest even). About four times cheaper than MD5; the
	// orderings differ from Traffic Router's.
	XXHash
)

// String returns "md5" or "xxhash".
func (m Mode) String() string {
	switch m {
	case MD5:
		return "md5"
	case XXHash:
		return "xxhash"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool { return m == MD5 || m == XXHash }

// ParseMode maps "md5" and "xxhash" to a Mode.
func ParseMode(s string) (Mode, bool) {
	switch s {
	case "md5":
		return MD5, true
	case "xxhash":
		return XXHash, true
	}
	return 0, false
}

// Hash hashes s with the mode's function. It does not allocate. An unknown
// mode hashes as MD5.
func (m Mode) Hash(s string) float64 {
	if m == XXHash {
		return float64(xxhash.Sum64String(s))
	}
	return Hash(s)
}

// HashBytes is Hash for a byte slice.
func (m Mode) HashBytes(b []byte) float64 {
	if m == XXHash {
		return float64(xxhash.Sum64(b))
	}
	return HashBytes(b)
}

// Hash is Traffic Router's MD5HashFunction (spec §5.1) on the UTF-8 bytes of
// s. It does not allocate, whatever the length of s.
func Hash(s string) float64 {
	// md5.Sum only reads its argument, so a read-only view of the string's
	// bytes is safe and avoids copying (strings are immutable).
	return HashBytes(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// HashBytes is Traffic Router's MD5HashFunction on b.
func HashBytes(b []byte) float64 {
	d := md5.Sum(b)
	hi := uint64(d[0])<<56 | uint64(d[1])<<48 | uint64(d[2])<<40 | uint64(d[3])<<32 |
		uint64(d[4])<<24 | uint64(d[5])<<16 | uint64(d[6])<<8 | uint64(d[7])
	lo := uint64(d[8])<<56 | uint64(d[9])<<48 | uint64(d[10])<<40 | uint64(d[11])<<32 |
		uint64(d[12])<<24 | uint64(d[13])<<16 | uint64(d[14])<<8 | uint64(d[15])
	return uint128ToFloat64(hi, lo)
}

// uint128ToFloat64 converts the unsigned integer hi·2^64+lo to the nearest
// float64, ties to even (Java's BigInteger.doubleValue).
func uint128ToFloat64(hi, lo uint64) float64 {
	if hi == 0 {
		// The Go specification requires IEEE round-to-nearest-even here.
		return float64(lo)
	}
	lz := uint(bits.LeadingZeros64(hi))
	// Normalize so that bit 127 is set. Shifts by 64 yield 0 in Go.
	h := hi<<lz | lo>>(64-lz)
	l := lo << lz
	mant := h >> 11 // the top 53 bits, leading one included
	round := h >> 10 & 1
	sticky := h&0x3ff != 0 || l != 0
	if round == 1 && (sticky || mant&1 == 1) {
		mant++ // may carry into 1<<53, which the exponent addition absorbs
	}
	// The leading bit is worth 2^(127-lz); its biased exponent is
	// 127-lz+1023. Adding mant (with its leading one at bit 52) to the
	// exponent field minus one yields the IEEE bits, a carry included.
	exp := uint64(127 - lz + 1023 - 1)
	return math.Float64frombits(exp<<52 + mant)
}
