// Package testrun runs a service's Run(ctx) for the length of a test: the
// service is cancelled when the test ends, and the test fails when Run
// returned an error or did not return in time. DialTCP connects a test to
// such a service.
package testrun

import (
	"context"
	"net"
	"testing"
	"time"
)

// Start runs run in a goroutine until the test's cleanup, which cancels
// its context and waits up to stop for it to return. name prefixes the
// failure messages ("monitor Run: ...").
func Start(tb testing.TB, name string, stop time.Duration, run func(ctx context.Context) error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("%s: %v", name, err)
			}
		case <-time.After(stop):
			tb.Errorf("%s did not return %v after cancel", name, stop)
		}
	})
}

// DialTCP connects to addr, closing the connection when the test ends.
func DialTCP(tb testing.TB, addr string) net.Conn {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
