// Package postgres is a control source reading a CDN's datasets straight
// from PostgreSQL. In signpost mode it reads the current generation of the
// ops database (package ops/store: tables cdn, generation_file, blob) and
// wakes on the LISTEN/NOTIFY channel the ops server's publishes notify; in
// trafficops mode it reads the CrConfig of an existing Traffic Ops database
// from its snapshot table (spec monitor-and-ops.md B.1) by polling. Both
// modes only read (the session is read-only), hold no transaction open,
// reconnect with backoff and re-read on reconnect so no change is missed,
// and serve the last known good datasets from the state directory while
// the database is unreachable. See docs/sources.md.
package postgres

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/lkg"
)

// Mode selects the database layout.
type Mode string

// Modes.
const (
	// ModeSignpost reads the ops database of `signpost ops` and follows
	// its notifications.
	ModeSignpost Mode = "signpost"
	// ModeTrafficOps reads the snapshot table of a Traffic Ops database
	// (crconfig only) by polling; Traffic Ops sends no notifications.
	ModeTrafficOps Mode = "trafficops"
)

// NotifyChannel is the channel ops/store notifies on a publish, with the
// payload "<cdn id> <generation> <schema>".
const NotifyChannel = "signpost_ops"

// Options configure a Source.
type Options struct {
	// URL is the database URL (postgres://...) as pgx accepts it, without
	// the cdn and mode parameters (ParseSource strips them).
	URL string
	// CDN is the name of the CDN whose datasets are read.
	CDN string
	// Mode defaults to ModeSignpost.
	Mode Mode
	// Username and Password, when set, replace those of URL.
	Username, Password string
	// StateDir keeps the last known good copy of every accepted dataset
	// and is where geo.mmdb and anonymous-ip.mmdb are read from (unless
	// LocalDir is set).
	StateDir string
	// LocalDir holds the operator-provided MaxMind databases; default
	// StateDir.
	LocalDir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// PollInterval is how often trafficops mode checks the snapshot row
	// (default 5s), and how often signpost mode re-checks the current
	// generation in case a notification was lost (default 30s). The local
	// MaxMind files are checked at the same pace.
	PollInterval time.Duration
	// QueryTimeout bounds each query (default 30s).
	QueryTimeout time.Duration
	// RetryMin and RetryMax pace reconnections (defaults 250ms and 15s).
	RetryMin, RetryMax time.Duration
}

// Source is the PostgreSQL source.
type Source struct {
	opts  Options
	cfg   *pgx.ConnConfig
	log   *slog.Logger
	files *lkg.Files
	local *lkg.Local
}

var _ control.Source = (*Source)(nil)

// served are the files the database delivers in signpost mode.
func served() []string {
	return []string{control.FileSnapshot, control.FileSteering, control.FileFederations, control.FileDNSSECKeys,
		control.FileTLSKeys, control.FileCoverageZones, control.FileDeepCoverageZones, control.FileRegionalGeoblock,
		control.FileAnonymousPolicy}
}

// New returns a source; it validates the options and the URL but does not
// connect (Run does, and keeps retrying).
func New(opts Options) (*Source, error) {
	if opts.CDN == "" {
		return nil, errors.New("postgres source: the CDN name is required (add ?cdn=NAME to the URL)")
	}
	switch opts.Mode {
	case "":
		opts.Mode = ModeSignpost
	case ModeSignpost, ModeTrafficOps:
	default:
		return nil, fmt.Errorf("postgres source: mode %q: want %s or %s", opts.Mode, ModeSignpost, ModeTrafficOps)
	}
	cfg, err := pgx.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres source: database URL %s: %w", lkg.RedactURL(opts.URL), redactErr(err, opts))
	}
	if opts.Username != "" {
		cfg.User = opts.Username
	}
	if opts.Password != "" {
		cfg.Password = opts.Password
	}
	// The router never writes; a read-only session makes that a guarantee.
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "signpost-route"
	}
	// A timed-out wait for a notification must not send a cancel request
	// that could cancel the next query on the same connection: expire the
	// socket deadline instead (a timed-out wait leaves the connection usable;
	// a timed-out query breaks it and the source reconnects).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
		if opts.Mode == ModeTrafficOps {
			opts.PollInterval = 5 * time.Second
		}
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 30 * time.Second
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = 250 * time.Millisecond
	}
	if opts.RetryMax <= 0 {
		opts.RetryMax = 15 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LocalDir == "" {
		opts.LocalDir = opts.StateDir
	}
	log := opts.Logger.With("source", lkg.RedactURL(opts.URL), "cdn", opts.CDN, "mode", string(opts.Mode))
	s := &Source{opts: opts, cfg: cfg, log: log,
		files: lkg.New(lkg.Options{StateDir: opts.StateDir, Logger: log}),
		local: lkg.NewLocal(opts.LocalDir, lkg.LocalFiles()...)}
	return s, nil
}

