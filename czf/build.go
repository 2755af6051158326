package czf

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
)

// u128 is an IPv6 address (or an IPv4 address in the low 32 bits of lo) as
// an unsigned big-endian integer.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) addOne() u128 {
	if a.lo == ^uint64(0) {
		return u128{a.hi + 1, 0}
	}
	return u128{a.hi, a.lo + 1}
}

// hostMask returns the host bits of a /bits prefix in an address of width
// bits (32 or 128).
func hostMask(width, bits int) u128 {
	h := width - bits
	switch {
	case h <= 0:
		return u128{}
	case h >= 128:
		return u128{^uint64(0), ^uint64(0)}
	case h >= 64:
		return u128{1<<(h-64) - 1, ^uint64(0)}
	default:
		return u128{0, 1<<h - 1}
	}
}

func addrU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// rawEntry is one network entry as read from the file, in insertion order.
type rawEntry struct {
	addr netip.Addr // as written, unmapped; host bits kept
	bits int
	zone int32
	text string // the entry as written, for warnings
	key  string // "network" or "network6", for warnings
	idx  int    // index in that array, for warnings
}

// prefix is a network in effect after duplicate handling.
type prefix struct {
	start u128 // first address
	zone  int32
	src   int32 // index of the entry in effect
	bits  uint8
}

type netKey struct {
	start u128
	bits  uint8
}

// interval is a run of addresses [start, next interval's start) mapped to
// zone (-1: none).
type interval struct {
	start u128
	zone  int32
}

// builder holds the state of one Table construction.
type builder struct {
	name     string
	root     string
	zones    []Zone
	entries  []rawEntry
	stats    Stats
	warnings []string
}

// path returns the JSON path of an entry.
func (b *builder) path(e *rawEntry) string {
	return zonePath(b.root, b.zones[e.zone].Name) + "." + e.key + "[" + strconv.Itoa(e.idx) + "]"
}

func (b *builder) warn(path, msg string) {
	if len(b.warnings) < maxWarnings {
		b.warnings = append(b.warnings, Problem{Path: path, Msg: msg}.line(b.name))
	}
}

// family resolves duplicates among the entries of one address family
// (width 32 or 128) and returns the networks in effect, sorted by start
// address and then by prefix length (shortest first).
//
// Duplicate rule (Traffic Router's tree): an entry naming the same network
// and length as the entry in effect is ignored when its address bytes are
// equal (first wins) and replaces it otherwise (host bits differ).
func (b *builder) family(width int) []prefix {
	n := 0
	for i := range b.entries {
		if (width == 32) == b.entries[i].addr.Is4() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	list := make([]prefix, 0, n)
	held := make(map[netKey]int32, n)
	for i := range b.entries {
		e := &b.entries[i]
		if (width == 32) != e.addr.Is4() {
			continue
		}
		raw := addrU128(e.addr)
		hm := hostMask(width, e.bits)
		start := u128{raw.hi &^ hm.hi, raw.lo &^ hm.lo}
		k := netKey{start, uint8(e.bits)}
		if j, ok := held[k]; ok {
			p := &list[j]
			prev := &b.entries[p.src]
			if prev.addr == e.addr {
				b.stats.Duplicates++
				if len(b.warnings) < maxWarnings {
					b.warn(b.path(e), "duplicate network "+strconv.Quote(e.text)+
						" ignored (first at "+b.path(prev)+")")
				}
				continue
			}
			b.stats.Overrides++
			if len(b.warnings) < maxWarnings {
				b.warn(b.path(e), "network "+strconv.Quote(e.text)+" replaces "+
					strconv.Quote(prev.text)+" at "+b.path(prev))
			}
			p.zone, p.src = e.zone, int32(i)
			continue
		}
		held[k] = int32(len(list))
		list = append(list, prefix{start: start, zone: e.zone, src: int32(i), bits: uint8(e.bits)})
	}
	slices.SortFunc(list, func(x, y prefix) int {
		if c := x.start.cmp(y.start); c != 0 {
			return c
		}
		return cmp.Compare(x.bits, y.bits)
	})
	return list
}

// flatten turns nested-or-disjoint prefixes (sorted by start, then length)
// into non-overlapping intervals covering the whole family, each mapped to
// the zone of the most specific prefix containing it; adjacent intervals
// have different zones. width is 32 or 128.
func flatten(list []prefix, width int) []interval {
	lastAddr := hostMask(width, 0)
	out := make([]interval, 1, 2*len(list)+1)
	out[0] = interval{start: u128{}, zone: -1}
	emit := func(at u128, zone int32) {
		last := &out[len(out)-1]
		if last.start == at {
			last.zone = zone
			if len(out) >= 2 && out[len(out)-2].zone == zone {
				out = out[:len(out)-1]
			}
			return
		}
		if last.zone != zone {
			out = append(out, interval{start: at, zone: zone})
		}
	}
	type open struct {
		end  u128
		zone int32
	}
	stack := make([]open, 0, width+1) // nesting depth is at most width+1
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if top.end == lastAddr {
			return // so do all of its ancestors: nothing follows
		}
		parent := int32(-1)
		if len(stack) > 0 {
			parent = stack[len(stack)-1].zone
		}
		emit(top.end.addOne(), parent)
	}
	for i := range list {
		p := &list[i]
		for len(stack) > 0 && stack[len(stack)-1].end.less(p.start) {
			pop()
		}
		emit(p.start, p.zone)
		hm := hostMask(width, int(p.bits))
		stack = append(stack, open{end: u128{p.start.hi | hm.hi, p.start.lo | hm.lo}, zone: p.zone})
	}
	for len(stack) > 0 {
		pop()
	}
	return out
}

