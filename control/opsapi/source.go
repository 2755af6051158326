// Package opsapi is a control source for any Traffic Ops 5.0 compatible
// API: Signpost's ops server or a real Traffic Ops. It logs in
// (/api/5.0/user/login, session cookie), fetches the snapshot, steering,
// federations, DNSSEC and TLS keys of one CDN, plus the coverage zone,
// deep coverage zone, regional geoblock and anonymous IP policy files when
// the server offers Signpost's files endpoint. Requests are conditional
// (ETag / If-None-Match). When the server announces generations
// (X-Signpost-Generation) the source long-polls the snapshot and fetches
// the other datasets when the generation changes; otherwise it polls each
// dataset at the snapshot's *.polling.interval. Failures are retried with
// jittered exponential backoff; while the API is unreachable the last
// known good datasets (the state directory) serve. Credentials are never
// logged. See docs/sources.md.
package opsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/lkg"
)

// Protocol constants.
const (
	// APIVersion is the Traffic Ops API version requested.
	APIVersion = "5.0"
	// GenerationHeader is Signpost's generation header; a server sending
	// it supports the long poll parameters below.
	GenerationHeader       = "X-Signpost-Generation"
	paramWaitForGeneration = "waitForGeneration"
	paramTimeout           = "timeout"
	// maxBody caps one response body.
	maxBody = 1 << 30
)

