package healthfeed

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/control"
)

// fetched is one good answer of a monitor.
type fetched struct {
	monitor int
	body    []byte
	hash    [sha256.Size]byte
	// states is nil when the body is byte-identical to the applied one
	// (it is then not decoded again).
	states *control.CrStates
}

// monitorState is the follower's record of one monitor; owned by Run.
type monitorState struct {
	url         string
	lastSuccess time.Time
	lastError   string
	lastErrorAt time.Time
	failures    uint64 // total
	consecutive int

	// rate limit of the failure log
	loggedAt   time.Time
	loggedMsg  string
	suppressed int
}

// pollMonitors asks the monitors in turn, starting with the last one that
// answered, until one gives a good answer. Failures are recorded and
// logged per monitor.
func (f *Follower) pollMonitors(ctx context.Context) (fetched, bool) {
	n := len(f.mons)
	for i := range n {
		f.syncFailOpen()
		idx := (f.current + i) % n
		res, err := f.fetch(ctx, idx)
		if ctx.Err() != nil {
			return fetched{}, false
		}
		now := time.Now()
		m := &f.mons[idx]
		if err != nil {
			f.monitorFailed(m, idx, err, now)
			continue
		}
		if m.consecutive > 0 {
			f.log.Info("health monitor answering again", "monitor", m.url, "failed_polls", m.consecutive)
		}
		m.lastSuccess, m.consecutive, m.loggedMsg, m.suppressed = now, 0, "", 0
		f.current = idx
		return res, true
	}
	return fetched{}, false
}

func (f *Follower) monitorFailed(m *monitorState, idx int, err error, now time.Time) {
	msg := err.Error()
	m.lastError, m.lastErrorAt = msg, now
	m.failures++
	m.consecutive++
	f.met.monitorFailures[idx].Inc()
	if msg == m.loggedMsg && now.Sub(m.loggedAt) < f.cfg.LogEvery {
		m.suppressed++
		return
	}
	f.log.Warn("health monitor failed", "monitor", m.url, "reason", msg,
		"consecutive", m.consecutive, "suppressed_since_last_log", m.suppressed)
	m.loggedAt, m.loggedMsg, m.suppressed = now, msg, 0
}

// fetch GETs one monitor's CrStates with the request timeout. A non-200
// status, a transport error, an oversized or undecodable body are errors.
func (f *Follower) fetch(ctx context.Context, idx int) (fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.mons[idx].url, nil)
	if err != nil {
		return fetched{}, err
	}
	// Set explicitly: the transport then leaves decompression to us, for
	// custom clients and transports alike.
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("Accept", "application/json")
	resp, err := f.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fetched{}, fmt.Errorf("timeout after %s", f.cfg.Timeout)
		}
		return fetched{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fetched{}, fmt.Errorf("HTTP %d %s: %q", resp.StatusCode, http.StatusText(resp.StatusCode),
			strings.TrimSpace(string(snippet)))
	}
	var r io.Reader = resp.Body
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			return fetched{}, fmt.Errorf("gzip body: %w", err)
		}
		defer gz.Close()
		r = gz
	default:
		return fetched{}, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	body, err := io.ReadAll(io.LimitReader(r, f.cfg.MaxBodyBytes+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fetched{}, fmt.Errorf("timeout after %s reading the body", f.cfg.Timeout)
		}
		return fetched{}, fmt.Errorf("reading body: %w", err)
	}
	if int64(len(body)) > f.cfg.MaxBodyBytes {
		return fetched{}, fmt.Errorf("body larger than %s bytes", strconv.FormatInt(f.cfg.MaxBodyBytes, 10))
	}
	res := fetched{monitor: idx, body: body, hash: sha256.Sum256(body)}
	if f.haveApplied && res.hash == f.appliedHash {
		return res, nil
	}
	states, err := control.ParseCrStates(f.mons[idx].url, body)
	if err != nil {
		return fetched{}, fmt.Errorf("invalid CrStates: %w", err)
	}
	res.states = states
	return res, nil
}
