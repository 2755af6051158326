package healthfeed

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signpost-cdn/signpost/internal/metrics"
	"github.com/signpost-cdn/signpost/router"
)

// Defaults of Config.
const (
	DefaultInterval      = time.Second      // Traffic Router's cache.health.json.refresh.period
	DefaultTimeout       = 2 * time.Second  // per monitor request
	DefaultMaxAge        = 10 * time.Second // health older than this is unknown: fail open
	DefaultMaxDownShare  = 0.5              // share of caches an update may newly mark down
	DefaultConfirmPolls  = 3                // identical distrusted verdicts that confirm one
	DefaultDistrustLimit = 30 * time.Second // longest run of distrusted updates before one is taken
	DefaultMaxBodyBytes  = 64 << 20         // decoded CrStates body limit
	DefaultLogEvery      = 30 * time.Second // repeated monitor failure logs at most this often
	// StateFile is the name of the last good health in Config.StateDir.
	StateFile = "crstates.json"
	// CrStatesPath is appended to every monitor base URL.
	CrStatesPath = "/publish/CrStates"
)

// Config configures a Follower. Zero durations and numbers take the
// defaults above.
type Config struct {
	// Monitors are base URLs of health monitors ("http://tm1:80"); the
	// follower GETs <url>/publish/CrStates. At least one is required.
	Monitors []string
	// Router receives the health. Required.
	Router *router.Router
	// StateDir, when set, keeps the last accepted CrStates as
	// crstates.json (written atomically); at start it is applied before
	// the first poll.
	StateDir string
	// Interval between polls (default 1 s).
	Interval time.Duration
	// Timeout of one request to one monitor (default 2 s).
	Timeout time.Duration
	// MaxAge: with no successful poll for this long, health is unknown
	// and the router fails open (every cache available) until a poll
	// succeeds again (default 10 s). Must be at least Interval.
	MaxAge time.Duration
	// MaxDownShare: an update that newly marks more than this share of
	// the table's caches unavailable, compared with the last accepted
	// health, is distrusted (default 0.5; 1 disables the check).
	MaxDownShare float64
	// ConfirmPolls: a distrusted update is accepted when this many
	// consecutive successful polls (the first included) carry the same
	// set of unavailable caches (default 3).
	ConfirmPolls int
	// DistrustLimit: when every successful poll for this long has been
	// distrusted (even with changing verdicts), the latest one is accepted
	// (default 30 s), so a real mass outage is never ignored for longer.
	DistrustLimit time.Duration
	// MaxBodyBytes caps a decoded CrStates body (default 64 MiB).
	MaxBodyBytes int64
	// LogEvery rate-limits repeated failure logs of one monitor (default
	// 30 s); a change of reason is always logged.
	LogEvery time.Duration
	// Logger receives the logs (default: discard).
	Logger *slog.Logger
	// Metrics, when set, receives the follower's metrics.
	Metrics *metrics.Registry
	// Client sends the requests. Default: a client on Transport.
	Client *http.Client
	// Transport is used when Client is nil. Default: a clone of
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// withDefaults returns a copy of c with defaults filled in and every
// problem found, joined.
func (c Config) withDefaults() (Config, []string, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("healthfeed: "+format, args...)) }
	if len(c.Monitors) == 0 {
		bad("monitors: at least one monitor URL is required")
	}
	urls := make([]string, 0, len(c.Monitors))
	for i, m := range c.Monitors {
		u, err := url.Parse(m)
		switch {
		case err != nil:
			bad("monitors[%d]: invalid URL %q: %v", i, m, err)
			continue
		case u.Scheme != "http" && u.Scheme != "https":
			bad("monitors[%d]: invalid URL %q: scheme must be http or https", i, m)
			continue
		case u.Host == "":
			bad("monitors[%d]: invalid URL %q: no host", i, m)
			continue
		case u.RawQuery != "" || u.Fragment != "":
			bad("monitors[%d]: invalid URL %q: base URL must not carry a query or fragment", i, m)
			continue
		}
		urls = append(urls, strings.TrimSuffix(m, "/")+CrStatesPath)
	}
	if c.Router == nil {
		bad("router: required")
	}
	dur := func(name string, v *time.Duration, def time.Duration) {
		switch {
		case *v < 0:
			bad("%s: %s is negative", name, *v)
		case *v == 0:
			*v = def
		}
	}
	dur("interval", &c.Interval, DefaultInterval)
	dur("timeout", &c.Timeout, DefaultTimeout)
	dur("maxAge", &c.MaxAge, DefaultMaxAge)
	dur("distrustLimit", &c.DistrustLimit, DefaultDistrustLimit)
	dur("logEvery", &c.LogEvery, DefaultLogEvery)
	if c.Interval > 0 && c.MaxAge > 0 && c.MaxAge < c.Interval {
		bad("maxAge: %s is shorter than interval %s", c.MaxAge, c.Interval)
	}
	switch {
	case c.MaxDownShare < 0 || c.MaxDownShare > 1 || c.MaxDownShare != c.MaxDownShare:
		bad("maxDownShare: %v is outside [0, 1]", c.MaxDownShare)
	case c.MaxDownShare == 0:
		c.MaxDownShare = DefaultMaxDownShare
	}
	switch {
	case c.ConfirmPolls < 0:
		bad("confirmPolls: %d is negative", c.ConfirmPolls)
	case c.ConfirmPolls == 0:
		c.ConfirmPolls = DefaultConfirmPolls
	}
	switch {
	case c.MaxBodyBytes < 0:
		bad("maxBodyBytes: %d is negative", c.MaxBodyBytes)
	case c.MaxBodyBytes == 0:
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Client == nil {
		rt := c.Transport
		if rt == nil {
			rt = http.DefaultTransport.(*http.Transport).Clone()
		}
		c.Client = &http.Client{Transport: rt}
	}
	return c, urls, errors.Join(errs...)
}
