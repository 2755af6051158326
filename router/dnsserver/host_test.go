package dnsserver

import (
	"testing"

	"github.com/signpost-cdn/signpost/internal/dnswire"
)

func TestAppendHost(t *testing.T) {
	for _, s := range []string{".", "com.", "edge.geo.cdn.test.", "a.b.c.", "x-1.y_2.example.org."} {
		wire, err := dnswire.AppendName(nil, s)
		if err != nil {
			t.Fatal(err)
		}
		want := s[:len(s)-1]
		if got := string(appendHost([]byte("keep"), wire)); got != "keep"+want {
			t.Errorf("appendHost(%q) = %q, want %q", s, got, "keep"+want)
		}
	}
}
