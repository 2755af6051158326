package postgres

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/control/sourcetest"

	"github.com/jackc/pgx/v5"

	"github.com/signpost-cdn/signpost/control"
	"github.com/signpost-cdn/signpost/control/postgres/postgrestest"
	"github.com/signpost-cdn/signpost/ops"
	"github.com/signpost-cdn/signpost/ops/store"
)

// harness runs a Source and collects what it publishes.
type harness struct {
	*sourcetest.Harness
	src *Source
}

func run(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{Harness: sourcetest.New()}
	opts.Logger = h.Logger()
	if opts.RetryMin == 0 {
		opts.RetryMin, opts.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	h.Start(t, src)
	return h
}

// serial returns the test serial of a Set's snapshot.
func serial(s *control.Set) string { return s.Snapshot.Config.Raw["signpost.test.serial"] }

// withApp sets a per-test application_name so the test can find (and
// terminate) exactly its own connections.
func withApp(t *testing.T, u, app string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := p.Query()
	q.Set("application_name", app)
	p.RawQuery = q.Encode()
	return p.String()
}

func TestSignpostPublishFollowRemove(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	base := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	db.Publish(t, "other", postgrestest.WithSerial(t, base, 100))
	state := t.TempDir()
	h := run(t, Options{URL: db.URL, CDN: "cdn1", StateDir: state})
	s := h.Next(t, 5*time.Second)
	if serial(s) != "1" || s.Steering == nil || s.Federations == nil || s.CoverageZones == nil || s.TLSKeys == nil {
		t.Fatalf("first set: serial %q steering %v feds %v czf %v tls %v", serial(s), s.Steering != nil, s.Federations != nil, s.CoverageZones != nil, s.TLSKeys != nil)
	}
	// Every accepted file is in the state directory.
	for name := range s.Hashes {
		if _, err := os.Stat(filepath.Join(state, name)); err != nil {
			t.Errorf("state copy of %s: %v", name, err)
		}
	}

	// A new generation arrives within a second; a publish of another CDN
	// does not produce a Set.
	db.Publish(t, "other", postgrestest.WithSerial(t, base, 101))
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 2))
	if s := h.Next(t, time.Second); serial(s) != "2" || s.Generation != 2 {
		t.Fatalf("second set: serial %q generation %d", serial(s), s.Generation)
	}

	// A generation without steering.json drops steering (and its state copy).
	noSteer := postgrestest.WithSerial(t, base, 3)
	delete(noSteer, control.FileSteering)
	db.Publish(t, "cdn1", noSteer)
	s = h.Next(t, time.Second)
	if serial(s) != "3" || s.Steering != nil {
		t.Fatalf("third set: serial %q steering %v", serial(s), s.Steering != nil)
	}
	if _, err := os.Stat(filepath.Join(state, control.FileSteering)); !os.IsNotExist(err) {
		t.Fatalf("steering state copy kept: %v", err)
	}
	select {
	case s := <-h.Sets:
		t.Fatalf("unexpected set %d", s.Generation)
	case <-time.After(200 * time.Millisecond):
	}
	if st := h.src.Status(); st.Generation != 3 {
		t.Fatalf("status generation %d", st.Generation)
	}
}

// TestInvalidGenerationNeverServed stores a generation bypassing the ops
// server's validation: the source rejects the bad file and keeps serving.
func TestInvalidGenerationNeverServed(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	base := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	h := run(t, Options{URL: db.URL, CDN: "cdn1"})
	first := h.Next(t, 5*time.Second)

	bad := store.NewFile(control.FileSnapshot, []byte(`{"response": {"contentServers": 7}}`), []byte{})
	ctx := context.Background()
	if _, _, err := db.Store.Publish(ctx, store.PublishRequest{CDN: "cdn1", Files: []store.File{bad}, Author: "test"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		fs, _ := h.src.Status().File(control.FileSnapshot)
		if fs.RejectedCount > 0 {
			if !strings.Contains(fs.LastError, "contentServers") || fs.Hash != first.Hashes[control.FileSnapshot] {
				t.Fatalf("status: %+v", fs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bad generation not seen")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The other files of that generation are absent: optional ones are
	// dropped, but the snapshot in use stays.
	s := h.Next(t, time.Second)
	if s.Snapshot != first.Snapshot || s.Steering != nil {
		t.Fatalf("after the bad generation: snapshot changed %v, steering %v", s.Snapshot != first.Snapshot, s.Steering != nil)
	}
}

// TestReconnect terminates the source's connection (as a server restart
// would), publishes while it is gone, and checks the source catches up.
func TestReconnect(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	base := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	app := "signpost-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	h := run(t, Options{URL: withApp(t, db.URL, app), CDN: "cdn1"})
	h.Next(t, 5*time.Second)

	conn, err := pgx.Connect(context.Background(), postgrestest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for i := 2; i <= 4; i++ {
		var n int
		err := conn.QueryRow(context.Background(),
			"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
		if err != nil || n == 0 {
			t.Fatalf("terminate: %d backends, %v", n, err)
		}
		db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, i))
		if s := h.Next(t, 5*time.Second); serial(s) != strconv.Itoa(i) {
			t.Fatalf("after reconnect %d: serial %q", i, serial(s))
		}
	}
	if !strings.Contains(h.Logs.String(), "reconnecting") {
		t.Fatalf("reconnection not logged:\n%s", h.Logs)
	}
}

// TestServerRestart restarts the local PostgreSQL cluster; it disrupts
// every other test using the server, so it runs only with
// SIGNPOST_PG_RESTART=1.
func TestServerRestart(t *testing.T) {
	if os.Getenv("SIGNPOST_PG_RESTART") != "1" {
		t.Skip("set SIGNPOST_PG_RESTART=1 to restart the local PostgreSQL cluster")
	}
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) != 1 {
		t.Skipf("cannot find the cluster version under /etc/postgresql: %v", err)
	}
	db := postgrestest.NewOpsDB(t)
	base := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 1))
	h := run(t, Options{URL: db.URL, CDN: "cdn1"})
	h.Next(t, 5*time.Second)
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	db2 := &postgrestest.OpsDB{URL: db.URL}
	st, err := store.Open(context.Background(), db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db2.Store = st
	db2.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 2))
	if s := h.Next(t, 20*time.Second); serial(s) != "2" {
		t.Fatalf("after restart: serial %q", serial(s))
	}
}

// TestStartFromStateWhenDown starts a source against an unreachable
// database with a populated state directory.
func TestStartFromStateWhenDown(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	base := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 7))
	state := t.TempDir()
	{
		h := run(t, Options{URL: db.URL, CDN: "cdn1", StateDir: state})
		h.Next(t, 5*time.Second)
	}
	h := run(t, Options{URL: "postgres://nobody:secret-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", CDN: "cdn1", StateDir: state})
	s := h.Next(t, 5*time.Second)
	if serial(s) != "7" || s.Steering == nil {
		t.Fatalf("from state: serial %q steering %v", serial(s), s.Steering != nil)
	}
	if fs, _ := h.src.Status().File(control.FileSnapshot); !fs.FromState {
		t.Fatalf("status: %+v", fs)
	}
	time.Sleep(100 * time.Millisecond)
	if strings.Contains(h.Logs.String(), "secret-pw") {
		t.Fatalf("password logged:\n%s", h.Logs)
	}
}

