package httpserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/testrun"
)

// pipeListener accepts the server ends of net.Pipe pairs.
type pipeListener struct{ ch chan net.Conn }

func (l *pipeListener) Accept() (net.Conn, error) {
	c, ok := <-l.ch
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}
func (l *pipeListener) Close() error   { return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

// pipeConn accepts one net.Pipe pair through a deadlineListener with
// short timeouts and a running sweeper.
func pipeConn(t *testing.T) (server *deadlineConn, client net.Conn, dl *deadlineListener) {
	t.Helper()
	pl := &pipeListener{ch: make(chan net.Conn, 1)}
	s, client := net.Pipe()
	pl.ch <- s
	dl = newDeadlineListener(pl, connTimeouts{read: 40 * time.Millisecond, write: 30 * time.Millisecond,
		idle: 600 * time.Millisecond, tick: 5 * time.Millisecond})
	done := make(chan struct{})
	go dl.runSweeper(done)
	c, err := dl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(done); c.Close(); client.Close() })
	return c.(*deadlineConn), client, dl
}

// readTimesOut reads from c and checks that it fails with a deadline
// error no sooner than min after from, and not much later than max.
func readTimesOut(t *testing.T, c net.Conn, from time.Time, min, max time.Duration) {
	t.Helper()
	_, err := c.Read(make([]byte, 1))
	el := time.Since(from)
	if !errors.Is(err, os.ErrDeadlineExceeded) || el < min || el > max {
		t.Fatalf("Read after %v: %v, want a deadline error after %v to %v", el, err, min, max)
	}
}

func TestDeadlineConnFirstRequestReadTimeout(t *testing.T) {
	start := time.Now()
	c, _, _ := pipeConn(t)
	readTimesOut(t, c, start, 40*time.Millisecond, time.Second)
}

func TestDeadlineConnIdleThenReadTimeout(t *testing.T) {
	c, client, _ := pipeConn(t)
	go client.Write([]byte("GET"))
	if _, err := c.Read(make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	go io.ReadFull(client, make([]byte, 4))
	if _, err := c.Write([]byte("resp")); err != nil {
		t.Fatal(err)
	}
	// Between requests the idle timeout (600 ms) applies, not the read
	// timeout (40 ms).
	start := time.Now()
	readTimesOut(t, c, start, 600*time.Millisecond, 5*time.Second)

	c2, client2, _ := pipeConn(t)
	go client2.Write([]byte("GET"))
	c2.Read(make([]byte, 3))
	go io.ReadFull(client2, make([]byte, 4))
	c2.Write([]byte("resp"))
	// The next request's first byte starts its read timeout.
	go client2.Write([]byte("G"))
	if _, err := c2.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// (Well before the idle timeout; the margin is for a loaded CI machine.)
	start = time.Now()
	readTimesOut(t, c2, start, 40*time.Millisecond, 500*time.Millisecond)
}

func TestDeadlineConnWriteTimeoutAndShutdown(t *testing.T) {
	c, client, dl := pipeConn(t)
	start := time.Now()
	if _, err := c.Write([]byte("y")); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("Write to a peer that does not read: %v after %v", err, time.Since(start))
	}
	// A later write clears the enforced deadline.
	go io.ReadFull(client, make([]byte, 1))
	if _, err := c.Write([]byte("z")); err != nil {
		t.Fatalf("Write after an enforced deadline: %v", err)
	}
	// A deadline set by fasthttp (shutdown) applies at once.
	if err := c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read with a past deadline: %v", err)
	}
	c.Close()
	dl.mu.Lock()
	n := len(dl.conns)
	dl.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d connections still tracked after Close", n)
	}
}

