package dnsserver

import (
	"fmt"
	"iter"
	"testing"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

func TestNameTable(t *testing.T) {
	var empty nameTable[int]
	if _, ok := empty.get([]byte("\x00")); ok {
		t.Fatal("empty table found a name")
	}
	for _, n := range []int{1, 7, 100, 3000} {
		m := map[string]int{}
		for i := range n {
			w, err := dnswire.AppendName(nil, fmt.Sprintf("h%d.zone%d.example.test", i, i%7))
			if err != nil {
				t.Fatal(err)
			}
			m[string(w)] = i
		}
		tab := newNameTable(m)
		for k, v := range m {
			if got, ok := tab.get([]byte(k)); !ok || got != v {
				t.Fatalf("%d entries: get(%q) = %d, %v; want %d", n, k, got, ok, v)
			}
			if _, ok := tab.get([]byte(k)[1:]); ok {
				t.Fatalf("%d entries: found a name not stored", n)
			}
		}
		seen := 0
		for k, v := range tab.all() {
			if m[string(k)] != v {
				t.Fatalf("all: %q = %d", k, v)
			}
			seen++
		}
		if seen != len(m) {
			t.Fatalf("all: %d entries, want %d", seen, len(m))
		}
	}
}

// BenchmarkNameTableGet looks up zone origins and owner names of the
// lengths the query path sees (present and absent).
func BenchmarkNameTableGet(b *testing.B) {
	m := map[string]int{}
	var keys [][]byte
	for i := range 200 {
		w, err := dnswire.AppendName(nil, fmt.Sprintf("edge%d.ds-%d.thecdn.example.com", i, i%20))
		if err != nil {
			b.Fatal(err)
		}
		m[string(w)] = i
		keys = append(keys, w, w[1:]) // w[1:] is never stored
	}
	tab := newNameTable(m)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tab.get(keys[i%len(keys)])
		i++
	}
}

// all yields every entry (for tests).
func (t *nameTable[V]) all() iter.Seq2[[]byte, V] {
	return func(yield func([]byte, V) bool) {
		for i := range t.slots {
			if s := &t.slots[i]; s.hash != 0 && !yield(s.key, s.val) {
				return
			}
		}
	}
}
