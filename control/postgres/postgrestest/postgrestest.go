// Package postgrestest is the PostgreSQL test kit of the router sources:
// a per-test schema (internal/pgtest) and an ops database with the
// fixture CDN published (OpsDB).
package postgrestest

import (
	"testing"

	"github.com/signpost-cdn/signpost/internal/pgtest"
)

// ServerURL is the test server's URL (SIGNPOST_TEST_DATABASE, default
// postgres://postgres@127.0.0.1:5432/test).
func ServerURL() string { return pgtest.ServerURL() }

// New creates a fresh schema for the test, dropped when it ends, and
// returns a URL selecting it; see internal/pgtest.
func New(tb testing.TB) string {
	tb.Helper()
	return pgtest.New(tb)
}