// Options configure a Source.
type Options struct {
	// URL is the API's base URL: scheme, host and an optional path prefix
	// in front of /api (no credentials, no query).
	URL string
	// CDN is the CDN whose datasets are fetched.
	CDN string
	// Username and Password log in; without them no login is attempted.
	Username, Password string
	// StateDir keeps the last known good copy of every accepted dataset.
	StateDir string
	// LocalDir holds the files the API does not serve (geo.mmdb,
	// anonymous-ip.mmdb; with a real Traffic Ops also czmap.json,
	// dczmap.json, regional-geoblock.json, anonymous-ip.json); default
	// StateDir.
	LocalDir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Client defaults to an http.Client with the default transport (gzip,
	// proxies from the environment, system roots).
	Client *http.Client
	// PollInterval is how often the snapshot is fetched from a server
	// without long poll, and the fallback interval of datasets whose
	// *.polling.interval is absent; default 10s.
	PollInterval time.Duration
	// LongPollTimeout is the timeout asked of a long poll; default 30s.
	LongPollTimeout time.Duration
	// RequestTimeout bounds every request (plus LongPollTimeout for a long
	// poll); default 30s.
	RequestTimeout time.Duration
	// RetryMin and RetryMax pace retries after a failure (defaults 500ms
	// and 30s).
	RetryMin, RetryMax time.Duration
}

// Source is the ops API source.
type Source struct {
	opts      Options
	base      string
	log       *slog.Logger
	files     *lkg.Files
	local     *lkg.Local
	endpoints []*endpoint
	cookies   []*http.Cookie
	longPoll  bool  // the server sent a generation header
	gen       int64 // server generation in use
	haveGen   bool
}

var _ control.Source = (*Source)(nil)

// endpoint is one dataset's URL and conditional-request state.
type endpoint struct {
	file        string
	path        string // after /api/<version>
	query       url.Values
	signpost    bool // Signpost's files endpoint (absent on Traffic Ops)
	interval    func(*control.Config) int64
	etag        string
	next        time.Time // polling mode: when due; after a failure: when to retry
	failed      bool      // the last fetch failed
	unsupported bool      // the server does not serve it (Traffic Ops)
	// transform, when set, rewrites a 200 body before validation.
	transform func([]byte) ([]byte, error)
}

// New returns a source. It checks the options but makes no request.
func New(opts Options) (*Source, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("ops API source: URL %q: want http(s)://host[/prefix]", lkg.RedactURL(opts.URL))
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("ops API source: URL %s: credentials and parameters go in Options, not the URL", lkg.RedactURL(opts.URL))
	}
	if opts.CDN == "" {
		return nil, errors.New("ops API source: the CDN name is required (?cdn=NAME)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 10 * time.Second
	}
	if opts.LongPollTimeout <= 0 {
		opts.LongPollTimeout = 30 * time.Second
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.LocalDir == "" {
		opts.LocalDir = opts.StateDir
	}
	base := strings.TrimSuffix(u.String(), "/")
	log := opts.Logger.With("source", base, "cdn", opts.CDN)
	s := &Source{opts: opts, base: base, log: log,
		files: lkg.New(lkg.Options{StateDir: opts.StateDir, Logger: log}),
		local: lkg.NewLocal(opts.LocalDir, lkg.LocalFiles()...)}
	s.endpoints = endpoints(opts.CDN)
	return s, nil
}

func endpoints(cdn string) []*endpoint {
	esc := url.PathEscape(cdn)
	byName := url.Values{"cdnName": {cdn}}
	ms := func(f func(c *control.Config) int64) func(*control.Config) int64 { return f }
	files := func(name string, iv func(c *control.Config) int64) *endpoint {
		return &endpoint{file: name, path: "/signpost/cdns/" + esc + "/files/" + name, signpost: true, interval: iv}
	}
	return []*endpoint{
		{file: control.FileSnapshot, path: "/cdns/" + esc + "/snapshot", interval: ms(func(*control.Config) int64 { return 0 })},
		{file: control.FileSteering, path: "/steering", query: byName, interval: ms(func(c *control.Config) int64 { return c.SteeringInterval })},
		{file: control.FileFederations, path: "/federations/all", query: byName, transform: dropCDNNameElement,
			interval: ms(func(c *control.Config) int64 { return c.FederationInterval })},
		{file: control.FileDNSSECKeys, path: "/cdns/name/" + esc + "/dnsseckeys", interval: ms(func(c *control.Config) int64 { return c.KeystoreMaintenance * 1000 })},
		{file: control.FileTLSKeys, path: "/cdns/name/" + esc + "/sslkeys", interval: ms(func(c *control.Config) int64 { return c.CertificatesInterval })},
		files(control.FileCoverageZones, func(c *control.Config) int64 { return c.CoverageZoneInterval }),
		files(control.FileDeepCoverageZones, func(c *control.Config) int64 { return c.DeepCoverageZoneInterval }),
		files(control.FileRegionalGeoblock, func(c *control.Config) int64 { return c.RegionalGeoblockInterval }),
		files(control.FileAnonymousPolicy, func(c *control.Config) int64 { return c.AnonymousIPInterval }),
	}
}

// Status returns the current operator status.
func (s *Source) Status() control.Status { return s.files.Status() }

// Run fetches every dataset, publishes the first Set and follows changes
// until ctx is done (it then returns nil).
func (s *Source) Run(ctx context.Context, publish func(*control.Set)) error {
	s.local.Offer(s.files)
	bo := lkg.Backoff{Min: s.opts.RetryMin, Max: s.opts.RetryMax}
	fellBack, synced := false, false
	for {
		changed, err := s.cycle(ctx, synced && s.longPoll)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.log.Error("ops API request failed; the datasets in use keep serving", "error", err)
			if s.files.Generation() == 0 && !fellBack {
				fellBack = true
				s.local.Offer(s.files)
				s.files.LoadAllState(append([]string{control.FileHealth}, lkg.LocalFiles()...)...)
				if !s.files.Publish(publish) {
					s.log.Error("no valid " + control.FileSnapshot + " from the ops API or the state directory; waiting for one")
				}
			}
			if !sleep(ctx, bo.Next()) {
				return nil
			}
			continue
		}
		bo.Reset()
		synced = true
		if s.local.Offer(s.files) {
			changed = true
		}
		if changed || s.files.Generation() == 0 {
			s.files.Publish(publish)
		}
		if !s.longPoll && !sleep(ctx, s.untilDue()) {
			return nil
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// untilDue is how long until the next dataset is due (polling mode).
func (s *Source) untilDue() time.Duration {
	d := s.opts.PollInterval
	now := time.Now()
	for _, ep := range s.endpoints[1:] {
		if ep.unsupported {
			continue
		}
		d = min(d, max(ep.next.Sub(now), 0))
	}
	return d
}

// waitTimeout is the long-poll timeout: LongPollTimeout, shortened so a
// dataset whose fetch failed is retried on time.
func (s *Source) waitTimeout() time.Duration {
	d := s.opts.LongPollTimeout
	now := time.Now()
	for _, ep := range s.endpoints[1:] {
		if ep.failed {
			d = min(d, max(ep.next.Sub(now), time.Second))
		}
	}
	return d
}

// interval is how often ep is polled without long poll.
func (s *Source) interval(ep *endpoint) time.Duration {
	ms := int64(0)
	if snap := s.files.Snapshot(); snap != nil {
		ms = ep.interval(&snap.Config)
	}
	if ms <= 0 {
		return s.opts.PollInterval
	}
	return max(time.Duration(ms)*time.Millisecond, time.Second)
}

// response is one fetched dataset.
type response struct {
	status int // 200, 304 or 404
	body   []byte
	etag   string
	gen    int64
	hasGen bool
}

// maxInconsistent bounds the re-fetches of a cycle whose responses came
// from different generations (a publish landed mid-cycle).
const maxInconsistent = 3

// cycle fetches the snapshot (long-polling when wait) and the datasets due,
// offers what changed and reports whether anything was accepted.
func (s *Source) cycle(ctx context.Context, wait bool) (bool, error) {
	for attempt := 1; ; attempt++ {
		got, consistent, err := s.fetchAll(ctx, wait)
		if err != nil {
			return false, err
		}
		if !consistent && attempt < maxInconsistent {
			wait = false
			continue
		}
		return s.apply(got), nil
	}
}

// fetchAll fetches the snapshot and the due datasets.
func (s *Source) fetchAll(ctx context.Context, wait bool) (map[*endpoint]response, bool, error) {
	snap := s.endpoints[0]
	var extra url.Values
	if wait && s.haveGen {
		extra = url.Values{paramWaitForGeneration: {strconv.FormatInt(s.gen, 10)},
			paramTimeout: {s.waitTimeout().String()}}
	}
	r, err := s.fetch(ctx, snap, extra)
	if err != nil {
		return nil, false, err
	}
	if r.status == http.StatusNotFound {
		return nil, false, fmt.Errorf("GET %s: 404: CDN %q not found", snap.path, s.opts.CDN)
	}
	if r.hasGen != s.longPoll {
		s.longPoll = r.hasGen
		s.log.Info("ops API generation support detected", "long_poll", r.hasGen)
	}
	got := map[*endpoint]response{snap: r}
	newGen := r.hasGen && (!s.haveGen || r.gen != s.gen)
	now := time.Now()
	consistent := true
	for _, ep := range s.endpoints[1:] {
		if ep.unsupported {
			continue
		}
		// With generations every dataset follows the snapshot's
		// generation (a failed one is retried on its own schedule);
		// without, each is polled at its own interval.
		due := !now.Before(ep.next)
		if r.hasGen {
			due = newGen || (ep.failed && due)
		}
		if !due {
			continue
		}
		rr, err := s.fetch(ctx, ep, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil, false, err
			}
			s.files.Reject(ep.file, err.Error())
			ep.failed, ep.next = true, now.Add(s.opts.PollInterval)
			continue
		}
		ep.failed = false
		if r.hasGen && rr.hasGen && rr.gen != r.gen {
			consistent = false
		}
		got[ep] = rr
	}
	return got, consistent, nil
}

// apply offers fetched bodies and reports whether anything was accepted.
func (s *Source) apply(got map[*endpoint]response) bool {
	changed := false
	snapResp := got[s.endpoints[0]]
	for _, ep := range s.endpoints {
		r, ok := got[ep]
		if !ok {
			continue
		}
		switch r.status {
		case http.StatusOK:
			ep.etag = r.etag
			if s.files.Offer(ep.file, r.body) {
				changed = true
			}
		case http.StatusNotModified:
		case http.StatusNotFound:
			switch {
			case ep.signpost && !r.hasGen:
				ep.unsupported = true
				s.log.Info("the ops API does not serve "+ep.file+"; reading it from the local directory", "local_dir", s.opts.LocalDir)
				s.local = lkg.NewLocal(s.opts.LocalDir, append(lkg.LocalFiles(), s.unsupported()...)...)
			case r.hasGen:
				ep.etag = ""
				if s.files.Remove(ep.file) {
					changed = true
				}
			default:
				s.files.Reject(ep.file, "GET "+ep.path+": 404")
			}
		}
	}
	// Polling mode: schedule after the snapshot (and its intervals) are in.
	now := time.Now()
	for _, ep := range s.endpoints[1:] {
		if _, ok := got[ep]; ok {
			ep.next = now.Add(s.interval(ep))
		}
	}
	if snapResp.hasGen {
		s.gen, s.haveGen = snapResp.gen, true
	}
	return changed
}

func (s *Source) unsupported() []string {
	var out []string
	for _, ep := range s.endpoints {
		if ep.unsupported {
			out = append(out, ep.file)
		}
	}
	return out
}

// fetch GETs one dataset, logging in first when needed and again once on
// 401.
func (s *Source) fetch(ctx context.Context, ep *endpoint, extra url.Values) (response, error) {
	if s.cookies == nil && s.opts.Username != "" {
		if err := s.login(ctx); err != nil {
			return response{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		r, status, err := s.get(ctx, ep, extra)
		if err != nil {
			return response{}, err
		}
		if status == http.StatusUnauthorized && attempt == 0 && s.opts.Username != "" {
			if err := s.login(ctx); err != nil {
				return response{}, err
			}
			continue
		}
		return r, nil
	}
}

func (s *Source) get(ctx context.Context, ep *endpoint, extra url.Values) (response, int, error) {
	q := url.Values{}
	for k, v := range ep.query {
		q[k] = v
	}
	timeout := s.opts.RequestTimeout
	if extra != nil {
		for k, v := range extra {
			q[k] = v
		}
		timeout += s.opts.LongPollTimeout
	}
	target := s.base + "/api/" + APIVersion + ep.path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, target, nil)
	if err != nil {
		return response{}, 0, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "signpost-route")
	if ep.etag != "" {
		req.Header.Set("If-None-Match", ep.etag)
	}
	for _, c := range s.cookies {
		req.AddCookie(c)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return response{}, 0, fmt.Errorf("GET %s: %w", ep.path, stripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return response{}, 0, fmt.Errorf("GET %s: reading the body: %w", ep.path, stripURL(err))
	}
	if len(body) > maxBody {
		return response{}, 0, fmt.Errorf("GET %s: body larger than %d bytes", ep.path, maxBody)
	}
	r := response{status: resp.StatusCode, etag: resp.Header.Get("Etag")}
	if g := resp.Header.Get(GenerationHeader); g != "" {
		if n, err := strconv.ParseInt(g, 10, 64); err == nil {
			r.gen, r.hasGen = n, true
		}
	}
	switch resp.StatusCode {
	case http.StatusOK:
		r.body = body
		if ep.transform != nil {
			if r.body, err = ep.transform(body); err != nil {
				return response{}, 0, fmt.Errorf("GET %s: %w", ep.path, err)
			}
		}
	case http.StatusNotModified, http.StatusNotFound, http.StatusUnauthorized:
	default:
		return response{}, 0, fmt.Errorf("GET %s: %s%s", ep.path, resp.Status, alertText(body))
	}
	return r, resp.StatusCode, nil
}

// login posts the credentials and keeps the session cookies.
func (s *Source) login(ctx context.Context) error {
	body, err := json.Marshal(map[string]string{"u": s.opts.Username, "p": s.opts.Password})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, s.base+"/api/"+APIVersion+"/user/login", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "signpost-route")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("login: %w", stripURL(err))
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("login as %q: %s%s", s.opts.Username, resp.Status, alertText(msg))
	}
	s.cookies = resp.Cookies()
	if len(s.cookies) == 0 {
		return fmt.Errorf("login as %q: no session cookie in the response", s.opts.Username)
	}
	s.log.Info("logged in to the ops API", "user", s.opts.Username)
	return nil
}

// alertText extracts the alert texts of a Traffic Ops error body.
func alertText(body []byte) string {
	var doc struct {
		Alerts []struct {
			Text string `json:"text"`
		} `json:"alerts"`
	}
	if json.Unmarshal(body, &doc) != nil || len(doc.Alerts) == 0 {
		return ""
	}
	texts := make([]string, 0, len(doc.Alerts))
	for _, a := range doc.Alerts {
		texts = append(texts, a.Text)
	}
	return ": " + strings.Join(texts, "; ")
}

// stripURL removes the URL from a *url.Error (it is in the message
// already as the path; the base URL is in the logger's attributes).
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// dropCDNNameElement removes the {"cdnName": ...} element that
// /federations/all?cdnName= adds to the response list (spec B.3), leaving
// the federations.json shape. A body that is not such a list is returned
// unchanged for the validator to judge.
func dropCDNNameElement(body []byte) ([]byte, error) {
	var doc struct {
		Response []json.RawMessage `json:"response"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.Response == nil {
		return body, nil
	}
	kept := doc.Response[:0]
	dropped := false
	for _, el := range doc.Response {
		var m map[string]json.RawMessage
		if json.Unmarshal(el, &m) == nil && len(m) == 1 && m["cdnName"] != nil {
			dropped = true
			continue
		}
		kept = append(kept, el)
	}
	if !dropped {
		return body, nil
	}
	return json.Marshal(map[string][]json.RawMessage{"response": kept})
}