// TestDeadlineConnRace records deadlines while the sweeper enforces them:
// a deadline recorded in the future must never be left enforced (run with
// -race).
func TestDeadlineConnRace(t *testing.T) {
	pl := &pipeListener{ch: make(chan net.Conn, 1)}
	server, client := net.Pipe()
	defer client.Close()
	pl.ch <- server
	dl := newDeadlineListener(pl, connTimeouts{read: time.Hour, write: time.Hour, idle: time.Hour, tick: time.Millisecond})
	nc, _ := dl.Accept()
	c := nc.(*deadlineConn)
	defer c.Close()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				dl.sweep(time.Now())
			}
		}
	}()
	for range 2000 {
		_ = c.want(&c.rd, time.Now().UnixNano(), c.Conn.SetReadDeadline)
		_ = c.want(&c.rd, time.Now().Add(time.Hour).UnixNano(), c.Conn.SetReadDeadline)
	}
	close(stop)
	wg.Wait()
	go client.Write([]byte("x"))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("Read after the last deadline (an hour ahead): %v", err)
	}
}

// keepAliveRequest is a routing request answered with a 302 on a kept
// connection.
const keepAliveRequest = "GET /a HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\nX-MM-Client-IP: 12.34.0.1\r\n\r\n"

// TestRoutingTimeouts runs the server on real TCP with short limits: a
// client that sends half a request and one that idles on a keep-alive
// connection are both disconnected, neither before its timeout.
func TestRoutingTimeouts(t *testing.T) {
	const readTimeout, idleTimeout = 300 * time.Millisecond, 500 * time.Millisecond
	srv, cancel, done := runFixtureServer(t, Config{HTTPAddr: "127.0.0.1:0",
		Limits: Limits{ReadTimeout: readTimeout, IdleTimeout: idleTimeout, TimeoutTick: 20 * time.Millisecond}})
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr := srv.HTTPAddr().String()

	// closedAfter reports when the server closed c (reading until EOF); it
	// runs on the goroutines below, so a failure is reported with Errorf
	// (FailNow belongs to the test's own goroutine) and ok is false.
	closedAfter := func(c net.Conn, from time.Time) (el time.Duration, ok bool) {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("waiting for the server to close: %v", err)
			return 0, false
		}
		return time.Since(from), true
	}

	slow, idle := testrun.DialTCP(t, addr), testrun.DialTCP(t, addr)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		start := time.Now()
		slow.Write([]byte("GET /a HTTP/1.1\r\nHost: tr.http-only-test.thecdn.example.com\r\n"))
		if el, ok := closedAfter(slow, start); ok && (el < readTimeout || el > readTimeout+time.Second) {
			t.Errorf("half-sent request: closed after %v, want about %v", el, readTimeout)
		}
	}()
	go func() {
		defer wg.Done()
		io.WriteString(idle, keepAliveRequest)
		line, err := bufio.NewReader(idle).ReadString('\n')
		if err != nil || !strings.Contains(line, "302") {
			t.Errorf("keep-alive request: %q, %v", line, err)
			return
		}
		start := time.Now()
		if el, ok := closedAfter(idle, start); ok && (el < idleTimeout-50*time.Millisecond || el > idleTimeout+time.Second) {
			t.Errorf("idle keep-alive connection: closed after %v, want about %v", el, idleTimeout)
		}
	}()
	wg.Wait()
}

// TestShutdownCutsWaitingConnections: a connection that never sent a
// request and one between keep-alive requests do not hold up Run's return
// (fasthttp alone counts a fresh connection idle only after 5 s, as long
// as the shutdown timeout).
func TestShutdownCutsWaitingConnections(t *testing.T) {
	srv, cancel, done := runFixtureServer(t, Config{HTTPAddr: "127.0.0.1:0"})
	addr := srv.HTTPAddr().String()
	testrun.DialTCP(t, addr) // fresh: never sends a request
	kept := testrun.DialTCP(t, addr)
	io.WriteString(kept, keepAliveRequest)
	if line, err := bufio.NewReader(kept).ReadString('\n'); err != nil || !strings.Contains(line, "302") {
		t.Fatalf("keep-alive request: %q, %v", line, err)
	}
	time.Sleep(50 * time.Millisecond) // let the fresh connection be accepted
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("Run returned %v after cancel", el)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}
