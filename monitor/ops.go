package monitor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// opsClient talks to a Traffic Ops compatible API (spec B.3/B.4): it logs
// in with POST /api/5.0/user/login, replays the session cookies, and logs
// in again once when a request answers 401. It is used by the source
// service goroutine only.
type opsClient struct {
	base     *url.URL
	user     string
	pass     string
	cdn      string
	ua       string
	timeout  time.Duration
	hc       *http.Client
	loggedIn bool
}

func newOpsClient(cfg *Config, rt http.RoundTripper, ua string) (*opsClient, error) {
	base, err := url.Parse(strings.TrimRight(cfg.Ops.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("ops.url: %w", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.Ops.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // operator's explicit choice (traffic_ops.cfg "insecure")
		}
		rt = t
	}
	return &opsClient{
		base: base, user: cfg.Ops.Username, pass: cfg.Ops.Password, cdn: cfg.CDN, ua: ua,
		timeout: cfg.HTTPTimeout.Duration, hc: &http.Client{Transport: rt, Jar: jar},
	}, nil
}

func (c *opsClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("User-Agent", c.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, b, nil
}

// alertText extracts the alert texts of a TO error body.
func alertText(b []byte) string {
	var doc struct {
		Alerts []struct {
			Text string `json:"text"`
		} `json:"alerts"`
	}
	if json.Unmarshal(b, &doc) != nil || len(doc.Alerts) == 0 {
		if len(b) > 200 {
			b = b[:200]
		}
		return strings.TrimSpace(string(b))
	}
	var texts []string
	for _, a := range doc.Alerts {
		texts = append(texts, a.Text)
	}
	return strings.Join(texts, "; ")
}

func (c *opsClient) login(ctx context.Context) error {
	body, _ := json.Marshal(map[string]string{"u": c.user, "p": c.pass})
	code, b, err := c.do(ctx, http.MethodPost, "/api/5.0/user/login", body)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if code != http.StatusOK {
		return fmt.Errorf("login: HTTP %d: %s", code, alertText(b))
	}
	c.loggedIn = true
	return nil
}

// get GETs an API path, logging in first if needed and once more on 401.
func (c *opsClient) get(ctx context.Context, path string) ([]byte, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if !c.loggedIn {
			if err := c.login(ctx); err != nil {
				return nil, err
			}
		}
		code, b, err := c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		if code == http.StatusUnauthorized {
			c.loggedIn = false
			continue
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, code, alertText(b))
		}
		return b, nil
	}
	return nil, fmt.Errorf("GET %s: unauthorized after a new login", path)
}

func (c *opsClient) monitoringPath() string {
	return "/api/5.0/cdns/" + url.PathEscape(c.cdn) + "/configs/monitoring"
}

func (c *opsClient) monitoring(ctx context.Context) ([]byte, error) {
	return c.get(ctx, c.monitoringPath())
}

// snapshot returns the CDN snapshot unwrapped from {"response": ...}.
func (c *opsClient) snapshot(ctx context.Context) ([]byte, error) {
	b, err := c.get(ctx, "/api/5.0/cdns/"+url.PathEscape(c.cdn)+"/snapshot")
	if err != nil {
		return nil, err
	}
	return unwrapSnapshot(b)
}

// unwrapSnapshot accepts a CrConfig bare or as {"response": ...} and checks
// that stats.CDN_name and stats.date are present (A.4).
func unwrapSnapshot(b []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if r, ok := doc["response"]; ok {
		b = r
		doc = nil
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("snapshot: response: %w", err)
		}
	}
	var stats struct {
		CDNName *string  `json:"CDN_name"`
		Date    *float64 `json:"date"`
	}
	if err := json.Unmarshal(doc["stats"], &stats); err != nil || stats.CDNName == nil || stats.Date == nil {
		return nil, errors.New("snapshot: stats.CDN_name or stats.date missing")
	}
	return bytes.Clone(b), nil
}

// writeFileAtomic writes via a temporary file, fsync and rename.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
	}
	return werr
}
