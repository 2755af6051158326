//go:build !race

package accesslog

import (
	"context"
	"io"
	"testing"
	"time"
)

func TestAppendAllocs(t *testing.T) {
	h := fullHTTP()
	d := fullDNS(t)
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(200, func() { buf = AppendHTTP(buf[:0], &h) }); n != 0 {
		t.Errorf("AppendHTTP: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(200, func() { buf = AppendDNS(buf[:0], &d) }); n != 0 {
		t.Errorf("AppendDNS: %v allocs, want 0", n)
	}
}

func TestLogAllocs(t *testing.T) {
	// Room for every line of the 8,000 runs below (about 2.5 MB) even if
	// the writer goroutine does not get to run meanwhile.
	w, err := New(Config{Out: io.Discard, FlushInterval: time.Hour, QueueChunks: 128})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	h := fullHTTP()
	d := fullDNS(t)
	// Warm the shard scratch buffers to their final size.
	w.LogHTTP(&h)
	w.LogDNS(&d)
	if n := testing.AllocsPerRun(2000, func() { w.LogHTTP(&h) }); n != 0 {
		t.Errorf("LogHTTP: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(2000, func() { w.LogDNS(&d) }); n != 0 {
		t.Errorf("LogDNS: %v allocs, want 0", n)
	}
	// A record on the caller's stack stays there: the Log methods do not
	// let it escape.
	if n := testing.AllocsPerRun(2000, func() { r := h; w.LogHTTP(&r) }); n != 0 {
		t.Errorf("LogHTTP, record on the stack: %v allocs, want 0", n)
	}
	if n := testing.AllocsPerRun(2000, func() { r := d; w.LogDNS(&r) }); n != 0 {
		t.Errorf("LogDNS, record on the stack: %v allocs, want 0", n)
	}
	if st := w.Stats(); st.Dropped != 0 {
		t.Errorf("dropped %d lines", st.Dropped)
	}
}
