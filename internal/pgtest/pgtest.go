// Package pgtest gives each test its own freshly created PostgreSQL schema,
// dropped when the test ends. The server is taken from SIGNPOST_TEST_DATABASE
// (default postgres://postgres@127.0.0.1:5432/test). When it is unreachable
// the test is skipped, except under CI (CI=true) where it fails.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signpost-cdn/signpost/internal/testtool"
)

// DefaultURL is the test server used when SIGNPOST_TEST_DATABASE is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerURL returns the configured test server URL.
func ServerURL() string {
	if u := os.Getenv("SIGNPOST_TEST_DATABASE"); u != "" {
		return u
	}
	return DefaultURL
}

// New creates a schema named after a random suffix and returns a database
// URL whose search_path is that schema. The schema is dropped (CASCADE) in
// tb.Cleanup.
func New(tb testing.TB) string {
	tb.Helper()
	base := ServerURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if testtool.InCI() {
			tb.Fatalf("pgtest: PostgreSQL unreachable at %s (required under CI=true): %v", base, err)
		}
		tb.Skipf("skipping: PostgreSQL unreachable at %s (set SIGNPOST_TEST_DATABASE): %v", base, err)
	}
	defer conn.Close(context.Background())
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "signpost_test_" + hex.EncodeToString(suffix[:])
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
