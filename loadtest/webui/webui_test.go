package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/testtool"
	"github.com/signpost-cdn/signpost/loadtest"
	"github.com/signpost-cdn/signpost/loadtest/internal/lttest"
)

func post(t *testing.T, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	dir := lttest.GenSmall(t)
	a := lttest.StartRouter(t, dir)
	s := New(context.Background(), loadtest.Config{})
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	code, body := post(t, hs.URL+"/api/start", `{"mode":"sideways","mix":{"miss":3}}`)
	if code != 400 || !strings.Contains(body, "snapshot: required") || !strings.Contains(body, `mode \"sideways\"`) || !strings.Contains(body, "mix.miss 3") {
		t.Fatalf("bad config: %d %s", code, body)
	}
	code, body = post(t, hs.URL+"/api/start", `{"nonsense":1}`)
	if code != 400 || !strings.Contains(body, "unknown field") {
		t.Fatalf("unknown field: %d %s", code, body)
	}
	resp, _ := http.Get(hs.URL + "/api/cdn?snapshot=" + url.QueryEscape(filepath.Join(dir, "missing")))
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad snapshot dir: %d", resp.StatusCode)
	}
	resp, _ = http.Get(hs.URL + "/api/cdn?snapshot=" + url.QueryEscape(dir))
	var info cdnInfo
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if info.HTTP == 0 || info.HTTPS == 0 || info.DNS == 0 {
		t.Fatalf("cdn info %+v", info)
	}

	cfg, _ := json.Marshal(loadtest.Config{Snapshot: dir, DNS: a.DNS, HTTP: a.HTTP, Mode: loadtest.OpenLoop, Rate: 500,
		Duration: loadtest.Duration(time.Minute), Mix: loadtest.DefaultMix()})
	if code, body := post(t, hs.URL+"/api/start", string(cfg)); code != 202 {
		t.Fatalf("start: %d %s", code, body)
	}
	if code, _ := post(t, hs.URL+"/api/start", string(cfg)); code != 409 {
		t.Fatalf("second start: %d, want 409", code)
	}
	time.Sleep(1500 * time.Millisecond)
	if st := s.Status(); !st.Running || len(st.Timeline) == 0 {
		t.Fatalf("live status: %+v", st)
	}
	code, _ = post(t, hs.URL+"/api/stop", "")
	st := s.Status()
	if code != 200 || st.Running || st.Result == nil || !st.Result.Interrupted || st.Result.Total.OK == 0 || st.Result.Total.Wrong != 0 {
		t.Fatalf("stop: %d %+v", code, st)
	}
	resp, _ = http.Get(hs.URL + "/report")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`class="row-total"`)) {
		t.Fatalf("report: %d", resp.StatusCode)
	}
}

// TestPageInChromium runs a test from the page in headless Chromium: a
// first load with query parameters fills the form and presses "Run test"
// (autostart=1); when the run is over a second load renders the result,
// whose DOM is checked and screenshotted. The screenshot is kept in
// $SIGNPOST_ARTIFACT_DIR when set, else in the test's artifact directory.
func TestPageInChromium(t *testing.T) {
	chromium := testtool.Require(t, "chromium")
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	dir := lttest.GenSmall(t)
	a := lttest.StartRouter(t, dir)
	s := New(context.Background(), loadtest.Config{})
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	outDir := os.Getenv("SIGNPOST_ARTIFACT_DIR")
	if outDir == "" {
		outDir = t.ArtifactDir()
	}
	args := func(u string, extra ...string) []string {
		return append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=3000", "--window-size=1200,1800",
		}, append(extra, u)...)
	}
	q := url.Values{"snapshot": {dir}, "dns": {a.DNS}, "http": {a.HTTP}, "https": {a.HTTPS}, "mode": {"closed"},
		"concurrency": {"4"}, "duration": {"2s"}, "mix": {"dns=1,dns-tcp=0.5,http=1,https=0.5"}, "autostart": {"1"}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, chromium, args(hs.URL+"/?"+q.Encode(), "--dump-dom")...).CombinedOutput(); err != nil {
		t.Fatalf("chromium (start): %v\n%s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Status().Result == nil && !s.Status().Running && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s.Wait()
	st := s.Status()
	if st.Result == nil {
		t.Fatalf("the page did not start a test: %+v", st)
	}
	if r := st.Result; r.Total.OK == 0 || r.Total.Wrong+r.Total.Errors+r.Total.Timeouts != 0 || len(r.Protocols) != 4 {
		t.Fatalf("run from the page:\n%s", r.Summary())
	}

	dom, err := exec.CommandContext(ctx, chromium, args(hs.URL+"/", "--dump-dom")...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	page := string(dom)
	for _, want := range []string{
		`data-ready="true"`, `data-state="finished"`,
		`<tr data-protocol="dns-udp">`, `<tr data-protocol="dns-tcp">`, `<tr data-protocol="http">`,
		`<tr data-protocol="https">`, `<tr data-protocol="total">`,
		`class="uplot`, "Throughput (requests per second)", "Latency distribution",
		`href="report"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	if strings.Contains(page, `class="bad"`) {
		t.Errorf("rendered page shows wrong answers or errors")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", page)
	}
	shot := filepath.Join(outDir, "loadtest-page.png")
	if out, err := exec.CommandContext(ctx, chromium, args(hs.URL+"/", "--screenshot="+shot)...).CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
}
