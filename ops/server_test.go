package ops

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPublishThenFetch(t *testing.T) {
	e := newEnv(t)
	files := fixtureFiles(t)
	e.publish("thecdn", files)
	tok := e.login("reader")

	resp, body := e.do("GET", snapshotPath("thecdn"), tok, nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("snapshot: %d %s", resp.StatusCode, body)
	}
	if want := compactWrapped(t, files[FileSnapshot]); !bytes.Equal(body, want) {
		t.Fatalf("snapshot body differs from the published file (%d vs %d bytes)", len(body), len(want))
	}
	if g := resp.Header.Get(GenerationHeader); g != "1" {
		t.Fatalf("%s = %q, want 1", GenerationHeader, g)
	}
	etag := resp.Header.Get("Etag")
	if !strings.HasPrefix(etag, `"`) || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("etag %q, encoding %q", etag, resp.Header.Get("Content-Encoding"))
	}

	// If-None-Match: 304 without a body, still with the generation.
	resp, body = e.do("GET", snapshotPath("thecdn"), tok, nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get(GenerationHeader) != "1" {
		t.Fatalf("If-None-Match: %d, %d bytes, generation %q", resp.StatusCode, len(body), resp.Header.Get(GenerationHeader))
	}

	// gzip: the stored compressed body, its own ETag, same content.
	resp, gz := e.do("GET", snapshotPath("thecdn"), tok, nil, map[string]string{"Accept-Encoding": "br;q=1, gzip;q=0.8"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
		t.Fatalf("gzip: %d encoding %q vary %q", resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, compactWrapped(t, files[FileSnapshot])) {
		t.Fatalf("gunzipped body differs (%v)", err)
	}
	gzTag := resp.Header.Get("Etag")
	if gzTag == etag || len(gz) >= len(plain) {
		t.Fatalf("gzip etag %q (identity %q), %d compressed vs %d bytes", gzTag, etag, len(gz), len(plain))
	}
	resp, _ = e.do("GET", snapshotPath("thecdn"), tok, nil, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"x", ` + gzTag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match with the gzip tag: %d", resp.StatusCode)
	}
	resp, _ = e.do("GET", snapshotPath("thecdn"), tok, nil, map[string]string{"Accept-Encoding": "gzip;q=0"})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Fatal("gzip;q=0 got gzip")
	}

	// Every other endpoint, in the Traffic Ops shapes.
	cases := []struct {
		path, want string
		status     int
	}{
		{"/api/5.0/cdns/thecdn/configs/monitoring", `"trafficServers":[`, 200},
		{"/api/5.0/steering", `{"response":[{"deliveryService":"client-steering-diversity-test"`, 200},
		{"/api/5.0/steering?cdnName=thecdn", `{"response":[{"deliveryService":"steering-test-1"`, 200},
		{"/api/5.0/federations/all", `{"response":[{"mappings":[{"resolve4":["12.34.10.1/32"`, 200},
		{"/api/5.0/federations/all?cdnName=thecdn", `{"response":[{"cdnName":"thecdn"},{"mappings":`, 200},
		{"/api/5.0/cdns/name/thecdn/sslkeys", `{"response":[{`, 200},
		{"/api/5.0/cdns/name/thecdn/dnsseckeys", `{"alerts":[{"text":" - Dnssec keys for thecdn could not be found. ","level":"success"}],"response":{}}`, 200},
		{"/api/5.0/signpost/cdns/thecdn/files/czmap.json", `{"coverageZones":`, 200},
		{"/api/4.1/cdns/thecdn/snapshot", `{"response":{"contentServers"`, 200},
		{"/api/5.0/cdns/nosuch/snapshot", `"CDN not found"`, 404},
		{"/api/5.0/federations/all?cdnName=nosuch", `"CDN not found"`, 404},
		{"/api/5.0/signpost/cdns/thecdn/files/geo.mmdb", `file not in generation 1`, 404},
		{"/api/2.0/cdns/thecdn/snapshot", `API version not supported`, 404},
		{"/api/5.0/ping", `{"ping":"pong"}`, 200},
	}
	for _, c := range cases {
		resp, body := e.do("GET", c.path, tok, nil, nil)
		if resp.StatusCode != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d %.200s; want %d containing %s", c.path, resp.StatusCode, body, c.status, c.want)
		}
	}
	// A CDN without monitoring config, steering or keys.
	e.publish("bare", map[string][]byte{FileSnapshot: files[FileSnapshot]})
	for path, want := range map[string]string{
		"/api/5.0/cdns/name/bare/sslkeys":       `{"response":[]}`,
		"/api/5.0/steering?cdnName=bare":        `{"response":[]}`,
		"/api/5.0/cdns/bare/configs/monitoring": `no monitoring.json in generation 1`,
	} {
		_, body := e.do("GET", path, tok, nil, nil)
		if !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %s; want %s", path, body, want)
		}
	}
	// Global endpoints carry the sum of the CDNs' generations.
	resp, _ = e.do("GET", "/api/5.0/steering", tok, nil, nil)
	if g := resp.Header.Get(GenerationHeader); g != "2" {
		t.Errorf("steering generation %q, want 2 (1 + 1)", g)
	}
}

func TestLongPoll(t *testing.T) {
	e := newEnv(t)
	files := fixtureFiles(t)
	e.publish("thecdn", files)
	tok := e.login("reader")

	// Timeout: nothing newer than generation 1 within 300ms -> 304.
	start := time.Now()
	resp, body := e.do("GET", snapshotPath("thecdn")+"?waitForGeneration=1&timeout=300ms", tok, nil, nil)
	took := time.Since(start)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get(GenerationHeader) != "1" {
		t.Fatalf("timeout: %d %q generation %q", resp.StatusCode, body, resp.Header.Get(GenerationHeader))
	}
	if took < 290*time.Millisecond || took > 2*time.Second {
		t.Fatalf("timeout of 300ms took %v", took)
	}
	// A caller that is behind gets the current generation at once.
	resp, _ = e.do("GET", snapshotPath("thecdn")+"?waitForGeneration=0&timeout=10s", tok, nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get(GenerationHeader) != "1" {
		t.Fatalf("behind: %d generation %q", resp.StatusCode, resp.Header.Get(GenerationHeader))
	}

	// A publish wakes the waiters at once.
	type result struct {
		resp *http.Response
		body []byte
		at   time.Time
	}
	const waiters = 5
	got := make(chan result, waiters)
	for range waiters {
		go func() {
			r, b := e.do("GET", snapshotPath("thecdn")+"?waitForGeneration=1&timeout=20s", tok, nil, nil)
			got <- result{r, b, time.Now()}
		}()
	}
	time.Sleep(300 * time.Millisecond) // let them park
	changed := editSnapshot(t, func(doc map[string]any) {
		delete(doc["deliveryServices"].(map[string]any), "http-only-test")
	})
	files[FileSnapshot] = changed
	e.publish("thecdn", files)
	published := time.Now()
	for range waiters {
		r := <-got
		if r.resp.StatusCode != 200 || r.resp.Header.Get(GenerationHeader) != "2" {
			t.Fatalf("woken waiter: %d generation %q", r.resp.StatusCode, r.resp.Header.Get(GenerationHeader))
		}
		if !bytes.Equal(r.body, compactWrapped(t, changed)) {
			t.Fatal("woken waiter got the old body")
		}
		if lag := r.at.Sub(published); lag > 100*time.Millisecond {
			t.Errorf("waiter answered %v after the publish; want within 100ms", lag)
		}
	}
	// Long poll on a CDN that does not exist yet: wakes on its first publish.
	done := make(chan *http.Response, 1)
	go func() {
		r, _ := e.do("GET", snapshotPath("later")+"?waitForGeneration=0&timeout=20s", tok, nil, nil)
		done <- r
	}()
	time.Sleep(200 * time.Millisecond)
	e.publish("later", map[string][]byte{FileSnapshot: files[FileSnapshot]})
	if r := <-done; r.StatusCode != 200 || r.Header.Get(GenerationHeader) != "1" {
		t.Fatalf("new CDN waiter: %d generation %q", r.StatusCode, r.Header.Get(GenerationHeader))
	}
	// Bad parameters are refused.
	for _, q := range []string{"waitForGeneration=x", "waitForGeneration=-1", "waitForGeneration=1&timeout=soon", "waitForGeneration=1&timeout=-1s"} {
		resp, body := e.do("GET", snapshotPath("thecdn")+"?"+q, tok, nil, nil)
		if resp.StatusCode != 400 {
			t.Errorf("?%s: %d %s; want 400", q, resp.StatusCode, body)
		}
	}
}

func TestInvalidPublishRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.login("publisher")
	bad := map[string]any{
		"comment": "broken",
		"files": map[string]any{
			"crconfig.json":   map[string]any{"config": "not an object", "contentServers": []int{1}},
			"steering.json":   map[string]any{"response": []any{map[string]any{"targets": 5}}},
			"monitoring.json": map[string]any{"trafficServers": []any{map[string]any{}}},
			"czmap.json":      map[string]any{"coverageZones": map[string]any{"z": map[string]any{"network": []string{"10.0.0.0/40"}}}},
			"extra.json":      map[string]any{},
		},
	}
	resp, body := e.do("POST", "/api/5.0/signpost/cdns/c1/generations", tok, bad, nil)
	if resp.StatusCode != 400 {
		t.Fatalf("invalid publish: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Alerts   []alert   `json:"alerts"`
		Problems []Problem `json:"problems"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range out.Problems {
		seen[p.File] = true
	}
	for _, f := range []string{"crconfig.json", "steering.json", "monitoring.json", "czmap.json", "extra.json"} {
		if !seen[f] {
			t.Errorf("no problem reported for %s in %s", f, body)
		}
	}
	if len(out.Alerts) != len(out.Problems) || len(out.Problems) < 7 {
		t.Errorf("%d alerts, %d problems: %s", len(out.Alerts), len(out.Problems), body)
	}
	for _, want := range []string{`czmap.json: coverageZones[\"z\"].network[0]`, `monitoring.json: config: missing`, `steering.json: response[0].deliveryService: required field is missing`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("problems lack %s: %s", want, body)
		}
	}
	// Nothing stored.
	var n int
	if err := e.store.Pool().QueryRow(e.ctx, "SELECT (SELECT count(*) FROM cdn) + (SELECT count(*) FROM blob)").Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows after a refused publish: %d (%v)", n, err)
	}
	// Also through the directory command.
	var buf bytes.Buffer
	dir := writeDir(t, map[string][]byte{FileSnapshot: []byte(`{"config": {}, "contentServers": {"c": {"port": "x"}}}`)})
	err := Publish(e.ctx, PublishOptions{DB: e.url, CDN: "c1", Dir: dir}, &buf)
	if err == nil || !strings.Contains(buf.String(), "refused:") || !strings.Contains(buf.String(), "nothing stored") {
		t.Fatalf("Publish of an invalid dir: %v\n%s", err, buf.String())
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t)
	e.publish("thecdn", fixtureFiles(t))
	// No credentials.
	resp, body := e.do("GET", snapshotPath("thecdn"), "", nil, nil)
	if resp.StatusCode != 401 || !strings.Contains(string(body), "Unauthorized, please log in.") {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, body)
	}
	// Bad password, unknown user, missing fields.
	for _, c := range []struct {
		body   any
		status int
	}{
		{map[string]string{"u": "reader", "p": "wrong"}, 401},
		{map[string]string{"u": "nobody", "p": testPassword}, 401},
		{map[string]string{"u": "reader"}, 400},
		{"not an object", 400},
	} {
		resp, body := e.do("POST", "/api/5.0/user/login", "", c.body, nil)
		if resp.StatusCode != c.status {
			t.Errorf("login %v: %d %s; want %d", c.body, resp.StatusCode, body, c.status)
		}
	}
	// A read user reads (bearer and cookie) but cannot publish.
	tok := e.login("reader")
	req, _ := http.NewRequest("GET", e.http.URL+snapshotPath("thecdn"), nil)
	req.AddCookie(&http.Cookie{Name: CookieMojolicious, Value: tok})
	r, err := e.http.Client().Do(req)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("cookie auth: %v %v", r.StatusCode, err)
	}
	r.Body.Close()
	pub := map[string]any{"files": map[string]json.RawMessage{"crconfig.json": compactWrapped(t, fixtureFiles(t)[FileSnapshot])}}
	resp, body = e.do("POST", "/api/5.0/signpost/cdns/thecdn/generations", tok, pub, nil)
	if resp.StatusCode != 403 {
		t.Fatalf("read user publish: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("POST", "/api/5.0/signpost/cdns/thecdn/generations/1/rollback", tok, nil, nil)
	if resp.StatusCode != 403 {
		t.Fatalf("read user rollback: %d %s", resp.StatusCode, body)
	}
	// A publish user publishes; the answer carries the new generation.
	ptok := e.login("publisher")
	resp, body = e.do("POST", "/api/5.0/signpost/cdns/thecdn/generations", ptok, pub, nil)
	if resp.StatusCode != 200 || resp.Header.Get(GenerationHeader) != "2" {
		t.Fatalf("publisher: %d %s", resp.StatusCode, body)
	}
	// ... and reads its own write at once.
	resp, _ = e.do("GET", snapshotPath("thecdn"), ptok, nil, nil)
	if resp.Header.Get(GenerationHeader) != "2" {
		t.Fatalf("after publish the server serves generation %s", resp.Header.Get(GenerationHeader))
	}
	// Expired and unknown sessions.
	var uid int64
	if err := e.store.Pool().QueryRow(e.ctx, "SELECT id FROM app_user WHERE username = 'reader'").Scan(&uid); err != nil {
		t.Fatal(err)
	}
	expired := "expired-token-value"
	if err := e.store.CreateSession(e.ctx, sha256Sum([]byte(expired)), uid, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{expired, "no-such-token", strings.Repeat("x", 1000)} {
		resp, _ := e.do("GET", snapshotPath("thecdn"), bad, nil, nil)
		if resp.StatusCode != 401 {
			t.Errorf("token %.20q: %d, want 401", bad, resp.StatusCode)
		}
	}
	// Session lifetime: a server with a 1s lifetime refuses the token later.
	short, err := NewServer(Config{Store: e.store, SessionLifetime: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptestRecorder(short, "POST", "/api/5.0/user/login", `{"u":"reader","p":"`+testPassword+`"}`, "")
	if rec.Code != 200 {
		t.Fatalf("login: %d", rec.Code)
	}
	stok := strings.TrimPrefix(strings.Split(rec.Header().Get("Set-Cookie"), ";")[0], CookieMojolicious+"=")
	time.Sleep(1100 * time.Millisecond)
	if rec := httptestRecorder(short, "GET", "/api/5.0/signpost/cdns/thecdn/generations", "", stok); rec.Code != 401 {
		t.Fatalf("session after its lifetime: %d", rec.Code)
	}
	if rec := httptestRecorder(e.srv, "GET", "/api/5.0/signpost/cdns/thecdn/generations", "", tok); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"generation":2`) {
		t.Fatalf("history: %d %s", rec.Code, rec.Body)
	}
}

func TestGenerationHeaderOnErrors(t *testing.T) {
	e := newEnv(t)
	e.publish("thecdn", fixtureFiles(t))
	tok := e.login("reader")
	resp, _ := e.do("GET", "/api/5.0/signpost/cdns/thecdn/files/nope.json", tok, nil, nil)
	if resp.StatusCode != 404 || resp.Header.Get(GenerationHeader) != strconv.Itoa(1) {
		t.Fatalf("404 of a missing file: %d generation %q", resp.StatusCode, resp.Header.Get(GenerationHeader))
	}
}

func BenchmarkHeaderParsing(b *testing.B) {
	e := newEntry([]byte("{}"), []byte("gz"), [32]byte{1})
	inm := `W/"nope", ` + e.etagGz
	b.ReportAllocs()
	for b.Loop() {
		_ = acceptsGzip("br;q=1.0, gzip;q=0.8, *;q=0.1")
		_ = etagMatch(inm, e)
	}
}
