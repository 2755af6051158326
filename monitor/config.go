package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Config is the monitor's configuration file (docs/monitor.md). It is
// decoded strictly: an unknown key is an error. LoadConfig also accepts
// Traffic Monitor's traffic_monitor.cfg or traffic_ops.cfg directly.
type Config struct {
	// Hostname is this monitor's identity in the monitoring config's
	// trafficMonitors list. Default: the short host name.
	Hostname string `json:"hostname"`
	// Listen is the address of the HTTP API and page. Default ":80".
	Listen string `json:"listen"`
	// CDN is the CDN name used with the ops API.
	CDN string `json:"cdn"`
	// Ops selects the Traffic Ops compatible API as the source of the
	// monitoring config (exclusive with MonitoringFile).
	Ops *OpsConfig `json:"ops,omitempty"`
	// MonitoringFile selects a file holding the monitoring config (TO wire
	// format, bare or {"response": ...}); re-read when it changes.
	MonitoringFile string `json:"monitoring_file,omitempty"`
	// SnapshotFile optionally names a CrConfig served at /publish/CrConfig
	// in file mode.
	SnapshotFile string `json:"snapshot_file,omitempty"`
	// StateDir keeps the last good monitoring config and snapshot fetched
	// from the ops API (monitoring.json, snapshot.json).
	StateDir string `json:"state_dir,omitempty"`
	// CachePollingProtocol: "both" (default), "ipv4only" or "ipv6only".
	CachePollingProtocol string `json:"cache_polling_protocol"`
	// HTTPPollingFormat is the Accept header sent to caches and peers:
	// "text/json" (default) or "text/csv".
	HTTPPollingFormat string `json:"http_polling_format"`
	// HTTPTimeout bounds peer polls and ops API calls. Default 2s.
	HTTPTimeout Duration `json:"http_timeout"`
	// PeerOptimisticQuorumMin: see spec A.11. Default 0 (off).
	PeerOptimisticQuorumMin int `json:"peer_optimistic_quorum_min"`
	// MaxEvents is the size of the event log. Default 200.
	MaxEvents int `json:"max_events"`
	// StatPolling enables the full stat poll (delivery service stats and
	// raw-stat thresholds). Default true.
	StatPolling *bool `json:"stat_polling,omitempty"`
	// ConfigPollingInterval is how often the monitoring config is fetched
	// until the config's own tm.polling.interval is known. Default 5s.
	ConfigPollingInterval Duration `json:"config_polling_interval"`
	// PublishInterval is the longest delay between a poll result and the
	// state version that shows it. Default 100ms.
	PublishInterval Duration `json:"publish_interval"`
	// ServeReadTimeout and ServeWriteTimeout bound API requests. Default 10s.
	ServeReadTimeout  Duration `json:"serve_read_timeout"`
	ServeWriteTimeout Duration `json:"serve_write_timeout"`
	// MaxStatHistory caps how many full stat results are kept per cache
	// (the profile's history.count, capped). Default 5.
	MaxStatHistory int `json:"max_stat_history"`
	// Import names Traffic Monitor files whose settings form the base this
	// file overrides.
	Import *ImportConfig `json:"import,omitempty"`
}

// OpsConfig is the Traffic Ops compatible API used as the config source.
type OpsConfig struct {
	URL      string `json:"url"`
	Username string `json:"username"`
	Password string `json:"password"`
	Insecure bool   `json:"insecure"`
}