// TestTrafficOpsMode reads a Traffic Ops snapshot table (spec B.1).
func TestTrafficOpsMode(t *testing.T) {
	u := postgrestest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE cdn (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL);
		CREATE TABLE snapshot (cdn text PRIMARY KEY REFERENCES cdn(name) ON UPDATE CASCADE ON DELETE CASCADE,
			crconfig json NOT NULL, monitoring json NOT NULL, last_updated timestamptz NOT NULL DEFAULT now());
		INSERT INTO cdn (name) VALUES ('cdn1')`); err != nil {
		t.Fatal(err)
	}
	base := postgrestest.FixtureFiles(t)
	put := func(n int) {
		t.Helper()
		crc := postgrestest.WithSerial(t, base, n)[control.FileSnapshot]
		if _, err := conn.Exec(ctx, `INSERT INTO snapshot (cdn, crconfig, monitoring) VALUES ('cdn1', $1, '{}')
			ON CONFLICT (cdn) DO UPDATE SET crconfig = EXCLUDED.crconfig, last_updated = now()`, string(crc)); err != nil {
			t.Fatal(err)
		}
	}
	h := run(t, Options{URL: u, CDN: "cdn1", Mode: ModeTrafficOps, PollInterval: 20 * time.Millisecond})
	// The CDN has no snapshot yet: that is logged (polled every 20 ms;
	// allow for a loaded machine).
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(h.Logs.String(), "no row in the snapshot table"); {
		if time.Now().After(deadline) {
			t.Fatalf("missing row not logged:\n%s", h.Logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	put(1)
	if s := h.Next(t, 2*time.Second); serial(s) != "1" || s.Steering != nil {
		t.Fatalf("first: %q", serial(s))
	}
	put(2)
	if s := h.Next(t, time.Second); serial(s) != "2" {
		t.Fatalf("second: %q", serial(s))
	}
	// An invalid snapshot is rejected; nothing is published.
	if _, err := conn.Exec(ctx, `UPDATE snapshot SET crconfig = '{"contentServers": 7}'`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if fs, _ := h.src.Status().File(control.FileSnapshot); fs.RejectedCount == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("status: %+v", fs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case s := <-h.Sets:
		t.Fatalf("invalid snapshot published: %d", s.Generation)
	default:
	}
}

// TestPublishLatency measures publish (commit) to Set delivery over 50
// publishes.
func TestPublishLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	db := postgrestest.NewOpsDB(t)
	base := postgrestest.FixtureFiles(t)
	db.Publish(t, "cdn1", postgrestest.WithSerial(t, base, 0))
	h := run(t, Options{URL: db.URL, CDN: "cdn1"})
	h.Next(t, 5*time.Second)
	const n = 50
	lat := make([]time.Duration, 0, n)
	for i := 1; i <= n; i++ {
		prep, err := ops.Prepare(postgrestest.WithSerial(t, base, i))
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now() // validation and compression done: from the store transaction on
		if _, _, err := db.Store.Publish(context.Background(), store.PublishRequest{CDN: "cdn1", Files: prep.Files, Author: "test"}); err != nil {
			t.Fatal(err)
		}
		s := h.Next(t, time.Second)
		lat = append(lat, s.Loaded.Sub(t0))
		if serial(s) != strconv.Itoa(i) {
			t.Fatalf("publish %d: serial %q", i, serial(s))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("postgres source: store publish transaction start → Set assembled, over %d publishes: p50 %v p99 %v max %v", n, lat[n/2], lat[n*99/100], lat[n-1])
}
