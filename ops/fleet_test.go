package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/pgtest"
	"github.com/signpost-cdn/signpost/ops/store"
)

// TestFleet is the performance check of docs/ops-api.md: 1,000 keep-alive
// clients long-poll one in-process server over TCP loopback; a publish must
// reach all of them within 1s; the idle fleet's CPU cost and the fetch
// latency of a 5,000-cache snapshot are reported. Run it with
//
//	SIGNPOST_OPS_FLEET=1 go test -run TestFleet -v ./ops/
func TestFleet(t *testing.T) {
	if testing.Short() || os.Getenv("SIGNPOST_OPS_FLEET") == "" {
		t.Skip("set SIGNPOST_OPS_FLEET=1 to run the 1,000-client fleet test (takes ~30s)")
	}
	const clients = 1000
	e := newEnv(t)
	files := fixtureFiles(t)
	e.publish("thecdn", files)
	tok := e.login("reader")
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var have [clients]atomic.Int64
	var parked atomic.Int64
	got := make(chan time.Time, clients*4)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			gen := int64(1)
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s%s?waitForGeneration=%d&timeout=30s", e.http.URL, snapshotPath("thecdn"), gen), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport leaves the body compressed
				parked.Add(1)
				resp, err := client.Do(req)
				parked.Add(-1)
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					var g int64
					fmt.Sscan(resp.Header.Get(GenerationHeader), &g)
					gen = g
					have[i].Store(g)
					got <- time.Now()
				}
			}
		})
	}
	waitFor(t, 20*time.Second, func() bool { return parked.Load() == clients })
	time.Sleep(500 * time.Millisecond) // requests reach the server and park

	e.publish("thecdn", map[string][]byte{FileSnapshot: editSnapshot(t, func(doc map[string]any) {
		doc["stats"].(map[string]any)["date"] = 2
	})})
	published := time.Now()
	var last time.Time
	for range clients {
		select {
		case at := <-got:
			last = at
		case <-time.After(5 * time.Second):
			t.Fatal("not every client got the publish within 5s")
		}
	}
	spread := last.Sub(published)
	t.Logf("publish reached %d long-polling clients within %v", clients, spread)
	if spread > time.Second {
		t.Errorf("publish took %v to reach every client; want < 1s", spread)
	}
	for i := range have {
		if have[i].Load() != 2 {
			t.Fatalf("client %d has generation %d", i, have[i].Load())
		}
	}

	// Idle CPU: every client parked waiting for generation 3.
	waitFor(t, 10*time.Second, func() bool { return parked.Load() == clients })
	time.Sleep(500 * time.Millisecond)
	before, t0 := cpuTime(t), time.Now()
	time.Sleep(10 * time.Second)
	used, wall := cpuTime(t)-before, time.Since(t0)
	share := float64(used) / float64(wall) * 100
	t.Logf("idle fleet of %d clients: process CPU %v over %v = %.2f%% of one core (server and clients together)", clients, used, wall.Round(time.Millisecond), share)
	if share > 5 {
		t.Errorf("idle CPU %.2f%% of a core; want < 5%%", share)
	}
	cancel()
	wg.Wait()

	// Fetch latency of a 5,000-cache snapshot.
	big := scaledSnapshot(t, 5000)
	e.publish("big", map[string][]byte{FileSnapshot: big})
	for _, enc := range []string{"identity", "gzip"} {
		lat, size := fetchLatency(t, client, e.http.URL+snapshotPath("big"), tok, enc, 50)
		t.Logf("5,000-cache snapshot, %s: %d bytes; p50 %v, p90 %v, max %v over 50 fetches", enc, size, lat[25], lat[45], lat[49])
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func fetchLatency(t *testing.T, c *http.Client, url, tok, enc string, n int) ([]time.Duration, int) {
	t.Helper()
	lat := make([]time.Duration, n)
	var size int
	for i := range n {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept-Encoding", enc)
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat[i] = time.Since(start)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("fetch: %d %v", resp.StatusCode, err)
		}
		size = len(b)
	}
	slices.Sort(lat)
	return lat, size
}

// scaledSnapshot returns the fixture CrConfig with n content servers, each
// a copy of the first with its own name, addresses and cache group.
func scaledSnapshot(tb testing.TB, n int) []byte {
	tb.Helper()
	var doc map[string]any
	if err := json.Unmarshal(fixture.Read(tb, "atc/CrConfig.json"), &doc); err != nil {
		tb.Fatal(err)
	}
	cs := doc["contentServers"].(map[string]any)
	var tmpl map[string]any
	for _, v := range cs {
		tmpl = v.(map[string]any)
		break
	}
	var groups []string
	for g := range doc["edgeLocations"].(map[string]any) {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	out := make(map[string]any, n)
	for i := range n {
		c := make(map[string]any, len(tmpl))
		for k, v := range tmpl {
			c[k] = v
		}
		name := fmt.Sprintf("edge-%05d", i)
		c["hashId"] = name
		c["fqdn"] = name + ".thecdn.example.com"
		c["ip"] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		c["ip6"] = fmt.Sprintf("2001:db8::%x/64", i+1)
		c["cacheGroup"] = groups[i%len(groups)]
		out[name] = c
	}
	doc["contentServers"] = out
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkFetchSnapshot5000 serves a 5,000-cache snapshot from memory
// through the full handler (auth cache hit, ETag, pre-compressed body).
func BenchmarkFetchSnapshot5000(b *testing.B) {
	for _, enc := range []string{"identity", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			srv, tok := benchServer(b, scaledSnapshot(b, 5000))
			req := httptest.NewRequest("GET", snapshotPath("big"), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept-Encoding", enc)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				srv.ServeHTTP(w, req)
			}
			b.SetBytes(int64(w.n))
		})
	}
}

// discardWriter is a ResponseWriter that counts the last body.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(int)     {}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.n = len(b)
	return len(b), nil
}

// benchServer runs a server over a fresh schema holding snapshot as CDN
// "big" and returns it with a reader's session token.
func benchServer(b *testing.B, snapshot []byte) (*Server, string) {
	b.Helper()
	st, err := store.Open(context.Background(), pgtest.New(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	srv, err := NewServer(Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	<-srv.Ready()
	res, err := publishFiles(ctx, st, "big", map[string][]byte{FileSnapshot: snapshot}, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	srv.waitGeneration(ctx, res.Generation.CDNID, res.Generation.Number)
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutUser(ctx, "reader", string(hash), store.RoleRead); err != nil {
		b.Fatal(err)
	}
	rec := httptestRecorder(srv, "POST", "/api/5.0/user/login", `{"u":"reader","p":"`+testPassword+`"}`, "")
	for _, c := range rec.Result().Cookies() {
		if c.Name == CookieMojolicious {
			return srv, c.Value
		}
	}
	b.Fatalf("login: %d %s", rec.Code, rec.Body)
	return nil, ""
}
