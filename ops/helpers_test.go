package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/internal/pgtest"
	"github.com/signpost-cdn/signpost/ops/store"
)

// env is one test's database, store and running server.
type env struct {
	t     *testing.T
	url   string
	store *store.Store
	srv   *Server
	http  *httptest.Server
	ctx   context.Context
}

const testPassword = "correct horse battery"

func newEnv(t *testing.T) *env {
	t.Helper()
	dbURL := pgtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		st.Close()
	})
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready")
	}
	e := &env{t: t, url: dbURL, store: st, srv: srv, http: hs, ctx: ctx}
	e.addUser("reader", store.RoleRead)
	e.addUser("publisher", store.RolePublish)
	return e
}

func (e *env) addUser(name, role string) {
	e.t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.PutUser(e.ctx, name, string(hash), role); err != nil {
		e.t.Fatal(err)
	}
}

// login returns the session token of user.
func (e *env) login(user string) string {
	e.t.Helper()
	resp, body := e.do("POST", "/api/5.0/user/login", "", map[string]string{"u": user, "p": testPassword}, nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == CookieMojolicious {
			return c.Value
		}
	}
	e.t.Fatal("login set no mojolicious cookie")
	return ""
}

// do sends a request (body JSON-encoded when not nil) with the token as a
// bearer token and returns the response with its body read.
func (e *env) do(method, path, token string, body any, hdr map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// Stop the transport from negotiating gzip itself.
	req.Header.Set("Accept-Encoding", "identity")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// fixtureFiles returns a valid set of dataset files from the shared fixtures.
func fixtureFiles(t *testing.T) map[string][]byte {
	t.Helper()
	return map[string][]byte{
		FileSnapshot:      fixture.Read(t, "atc/CrConfig.json"),
		FileSteering:      fixture.Read(t, "atc/steering.json"),
		FileFederations:   fixture.Read(t, "atc/federations.json"),
		FileSSLKeys:       fixture.Read(t, "atc/sslkeys.json"),
		FileCoverageZones: fixture.Read(t, "atc/czmap.json"),
		FileDeepCoverage:  fixture.Read(t, "atc/dczmap.json"),
		FileMonitoring:    []byte(monitoringExample),
	}
}

// monitoringExample is the monitoring config of spec A.5.
const monitoringExample = `{"response": {
  "trafficServers": [{"profile": "ATS_EDGE_TIER_CACHE", "status": "REPORTED", "port": 80, "cachegroup": "CDN_in_a_Box_Edge",
    "hostname": "edge", "fqdn": "edge.infra.ciab.test", "type": "EDGE", "hashid": "edge",
    "interfaces": [{"name": "eth0", "monitor": true, "mtu": 1500, "maxBandwidth": null,
      "ipAddresses": [{"address": "172.16.239.100", "gateway": null, "serviceAddress": true}]}],
    "deliveryServices": [{"xmlId": "demo1"}]}],
  "trafficMonitors": [{"profile": "RASCAL-Traffic_Monitor", "status": "ONLINE", "port": 80,
    "cachegroup": "CDN_in_a_Box_Edge", "hostname": "trafficmonitor", "fqdn": "trafficmonitor.infra.ciab.test",
    "ip": "172.16.239.40", "ip6": "fc01:9400:1000:8::40"}],
  "cacheGroups": [{"name": "CDN_in_a_Box_Edge", "coordinates": {"latitude": 38.897663, "longitude": -77.036574}}],
  "profiles": [{"name": "ATS_EDGE_TIER_CACHE", "type": "EDGE", "parameters": {"health.polling.url": "http://${hostname}/_astats", "history.count": 30}}],
  "deliveryServices": [{"xmlId": "demo1", "totalTpsThreshold": 0, "status": "REPORTED", "totalKbpsThreshold": 0,
    "type": "HTTP", "topology": "", "hostRegexes": [".*\\.demo1\\..*"]}],
  "config": {"health.polling.interval": 6000, "heartbeat.polling.interval": 3000, "peers.polling.interval": 3000, "tm.polling.interval": 2000},
  "topologies": {"demo1-top": {"nodes": ["CDN_in_a_Box_Edge"]}}
}}`

// writeDir writes files into a new temporary directory.
func writeDir(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// publish stores files as a new generation of cdn directly and waits until
// the server serves it.
func (e *env) publish(cdn string, files map[string][]byte) *PublishResult {
	e.t.Helper()
	res, err := publishFiles(e.ctx, e.store, cdn, files, "test", "")
	if err != nil {
		e.t.Fatalf("publish %q: %v", cdn, err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	e.srv.waitGeneration(ctx, res.Generation.CDNID, res.Generation.Number)
	return res
}

// snapshotPath is the snapshot endpoint of a CDN.
func snapshotPath(cdn string) string {
	return "/api/5.0/cdns/" + url.PathEscape(cdn) + "/snapshot"
}

// compactWrapped is what the server serves for a snapshot file.
func compactWrapped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString(`{"response":`)
	if err := json.Compact(&buf, unwrap(FileSnapshot, bytes.TrimSpace(data))); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// editSnapshot decodes the fixture CrConfig, applies fn and re-encodes it.
func editSnapshot(t *testing.T, fn func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(fixture.Read(t, "atc/CrConfig.json"), &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// httptestRecorder serves one request in memory.
func httptestRecorder(h http.Handler, method, path, body, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}
