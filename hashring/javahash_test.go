package hashring

import (
	"slices"
	"strconv"
	"testing"
)

func TestJavaStringHashCode(t *testing.T) {
	// Values of java.lang.String.hashCode.
	for _, tt := range []struct {
		s    string
		want int32
	}{
		{"", 0},
		{"a", 97},
		{"hello", 99162322},
		{"edge-cache-000", -298166955},
		{"edge-testing-tr-01", -1200279133},
		{"location-0", 1541835800},
		{"ü路😀x", 1370143266}, // 😀 counts as a surrogate pair
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1042809472},
	} {
		if got := JavaStringHashCode(tt.s); got != tt.want {
			t.Errorf("JavaStringHashCode(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
	if got, want := JavaHashSetElementHash("location-0"), int32(1541835800+31); got != want {
		t.Errorf("JavaHashSetElementHash = %d, want %d", got, want)
	}
}

func TestJavaHashMapOrder(t *testing.T) {
	// Spec §5.9: {edge-cache-000,001,002} iterate as 001, 002, 000.
	keys := []string{"edge-cache-000", "edge-cache-001", "edge-cache-002"}
	if got := JavaHashMapOrder(keys, JavaStringHashCode); !slices.Equal(got, []int{1, 2, 0}) {
		t.Errorf("order = %v, want [1 2 0]", got)
	}

	// fixed maps keys "0".."n" to chosen hashes.
	fixed := func(hs ...int32) ([]string, func(string) int32) {
		keys := make([]string, len(hs))
		for i := range hs {
			keys[i] = strconv.Itoa(i)
		}
		return keys, func(s string) int32 { i, _ := strconv.Atoi(s); return hs[i] }
	}

	// The spread folds the high half into the low one: 0x10000 lands in
	// bucket 1, after 0 in bucket 0 and before 2.
	k, h := fixed(2, 0x10000, 0)
	if got := JavaHashMapOrder(k, h); !slices.Equal(got, []int{2, 1, 0}) {
		t.Errorf("spread: order = %v, want [2 1 0]", got)
	}

	// Load factor: 13 keys resize 16 buckets to 32, separating 17 from 1.
	hs := []int32{17, 1}
	for i := int32(2); i <= 12; i++ {
		hs = append(hs, i)
	}
	k, h = fixed(hs...)
	want := []int{1}
	for i := 2; i <= 12; i++ {
		want = append(want, i)
	}
	want = append(want, 0)
	if got := JavaHashMapOrder(k, h); !slices.Equal(got, want) {
		t.Errorf("load factor: order = %v, want %v", got, want)
	}
	// With 12 keys no resize: 17 and 1 share bucket 1, insertion order.
	k, h = fixed(hs[:12]...)
	if got := JavaHashMapOrder(k, h); got[0] != 0 || got[1] != 1 {
		t.Errorf("no resize: order = %v, want 17 then 1 first", got)
	}

	// treeifyBin: a ninth key in one bucket of a table under 64 buckets
	// doubles the table, moving 16 out of bucket 0.
	hs = []int32{16}
	for j := int32(0); j < 9; j++ {
		hs = append(hs, 64*j)
	}
	k, h = fixed(hs...)
	if got := JavaHashMapOrder(k, h); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 0}) {
		t.Errorf("treeify resize: order = %v", got)
	}
	k, h = fixed(hs[:8]...) // eight in the bucket: no resize
	if got := JavaHashMapOrder(k, h); got[0] != 0 {
		t.Errorf("no treeify resize: order = %v, want key 0 first", got)
	}

	// A repeated key keeps its first position, with the last index.
	if got := JavaHashMapOrder([]string{"b", "a", "b"}, JavaStringHashCode); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("duplicates: order = %v, want [1 2]", got)
	}
	if got := JavaHashMapOrder(nil, JavaStringHashCode); len(got) != 0 {
		t.Errorf("empty: order = %v", got)
	}
}
