package dnsserver

import (
	"fmt"
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