// Status returns the current operator status.
func (s *Source) Status() control.Status { return s.files.Status() }

// Run connects, publishes the current datasets and follows changes until
// ctx is done (it then returns nil). While the database is unreachable it
// serves the state directory's copies and reconnects with backoff.
func (s *Source) Run(ctx context.Context, publish func(*control.Set)) error {
	s.local.Offer(s.files)
	bo := lkg.Backoff{Min: s.opts.RetryMin, Max: s.opts.RetryMax}
	fellBack := false
	for {
		err := s.session(ctx, publish, &bo)
		if ctx.Err() != nil {
			return nil
		}
		s.log.Error("database session failed; reconnecting", "error", redactErr(err, s.opts))
		if s.files.Generation() == 0 && !fellBack {
			fellBack = true
			s.local.Offer(s.files)
			skip := append([]string{control.FileHealth}, lkg.LocalFiles()...)
			s.files.LoadAllState(skip...)
			if !s.files.Publish(publish) {
				s.log.Error("no valid " + control.FileSnapshot + " in the database or the state directory; waiting for one")
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(bo.Next()):
		}
	}
}

// session is one connection: connect, listen, read, then wait for
// notifications (or the poll interval) and re-read, until an error.
func (s *Source) session(ctx context.Context, publish func(*control.Set), bo *lkg.Backoff) error {
	cctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	conn, err := pgx.ConnectConfig(cctx, s.cfg.Copy())
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	r := &reader{s: s, conn: conn}
	if s.opts.Mode == ModeSignpost {
		if err := r.query(ctx, func(qctx context.Context) error {
			return conn.QueryRow(qctx, "SELECT current_schema()").Scan(&r.schema)
		}); err != nil {
			return fmt.Errorf("current schema: %w", err)
		}
		if err := r.query(ctx, func(qctx context.Context) error {
			_, err := conn.Exec(qctx, "LISTEN "+NotifyChannel)
			return err
		}); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	// Listening before reading: a publish committed after this read is
	// notified, one committed before is read now.
	if err := r.read(ctx, publish); err != nil {
		return err
	}
	bo.Reset()
	for {
		wctx, cancel := context.WithTimeout(ctx, s.opts.PollInterval)
		var n *pgconn.Notification
		var err error
		if s.opts.Mode == ModeSignpost {
			n, err = conn.WaitForNotification(wctx)
		} else {
			<-wctx.Done()
			err = wctx.Err()
		}
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			if !r.wanted(n) {
				continue
			}
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			// The periodic check: local files and a re-read.
			if s.local.Offer(s.files) {
				s.files.Publish(publish)
			}
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
		if err := r.read(ctx, publish); err != nil {
			return err
		}
	}
}

// reader is the per-connection read state.
type reader struct {
	s      *Source
	conn   *pgx.Conn
	schema string
	cdnID  int64
	gen    int64  // ops generation in use (signpost mode)
	sum    string // md5 of the crconfig text in use (trafficops mode)
	absent bool   // the CDN was missing at the last read (logged once)
}

// query runs fn with the query timeout.
func (r *reader) query(ctx context.Context, fn func(context.Context) error) error {
	qctx, cancel := context.WithTimeout(ctx, r.s.opts.QueryTimeout)
	defer cancel()
	return fn(qctx)
}

// wanted reports whether a notification concerns this CDN: same schema and
// the CDN's id (any id while the CDN is not known yet) with a generation
// other than the one in use.
func (r *reader) wanted(n *pgconn.Notification) bool {
	f := strings.SplitN(n.Payload, " ", 3)
	if n.Channel != NotifyChannel || len(f) != 3 || f[2] != r.schema {
		return false
	}
	id, err1 := strconv.ParseInt(f[0], 10, 64)
	gen, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return r.cdnID == 0 || (id == r.cdnID && gen != r.gen)
}

func (r *reader) read(ctx context.Context, publish func(*control.Set)) error {
	var changed bool
	var err error
	if r.s.opts.Mode == ModeTrafficOps {
		changed, err = r.readTrafficOps(ctx)
	} else {
		changed, err = r.readSignpost(ctx)
	}
	if err != nil {
		return err
	}
	if r.s.local.Offer(r.s.files) {
		changed = true
	}
	if changed || r.s.files.Generation() == 0 {
		r.s.files.Publish(publish)
	}
	return nil
}

// cdnMissing logs (once per absence) that the CDN has no data yet.
func (r *reader) cdnMissing(what string) {
	if !r.absent {
		r.s.log.Error(what + "; the previous datasets (if any) keep serving")
		r.absent = true
	}
}

// readSignpost reads the current generation's files whose hash differs
// from the version in use.
func (r *reader) readSignpost(ctx context.Context) (bool, error) {
	var id, gen int64
	err := r.query(ctx, func(qctx context.Context) error {
		return r.conn.QueryRow(qctx, "SELECT id, current_generation FROM cdn WHERE name = $1", r.s.opts.CDN).Scan(&id, &gen)
	})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && gen == 0) {
		r.cdnMissing("CDN not found in the ops database")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read CDN: %w", err)
	}
	r.absent = false
	r.cdnID = id
	if gen == r.gen {
		return false, nil
	}
	type entry struct {
		name string
		sum  string
	}
	var entries []entry
	err = r.query(ctx, func(qctx context.Context) error {
		rows, err := r.conn.Query(qctx, "SELECT name, sha256 FROM generation_file WHERE cdn_id = $1 AND generation = $2", id, gen)
		if err != nil {
			return err
		}
		entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (entry, error) {
			var e entry
			var sum []byte
			err := row.Scan(&e.name, &sum)
			e.sum = hex.EncodeToString(sum)
			return e, err
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("read generation %d: %w", gen, err)
	}
	inGen := make(map[string]bool, len(entries))
	var want []string
	for _, e := range entries {
		if !control.KnownFile(e.name) {
			continue // monitoring.json: the monitors' business
		}
		inGen[e.name] = true
		if d, ok := r.s.files.Accepted(e.name); ok && d.Hash == e.sum {
			continue
		}
		want = append(want, e.name)
	}
	bodies := make(map[string][]byte, len(want))
	if len(want) > 0 {
		err = r.query(ctx, func(qctx context.Context) error {
			rows, err := r.conn.Query(qctx, `SELECT f.name, b.body FROM generation_file f JOIN blob b ON b.sha256 = f.sha256
				WHERE f.cdn_id = $1 AND f.generation = $2 AND f.name = ANY($3)`, id, gen, want)
			if err != nil {
				return err
			}
			var name string
			var body []byte
			_, err = pgx.ForEachRow(rows, []any{&name, &body}, func() error {
				bodies[name] = body
				return nil
			})
			return err
		})
		if err != nil {
			return false, fmt.Errorf("read generation %d files: %w", gen, err)
		}
	}
	changed := false
	for _, name := range served() {
		if body, ok := bodies[name]; ok {
			if r.s.files.Offer(name, body) {
				changed = true
			}
		} else if !inGen[name] && r.s.files.Remove(name) {
			changed = true
		}
	}
	if !inGen[control.FileSnapshot] {
		r.s.files.Reject(control.FileSnapshot, fmt.Sprintf("generation %d has no %s", gen, control.FileSnapshot))
	}
	r.s.log.Info("read ops generation", "generation", gen, "files_read", len(bodies))
	r.gen = gen
	return changed, nil
}

// readTrafficOps reads the CrConfig from the snapshot table when its md5
// differs from the one in use.
func (r *reader) readTrafficOps(ctx context.Context) (bool, error) {
	var same bool
	var body *string
	err := r.query(ctx, func(qctx context.Context) error {
		return r.conn.QueryRow(qctx, `SELECT md5(crconfig::text) = $2,
			CASE WHEN md5(crconfig::text) = $2 THEN NULL ELSE crconfig::text END
			FROM snapshot WHERE cdn = $1`, r.s.opts.CDN, r.sum).Scan(&same, &body)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		r.cdnMissing("CDN has no row in the snapshot table")
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read snapshot: %w", err)
	}
	r.absent = false
	if same || body == nil {
		return false, nil
	}
	sum := md5.Sum([]byte(*body))
	r.sum = hex.EncodeToString(sum[:])
	return r.s.files.Offer(control.FileSnapshot, []byte(*body)), nil
}