// ImportConfig names Traffic Monitor configuration files to import.
type ImportConfig struct {
	TrafficMonitorCfg string `json:"traffic_monitor_cfg,omitempty"`
	TrafficOpsCfg     string `json:"traffic_ops_cfg,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("2s").
type Duration struct{ time.Duration }

// UnmarshalJSON accepts a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"2s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// DefaultConfig returns the defaults every loaded file is laid over.
func DefaultConfig() *Config {
	t := true
	return &Config{
		Listen:                ":80",
		CachePollingProtocol:  "both",
		HTTPPollingFormat:     "text/json",
		HTTPTimeout:           Duration{2 * time.Second},
		MaxEvents:             200,
		StatPolling:           &t,
		ConfigPollingInterval: Duration{5 * time.Second},
		PublishInterval:       Duration{100 * time.Millisecond},
		ServeReadTimeout:      Duration{10 * time.Second},
		ServeWriteTimeout:     Duration{10 * time.Second},
		MaxStatHistory:        5,
	}
}

var (
	configKeys = []string{"hostname", "listen", "cdn", "ops", "monitoring_file", "snapshot_file", "state_dir",
		"cache_polling_protocol", "http_polling_format", "http_timeout", "peer_optimistic_quorum_min", "max_events",
		"stat_polling", "config_polling_interval", "publish_interval", "serve_read_timeout", "serve_write_timeout",
		"max_stat_history", "import"}
	opsKeys    = []string{"url", "username", "password", "insecure"}
	importKeys = []string{"traffic_monitor_cfg", "traffic_ops_cfg"}
	tmCfgKeys  = []string{"cache_polling_protocol", "crconfig_backup_file", "tmconfig_backup_file",
		"crconfig_history_count", "distributed_polling", "stat_polling", "health_flush_interval_ms",
		"stat_flush_interval_ms", "stat_buffer_interval_ms", "http_polling_format", "http_timeout_ms", "max_events",
		"monitor_config_polling_interval_ms", "peer_optimistic_quorum_min", "serve_read_timeout_ms",
		"serve_write_timeout_ms", "short_hostname_override", "static_file_dir", "traffic_ops_disk_retry_max",
		"traffic_ops_min_retry_interval_ms", "traffic_ops_max_retry_interval_ms", "log_location_access",
		"log_location_event", "log_location_error", "log_location_warning", "log_location_info", "log_location_debug"}
	toCfgKeys = []string{"username", "password", "url", "insecure", "cdnName", "httpListener", "httpsListener",
		"certFile", "keyFile", "usingDummyTO"}
)

// LoadConfig reads a configuration file: our own format (strict), or a
// Traffic Monitor traffic_monitor.cfg (a traffic_ops.cfg next to it is
// imported too), or a traffic_ops.cfg (a traffic_monitor.cfg next to it is
// imported too). The kind is detected from the keys. The result is
// validated; every problem is reported.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dir := filepath.Dir(path)
	var cfg *Config
	switch {
	case len(keys) > 0 && allIn(keys, tmCfgKeys) && !allIn(keys, configKeys):
		imp := &ImportConfig{TrafficMonitorCfg: path}
		if p := filepath.Join(dir, "traffic_ops.cfg"); fileExists(p) {
			imp.TrafficOpsCfg = p
		}
		cfg, err = importTM(DefaultConfig(), imp)
	case len(keys) > 0 && allIn(keys, toCfgKeys) && !allIn(keys, configKeys):
		imp := &ImportConfig{TrafficOpsCfg: path}
		if p := filepath.Join(dir, "traffic_monitor.cfg"); fileExists(p) {
			imp.TrafficMonitorCfg = p
		}
		cfg, err = importTM(DefaultConfig(), imp)
	default:
		cfg, err = decodeOwn(path, b, keys)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Hostname == "" {
		h, herr := os.Hostname()
		if herr != nil {
			return nil, fmt.Errorf("%s: hostname not set and the host name is unknown: %w", path, herr)
		}
		cfg.Hostname, _, _ = strings.Cut(h, ".")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func decodeOwn(path string, b []byte, keys map[string]json.RawMessage) (*Config, error) {
	var errs []error
	unknown := func(where string, m map[string]json.RawMessage, known []string) {
		for _, k := range sortedKeys(m) {
			if !slices.Contains(known, k) {
				errs = append(errs, fmt.Errorf("%s: %sunknown key %q", path, where, k))
			}
		}
	}
	unknown("", keys, configKeys)
	for name, known := range map[string][]string{"ops": opsKeys, "import": importKeys} {
		if raw, ok := keys[name]; ok {
			var sub map[string]json.RawMessage
			if json.Unmarshal(raw, &sub) == nil {
				unknown(name+": ", sub, known)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	// First pass: find imports.
	var first Config
	if err := strictDecode(b, &first); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	base := DefaultConfig()
	if first.Import != nil {
		imp := *first.Import
		for _, p := range []*string{&imp.TrafficMonitorCfg, &imp.TrafficOpsCfg} {
			if *p != "" && !filepath.IsAbs(*p) {
				*p = filepath.Join(filepath.Dir(path), *p)
			}
		}
		var err error
		if base, err = importTM(base, &imp); err != nil {
			return nil, err
		}
	}
	if err := strictDecode(b, base); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return base, nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: want %s, got JSON %s", te.Field, te.Type, te.Value)
		}
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the configuration object")
	}
	return nil
}

func allIn(m map[string]json.RawMessage, known []string) bool {
	for k := range m {
		if !slices.Contains(known, k) {
			return false
		}
	}
	return true
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// tmCfg is Traffic Monitor's traffic_monitor.cfg (spec A.3). Unknown keys
// are ignored, as Traffic Monitor does.
type tmCfg struct {
	CachePollingProtocol           *string `json:"cache_polling_protocol"`
	TMConfigBackupFile             *string `json:"tmconfig_backup_file"`
	CRConfigBackupFile             *string `json:"crconfig_backup_file"`
	DistributedPolling             bool    `json:"distributed_polling"`
	StatPolling                    *bool   `json:"stat_polling"`
	HTTPPollingFormat              *string `json:"http_polling_format"`
	HTTPTimeoutMS                  *int64  `json:"http_timeout_ms"`
	MaxEvents                      *int    `json:"max_events"`
	MonitorConfigPollingIntervalMS *int64  `json:"monitor_config_polling_interval_ms"`
	PeerOptimisticQuorumMin        *int    `json:"peer_optimistic_quorum_min"`
	ServeReadTimeoutMS             *int64  `json:"serve_read_timeout_ms"`
	ServeWriteTimeoutMS            *int64  `json:"serve_write_timeout_ms"`
	ShortHostnameOverride          *string `json:"short_hostname_override"`
	HealthFlushIntervalMS          *int64  `json:"health_flush_interval_ms"`
}

// toCfg is Traffic Monitor's traffic_ops.cfg (spec A.2).
type toCfg struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	URL           string `json:"url"`
	Insecure      bool   `json:"insecure"`
	CDNName       string `json:"cdnName"`
	HTTPListener  string `json:"httpListener"`
	HTTPSListener string `json:"httpsListener"`
}

func importTM(base *Config, imp *ImportConfig) (*Config, error) {
	c := base
	var errs []error
	if p := imp.TrafficMonitorCfg; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var t tmCfg
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		ms := func(v *int64, d *Duration) {
			if v != nil {
				d.Duration = time.Duration(*v) * time.Millisecond
			}
		}
		if t.CachePollingProtocol != nil {
			c.CachePollingProtocol = *t.CachePollingProtocol
		}
		if t.TMConfigBackupFile != nil && *t.TMConfigBackupFile != "" {
			c.StateDir = filepath.Dir(*t.TMConfigBackupFile)
		} else if c.StateDir == "" {
			c.StateDir = "/opt/traffic_monitor"
		}
		if t.DistributedPolling {
			errs = append(errs, fmt.Errorf("%s: distributed_polling: true is not supported", p))
		}
		if t.StatPolling != nil {
			v := *t.StatPolling
			c.StatPolling = &v
		}
		if t.HTTPPollingFormat != nil {
			c.HTTPPollingFormat = *t.HTTPPollingFormat
		}
		ms(t.HTTPTimeoutMS, &c.HTTPTimeout)
		if t.MaxEvents != nil {
			c.MaxEvents = *t.MaxEvents
		}
		ms(t.MonitorConfigPollingIntervalMS, &c.ConfigPollingInterval)
		if t.PeerOptimisticQuorumMin != nil {
			c.PeerOptimisticQuorumMin = *t.PeerOptimisticQuorumMin
		}
		ms(t.ServeReadTimeoutMS, &c.ServeReadTimeout)
		ms(t.ServeWriteTimeoutMS, &c.ServeWriteTimeout)
		ms(t.HealthFlushIntervalMS, &c.PublishInterval)
		if t.ShortHostnameOverride != nil && *t.ShortHostnameOverride != "" {
			c.Hostname = *t.ShortHostnameOverride
		}
	}
	if p := imp.TrafficOpsCfg; p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var t toCfg
		if err := json.Unmarshal(b, &t); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		c.Ops = &OpsConfig{URL: t.URL, Username: t.Username, Password: t.Password, Insecure: t.Insecure}
		c.CDN = t.CDNName
		if t.HTTPListener != "" {
			c.Listen = t.HTTPListener
		}
		if t.HTTPSListener != "" {
			errs = append(errs, fmt.Errorf("%s: httpsListener %q is not supported; terminate TLS in front of the monitor", p, t.HTTPSListener))
		}
		if c.StateDir == "" {
			c.StateDir = "/opt/traffic_monitor"
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Validate checks the configuration and lists every problem.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch {
	case c.Ops != nil && c.MonitoringFile != "":
		bad("ops", "set either ops or monitoring_file, not both")
	case c.Ops == nil && c.MonitoringFile == "":
		bad("ops", "no monitoring config source: set ops or monitoring_file")
	}
	if c.Ops != nil {
		u, err := url.Parse(c.Ops.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("ops.url", "want an http(s) URL, got %q", c.Ops.URL)
		}
		if c.Ops.Username == "" {
			bad("ops.username", "empty")
		}
		if c.CDN == "" {
			bad("cdn", "empty (required with ops)")
		}
	}
	if c.Hostname == "" {
		bad("hostname", "empty")
	}
	if c.Listen == "" {
		bad("listen", "empty")
	}
	switch c.CachePollingProtocol {
	case "both", "ipv4only", "ipv6only":
	default:
		bad("cache_polling_protocol", "want both, ipv4only or ipv6only, got %q", c.CachePollingProtocol)
	}
	switch c.HTTPPollingFormat {
	case "text/json", "text/csv":
	default:
		bad("http_polling_format", "want text/json or text/csv, got %q", c.HTTPPollingFormat)
	}
	for name, d := range map[string]Duration{"http_timeout": c.HTTPTimeout, "config_polling_interval": c.ConfigPollingInterval,
		"publish_interval": c.PublishInterval, "serve_read_timeout": c.ServeReadTimeout, "serve_write_timeout": c.ServeWriteTimeout} {
		if d.Duration <= 0 {
			bad(name, "must be positive, got %s", d.Duration)
		}
	}
	if c.PeerOptimisticQuorumMin < 0 {
		bad("peer_optimistic_quorum_min", "negative: %d", c.PeerOptimisticQuorumMin)
	}
	if c.MaxEvents < 1 {
		bad("max_events", "must be at least 1, got %d", c.MaxEvents)
	}
	if c.MaxStatHistory < 1 {
		bad("max_stat_history", "must be at least 1, got %d", c.MaxStatHistory)
	}
	if c.StatPolling == nil {
		bad("stat_polling", "unset")
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

func (c *Config) statPolling() bool { return c.StatPolling == nil || *c.StatPolling }
