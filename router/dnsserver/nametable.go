package dnsserver

import "encoding/binary"

// nameTable maps lower-case wire names to values. It is built once per
// publish and then only read: an open-addressing table (load at most one
// half) with a hash computed eight bytes at a time, cheaper per lookup on
// the query path than a string-keyed map. Its zero value is empty.
type nameTable[V any] struct {
	slots []nameSlot[V]
	mask  uint64
}

type nameSlot[V any] struct {
	hash uint64 // 0: empty slot
	key  []byte
	val  V
}

// newNameTable returns a table holding the entries of m.
func newNameTable[V any](m map[string]V) nameTable[V] {
	if len(m) == 0 {
		return nameTable[V]{}
	}
	n := 8
	for n < 2*len(m) {
		n *= 2
	}
	t := nameTable[V]{slots: make([]nameSlot[V], n), mask: uint64(n - 1)}
	for k, v := range m {
		h := hashName([]byte(k))
		i := h & t.mask
		for t.slots[i].hash != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = nameSlot[V]{hash: h, key: []byte(k), val: v}
	}
	return t
}

// get returns the value stored for name.
func (t *nameTable[V]) get(name []byte) (v V, ok bool) {
	if len(t.slots) == 0 {
		return v, false
	}
	h := hashName(name)
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.hash == 0 {
			return v, false
		}
		if s.hash == h && string(s.key) == string(name) {
			return s.val, true
		}
	}
}

// hashName hashes a name eight bytes at a time; the result is never 0.
// For names of 20-40 octets it is cheaper than the project's xxhash:
// BenchmarkNameTableGet 13 ns with it, 18 ns with xxhash.Sum64.
func hashName(b []byte) uint64 {
	const m = 0x9E3779B97F4A7C15
	name, n := b, len(b)
	h := uint64(n) * m
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * m
		h ^= h >> 29
		b = b[8:]
	}
	var tail uint64
	if r := len(b); r > 0 && n >= 8 {
		// The last r octets, read as the top of the word that ends the
		// name (its other octets were hashed above).
		tail = binary.LittleEndian.Uint64(name[n-8:]) >> (64 - 8*r)
	} else {
		for i, c := range b {
			tail |= uint64(c) << (8 * i)
		}
	}
	h = (h ^ tail) * m
	h ^= h >> 32
	return h | 1
}
