// Package store is the PostgreSQL schema and every query of the ops API
// server: CDNs, versioned generations of their files (content-addressed
// blobs stored with a pre-compressed copy), users and sessions. Every query
// is parameterized; no value is ever spliced into SQL text.
package store

import (
	"context"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// NotifyChannel is the LISTEN/NOTIFY channel a publish notifies. The payload
// is "<cdn id> <generation> <schema>".
const NotifyChannel = "signpost_ops"

// migrationLockKey serializes concurrent migrators (pg_advisory_xact_lock).
const migrationLockKey = 0x5349474e504f5354 // "SIGNPOST"

// ErrNotFound is returned when a CDN, generation or user does not exist.
var ErrNotFound = errors.New("not found")

// Store is the ops database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (a postgres:// URL or DSN), applies
// pending migrations and returns the store.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("ops store: database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ops store: connect: %w", err)
	}
	if _, err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool}, nil
}

// Close closes every connection.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the connection pool (for tests and the listener).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migration is one embedded schema migration.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order. File names
// are "<version>_<name>.sql".
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(entries))
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("ops store: migration file %q: name must be <version>_<name>.sql", e.Name())
		}
		body, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("ops store: two migrations with version %d", out[i].Version)
		}
	}
	return out, nil
}

// beginner is what Migrate needs: a pool or a single connection.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Migrate applies every pending migration in one transaction, recording each
// in schema_migrations, and returns the versions it applied. Concurrent
// callers serialize on an advisory lock; running it again applies nothing.
func Migrate(ctx context.Context, db beginner) ([]int, error) {
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("ops store: migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockKey)); err != nil {
		return nil, fmt.Errorf("ops store: migrate: lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("ops store: migrate: schema_migrations: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("ops store: migrate: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("ops store: migrate: %w", err)
	}
	have := make(map[int]bool, len(done))
	for _, v := range done {
		have[int(v)] = true
	}
	var applied []int
	for _, m := range migs {
		if have[m.Version] {
			continue
		}
		// Exec without arguments uses the simple protocol, which runs a
		// multi-statement file. The SQL is our embedded file, never input.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("ops store: migration %d (%s): %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name); err != nil {
			return nil, fmt.Errorf("ops store: migration %d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("ops store: migrate: commit: %w", err)
	}
	return applied, nil
}

// File is one stored file of a generation: the exact body served, its gzip
// form and the SHA-256 of Body (its identity and ETag source).
type File struct {
	Name   string
	Body   []byte
	Gzip   []byte
	SHA256 [32]byte
}

// NewFile builds a File, hashing body. gz must be body compressed with gzip.
func NewFile(name string, body, gz []byte) File {
	return File{Name: name, Body: body, Gzip: gz, SHA256: sha256.Sum256(body)}
}

// Generation describes one published generation of a CDN.
type Generation struct {
	CDN        string
	CDNID      int64
	Number     int64
	CreatedAt  time.Time
	Author     string
	Comment    string
	RollbackOf int64 // the generation this one restored, 0 if not a rollback
}

// CDN is one CDN row.
type CDN struct {
	ID                int64
	Name              string
	CurrentGeneration int64
}

// PublishRequest is a new generation to store.
type PublishRequest struct {
	CDN        string
	Files      []File
	Author     string
	Comment    string
	RollbackOf int64
}

// Publish stores a new generation of req.CDN (creating the CDN on its first
// publish) and returns it with the number of the generation it replaced (0
// for the first). Publishes of one CDN are serialized by a row lock on the
// CDN, so numbers are strictly increasing and none is lost; the NOTIFY is
// delivered when the transaction commits.
func (s *Store) Publish(ctx context.Context, req PublishRequest) (Generation, int64, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Generation{}, 0, fmt.Errorf("ops store: publish: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after commit
	if _, err := tx.Exec(ctx, "INSERT INTO cdn (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", req.CDN); err != nil {
		return Generation{}, 0, fmt.Errorf("ops store: publish: create CDN: %w", err)
	}
	var id, prev int64
	err = tx.QueryRow(ctx, "SELECT id, current_generation FROM cdn WHERE name = $1 FOR UPDATE", req.CDN).Scan(&id, &prev)
	if err != nil {
		return Generation{}, 0, fmt.Errorf("ops store: publish: lock CDN: %w", err)
	}
	if err := insertBlobs(ctx, tx, req.Files); err != nil {
		return Generation{}, 0, err
	}
	g := Generation{CDN: req.CDN, CDNID: id, Number: prev + 1, Author: req.Author, Comment: req.Comment, RollbackOf: req.RollbackOf}
	var rb *int64
	if req.RollbackOf > 0 {
		rb = &req.RollbackOf
	}
	err = tx.QueryRow(ctx, `INSERT INTO generation (cdn_id, generation, author, comment, rollback_of)
		VALUES ($1, $2, $3, $4, $5) RETURNING created_at`, id, g.Number, req.Author, req.Comment, rb).Scan(&g.CreatedAt)
	if err != nil {
		return Generation{}, 0, fmt.Errorf("ops store: publish: generation: %w", err)
	}
	batch := &pgx.Batch{}
	for _, f := range req.Files {
		batch.Queue("INSERT INTO generation_file (cdn_id, generation, name, sha256) VALUES ($1, $2, $3, $4)",
			id, g.Number, f.Name, f.SHA256[:])
	}
	batch.Queue("UPDATE cdn SET current_generation = $1 WHERE id = $2", g.Number, id)
	batch.Queue("SELECT pg_notify($1, $2::bigint::text || ' ' || $3::bigint::text || ' ' || current_schema())", NotifyChannel, id, g.Number)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return Generation{}, 0, fmt.Errorf("ops store: publish: files: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return Generation{}, 0, fmt.Errorf("ops store: publish: commit: %w", err)
	}
	return g, prev, nil
}

// insertBlobs stores the bodies not yet present, sending only those.
func insertBlobs(ctx context.Context, tx pgx.Tx, files []File) error {
	if len(files) == 0 {
		return nil
	}
	sums := make([][]byte, len(files))
	for i := range files {
		sums[i] = files[i].SHA256[:]
	}
	rows, err := tx.Query(ctx, "SELECT sha256 FROM blob WHERE sha256 = ANY($1)", sums)
	if err != nil {
		return fmt.Errorf("ops store: publish: blobs: %w", err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return fmt.Errorf("ops store: publish: blobs: %w", err)
	}
	present := make(map[[32]byte]bool, len(have))
	for _, h := range have {
		present[[32]byte(h)] = true
	}
	batch := &pgx.Batch{}
	for _, f := range files {
		if present[f.SHA256] {
			continue
		}
		present[f.SHA256] = true
		batch.Queue("INSERT INTO blob (sha256, body, gzip) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING",
			f.SHA256[:], f.Body, f.Gzip)
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return fmt.Errorf("ops store: publish: blobs: %w", err)
	}
	return nil
}

// CDNs returns every CDN, by name.
func (s *Store) CDNs(ctx context.Context) ([]CDN, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, name, current_generation FROM cdn ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("ops store: CDNs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CDN, error) {
		var c CDN
		err := r.Scan(&c.ID, &c.Name, &c.CurrentGeneration)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("ops store: CDNs: %w", err)
	}
	return out, nil
}

// Load returns generation number (0 = the current one) of the CDN named cdn
// with its files sorted by name. ErrNotFound when either does not exist.
func (s *Store) Load(ctx context.Context, cdn string, number int64) (Generation, []File, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, "SELECT id FROM cdn WHERE name = $1", cdn).Scan(&id); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return Generation{}, nil, fmt.Errorf("ops store: CDN %q: %w", cdn, ErrNotFound)
		}
		return Generation{}, nil, fmt.Errorf("ops store: load: %w", err)
	}
	return s.LoadByID(ctx, id, number)
}

// LoadByID is Load with the CDN's id.
func (s *Store) LoadByID(ctx context.Context, cdnID, number int64) (Generation, []File, error) {
	g := Generation{CDNID: cdnID}
	var rb *int64
	err := s.pool.QueryRow(ctx, `SELECT c.name, g.generation, g.created_at, g.author, g.comment, g.rollback_of
		FROM cdn c JOIN generation g ON g.cdn_id = c.id
		WHERE c.id = $1 AND g.generation = CASE WHEN $2::bigint = 0 THEN c.current_generation ELSE $2::bigint END`,
		cdnID, number).Scan(&g.CDN, &g.Number, &g.CreatedAt, &g.Author, &g.Comment, &rb)
	if errors.Is(err, pgx.ErrNoRows) {
		return Generation{}, nil, fmt.Errorf("ops store: CDN id %d generation %d: %w", cdnID, number, ErrNotFound)
	}
	if err != nil {
		return Generation{}, nil, fmt.Errorf("ops store: load: %w", err)
	}
	if rb != nil {
		g.RollbackOf = *rb
	}
	rows, err := s.pool.Query(ctx, `SELECT f.name, b.sha256, b.body, b.gzip
		FROM generation_file f JOIN blob b ON b.sha256 = f.sha256
		WHERE f.cdn_id = $1 AND f.generation = $2 ORDER BY f.name`, cdnID, g.Number)
	if err != nil {
		return Generation{}, nil, fmt.Errorf("ops store: load files: %w", err)
	}
	files, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) {
		var f File
		var sum []byte
		if err := r.Scan(&f.Name, &sum, &f.Body, &f.Gzip); err != nil {
			return f, err
		}
		if len(sum) != len(f.SHA256) {
			return f, fmt.Errorf("blob hash of %s has %d bytes", f.Name, len(sum))
		}
		f.SHA256 = [32]byte(sum)
		return f, nil
	})
	if err != nil {
		return Generation{}, nil, fmt.Errorf("ops store: load files: %w", err)
	}
	return g, files, nil
}

