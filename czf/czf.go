// Package czf parses Traffic Router coverage zone files (czmap.json) and deep
// coverage zone files (dczmap.json), validates them whole, and answers
// longest-prefix-match lookups for IPv4 and IPv6 client addresses without
// allocating.
//
// A file is decoded in document order: zone indexes follow the order of the
// zones in the file, and inside a zone the network6 entries are inserted
// before the network entries, as Traffic Router does. At parse time the
// nested prefixes of each address family are flattened into sorted,
// non-overlapping intervals that each carry the most specific zone, so a
// lookup is one binary search over a dense array.
//
// A Table is immutable once returned and safe for concurrent use.
package czf

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// Zone is one coverage zone (a "location" of the file).
type Zone struct {
	// Name is the zone's key in the file. For a coverage zone it is normally
	// a cache group name; Traffic Router falls back to the closest cache group
	// (by Latitude/Longitude) when it is not.
	Name string
	// HasCoordinates reports whether the zone carried a "coordinates" object
	// with both latitude and longitude. Without coordinates a coverage zone
	// whose name is not a cache group cannot fall back to the closest cache
	// group. For deep zones Traffic Router places the synthetic location
	// "deep.<Name>" at (0,0) when coordinates are absent; callers wanting that
	// behaviour use Latitude and Longitude as they are (both zero).
	HasCoordinates bool
	// Latitude and Longitude in degrees; zero when HasCoordinates is false.
	Latitude, Longitude float64
	// Caches lists the cache host names of a deep coverage zone in file
	// order, without empty names and without repeats. It is nil for files
	// read with Parse.
	Caches []string
}

// Stats describes what a parse kept and what it ignored, for the loader to
// log.
type Stats struct {
	// Zones is the number of zones (Table.Len).
	Zones int
	// Prefixes4 and Prefixes6 count the distinct networks in effect.
	Prefixes4, Prefixes6 int
	// Duplicates counts entries ignored because an entry with the same
	// address bytes and prefix length was already in effect (first wins, as in
	// Traffic Router).
	Duplicates int
	// Overrides counts entries naming the same network and length as the entry
	// in effect but with different host bits ("10.0.0.1/24" after
	// "10.0.0.0/24"): the later entry replaces the earlier one, which is what
	// Traffic Router's lookup returns in that case.
	Overrides int
	// Intervals4 and Intervals6 are the sizes of the flattened lookup arrays.
	Intervals4, Intervals6 int
}

// maxWarnings bounds Table.Warnings.
const maxWarnings = 20

// Table is a parsed coverage zone or deep coverage zone file. The zero value
// and a nil *Table are empty tables: every lookup misses (Zone must not be
// called on them, having no zones).
type Table struct {
	name  string
	deep  bool
	zones []Zone

	// v4: interval i covers [v4[i].start, v4[i+1].start) and maps to
	// v4[i].zone (-1: no zone). v4[0].start == 0 when the table has any IPv4
	// network. Start and zone side by side: the zone is read from the cache
	// line the search just loaded, not from a second array.
	v4 []span4
	// v6: the same with 128-bit starts.
	starts6 []u128
	zones6  []int32
	// idx4[h] (idx6[h]) is the number of intervals starting below h<<16 (the
	// top 16 bits of the address equal to h), for h in [0, 65536]: the search
	// for an address with top bits h is confined to [idx[h], idx[h+1]). nil
	// for small tables, which are searched whole.
	idx4, idx6 []uint32

	stats    Stats
	warnings []string
}

