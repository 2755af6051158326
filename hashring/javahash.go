package hashring

// JavaStringHashCode returns Java's String.hashCode of s (spec §5.9): over
// the UTF-16 code units, h = 31*h + c with int32 wrap-around. Characters
// outside the Basic Multilingual Plane count as their surrogate pair;
// invalid UTF-8 counts as U+FFFD, as Java's decoder would produce.
func JavaStringHashCode(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + int32(0xD800+(r>>10))
			h = 31*h + int32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + int32(r)
	}
	return h
}

// JavaHashSetElementHash is the hash Traffic Router's CacheLocation and
// similar classes return (HashCodeBuilder(1, 31) over the id): 31 + the
// id's String.hashCode.
func JavaHashSetElementHash(id string) int32 { return 31 + JavaStringHashCode(id) }

// JavaHashMapOrder returns the iteration order of a java.util.HashMap (or
// HashSet) created with the default capacity into which keys were put in
// slice order, as indices into keys (spec §5.9). hash is the keys' hashCode,
// usually JavaStringHashCode.
//
// The emulation follows OpenJDK 8+: the spread hash h ^ (h >>> 16), a table
// of 16 buckets doubled when the size exceeds 3/4 of it, and doubled also
// when a bucket reaches 9 entries while the table has fewer than 64 buckets
// (treeifyBin resizes instead of building a tree). Buckets iterate in
// ascending order, each in insertion order. A repeated key keeps its first
// position and reports the index of its last occurrence (the value the map
// holds). Not emulated: the order inside a bucket turned into a red-black
// tree (9 or more keys in one bucket of a table of 64 or more), where Java
// links a new key after its tree parent instead of at the end; it takes
// nine keys whose spread hashes agree in their low 6+ bits.
func JavaHashMapOrder(keys []string, hash func(string) int32) []int {
	type node struct {
		spread uint32
		idx    int
	}
	var nodes []node // in insertion order
	pos := make(map[string]int, len(keys))
	size := 16
	for i, k := range keys {
		if at, ok := pos[k]; ok {
			nodes[at].idx = i
			continue
		}
		h := uint32(hash(k))
		sp := h ^ h>>16
		pos[k] = len(nodes)
		nodes = append(nodes, node{sp, i})
		bin := 0
		mask := uint32(size - 1)
		for _, n := range nodes {
			if n.spread&mask == sp&mask {
				bin++
			}
		}
		if bin >= 9 && size < 64 {
			size *= 2
		}
		if len(nodes) > size*3/4 {
			size *= 2
		}
	}
	mask := uint32(size - 1)
	buckets := make([][]int, size)
	for _, n := range nodes {
		b := n.spread & mask
		buckets[b] = append(buckets[b], n.idx)
	}
	out := make([]int, 0, len(nodes))
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out
}