// History returns up to limit generations of the CDN, newest first (all when
// limit <= 0).
func (s *Store) History(ctx context.Context, cdn string, limit int) ([]Generation, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, `SELECT c.id, g.generation, g.created_at, g.author, g.comment, g.rollback_of
		FROM cdn c JOIN generation g ON g.cdn_id = c.id
		WHERE c.name = $1 ORDER BY g.generation DESC LIMIT $2`, cdn, lim)
	if err != nil {
		return nil, fmt.Errorf("ops store: history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Generation, error) {
		g := Generation{CDN: cdn}
		var rb *int64
		err := r.Scan(&g.CDNID, &g.Number, &g.CreatedAt, &g.Author, &g.Comment, &rb)
		if rb != nil {
			g.RollbackOf = *rb
		}
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("ops store: history: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("ops store: CDN %q: %w", cdn, ErrNotFound)
	}
	return out, nil
}

// Notification is one decoded publish notification.
type Notification struct {
	CDNID      int64
	Generation int64
}

// Listen holds one dedicated connection LISTENing on NotifyChannel. It calls
// ready once listening (the caller then loads the current state, so nothing
// published after ready is missed) and notify for every publish in this
// schema, until ctx ends (nil) or the connection, ready or notify fails
// (that error).
func (s *Store) Listen(ctx context.Context, ready func() error, notify func(Notification) error) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("ops store: listen: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("ops store: listen: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("ops store: listen: %w", err)
	}
	if err := ready(); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ops store: listen: %w", err)
		}
		if nt, ok := parseNotification(n, schema); ok {
			if err := notify(nt); err != nil {
				return err
			}
		}
	}
}

// parseNotification decodes "<cdn id> <generation> <schema>", ignoring
// notifications of other schemas.
func parseNotification(n *pgconn.Notification, schema string) (Notification, bool) {
	f := strings.SplitN(n.Payload, " ", 3)
	if n.Channel != NotifyChannel || len(f) != 3 || f[2] != schema {
		return Notification{}, false
	}
	id, err1 := strconv.ParseInt(f[0], 10, 64)
	gen, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return Notification{}, false
	}
	return Notification{CDNID: id, Generation: gen}, true
}