// indexMin is the number of intervals of a family from which Parse builds
// the 16-bit first-level index (256 KiB) in front of the binary search.
const indexMin = 1024

// topIndex returns idx with idx[h] = number of starts whose top 16 bits are
// below h, for h in [0, 65536].
func topIndex(n int, top16 func(i int) uint32) []uint32 {
	idx := make([]uint32, 1<<16+1)
	j := 0
	for h := range uint32(1<<16 + 1) {
		for j < n && top16(j) < h {
			j++
		}
		idx[h] = uint32(j)
	}
	return idx
}

// build makes the Table from the zones and entries of a parsed file. A
// family with at least minIndex intervals gets a first-level index.
func build(name, root string, deep bool, zones []Zone, entries []rawEntry, minIndex int) *Table {
	b := &builder{name: name, root: root, zones: zones, entries: entries}
	t := &Table{name: name, deep: deep, zones: zones}

	if list := b.family(32); len(list) > 0 {
		iv := flatten(list, 32)
		t.v4 = make([]span4, len(iv))
		for i, v := range iv {
			t.v4[i] = span4{start: uint32(v.start.lo), zone: v.zone}
		}
		b.stats.Prefixes4 = len(list)
		if len(iv) >= minIndex {
			t.idx4 = topIndex(len(iv), func(i int) uint32 { return t.v4[i].start >> 16 })
		}
	}
	if list := b.family(128); len(list) > 0 {
		iv := flatten(list, 128)
		t.starts6 = make([]u128, len(iv))
		t.zones6 = make([]int32, len(iv))
		for i, v := range iv {
			t.starts6[i] = v.start
			t.zones6[i] = v.zone
		}
		b.stats.Prefixes6 = len(list)
		if len(iv) >= minIndex {
			t.idx6 = topIndex(len(iv), func(i int) uint32 { return uint32(t.starts6[i].hi >> 48) })
		}
	}
	b.stats.Zones = len(zones)
	b.stats.Intervals4 = len(t.v4)
	b.stats.Intervals6 = len(t.starts6)
	t.stats = b.stats
	t.warnings = b.warnings
	return t
}