// Lookup returns the index of the zone holding the longest prefix that
// contains a, or (-1, false) when no network contains it. IPv4 addresses are
// matched against IPv4 networks only and IPv6 addresses against IPv6
// networks only; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as
// IPv4. Any zone of a is ignored. Lookup does not allocate.
func (t *Table) Lookup(a netip.Addr) (zone int, ok bool) {
	if t == nil {
		return -1, false
	}
	a = a.Unmap()
	var z int32
	switch {
	case a.Is4():
		if len(t.v4) == 0 {
			return -1, false
		}
		b := a.As4()
		x := binary.BigEndian.Uint32(b[:])
		s, off := t.v4, 0
		if t.idx4 != nil {
			h := x >> 16
			lo, hi := t.idx4[h], t.idx4[h+1]
			s, off = t.v4[lo:hi], int(lo)
		}
		if len(s) >= wideMin {
			z = t.v4[off+search4Wide(s, x)].zone
		} else {
			z = t.v4[off+search4(s, x)].zone
		}
	case a.Is6():
		if len(t.starts6) == 0 {
			return -1, false
		}
		b := a.As16()
		x := u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
		s, off := t.starts6, 0
		if t.idx6 != nil {
			h := x.hi >> 48
			lo, hi := t.idx6[h], t.idx6[h+1]
			s, off = t.starts6[lo:hi], int(lo)
		}
		if len(s) >= wideMin {
			z = t.zones6[off+search6Wide(s, x)]
		} else {
			z = t.zones6[off+search6(s, x)]
		}
	default:
		return -1, false
	}
	if z < 0 {
		return -1, false
	}
	return int(z), true
}

// span4 is one IPv4 interval: its first address and its zone.
type span4 struct {
	start uint32
	zone  int32
}

// search4 returns the index of the last start <= x, -1 if none.
func search4(starts []span4, x uint32) int {
	lo, hi := 0, len(starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if starts[m].start <= x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// search6 returns the index of the last start <= x, -1 if none.
func search6(starts []u128, x u128) int {
	lo, hi := 0, len(starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		s := starts[m]
		if s.hi < x.hi || (s.hi == x.hi && s.lo <= x.lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// wideMin is the range length from which Lookup searches without a
// data-dependent branch (search4Wide, search6Wide): in a table that stays
// in cache (a few thousand networks), the classic binary search
// mispredicts about half of its branches for random clients. Shorter
// ranges (an indexed table of scattered networks, whose buckets hold one
// or two intervals) keep the classic search, whose speculation overlaps
// the cache misses of a large table with the load of the zone.
const wideMin = 8

// search4Wide is search4 without a data-dependent branch (each step moves
// base by a masked amount); starts must not be empty.
func search4Wide(starts []span4, x uint32) int {
	n, base := len(starts), 0
	for n > 1 {
		half := n >> 1
		// All ones when starts[base+half] <= x, else zero.
		le := ^((int64(x) - int64(starts[base+half].start)) >> 63)
		base += half & int(le)
		n -= half
	}
	le := ^((int64(x) - int64(starts[base].start)) >> 63)
	return base - 1 + int(le&1)
}

// search6Wide is search6 without a data-dependent branch; starts must not
// be empty.
func search6Wide(starts []u128, x u128) int {
	n, base := len(starts), 0
	for n > 1 {
		half := n >> 1
		base += half & int(starts[base+half].leMask(x))
		n -= half
	}
	return base - 1 + int(starts[base].leMask(x)&1)
}

// leMask returns all ones when a <= b, else zero, without a branch: b - a
// borrows out of the top word exactly when a > b.
func (a u128) leMask(b u128) uint64 {
	_, borrow := bits.Sub64(b.lo, a.lo, 0)
	_, borrow = bits.Sub64(b.hi, a.hi, borrow)
	return borrow - 1
}

// Zone returns zone i (0 <= i < Len), in document order. The Zone belongs to
// the table and must not be modified.
func (t *Table) Zone(i int) *Zone { return &t.zones[i] }

// Len returns the number of zones.
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.zones)
}

// Name returns the file name given to Parse or ParseDeep.
func (t *Table) Name() string {
	if t == nil {
		return ""
	}
	return t.name
}

// Deep reports whether the table was read with ParseDeep.
func (t *Table) Deep() bool { return t != nil && t.deep }

// Stats returns counts of what the parse kept and ignored.
func (t *Table) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	return t.stats
}

// Warnings describes the first (at most 20) ignored duplicates and
// overrides, one "file: path: message" line each, for the loader to log.
// Stats has the full counts. The slice belongs to the table.
func (t *Table) Warnings() []string {
	if t == nil {
		return nil
	}
	return t.warnings
}
