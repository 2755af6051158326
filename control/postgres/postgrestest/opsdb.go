package postgrestest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/internal/fixture"
	"github.com/signpost-cdn/signpost/ops"
	"github.com/signpost-cdn/signpost/ops/store"
)

// OpsDB is an ops database (ops/store schema, migrated) in a fresh schema.
type OpsDB struct {
	// URL selects the schema (search_path); Store is open on it.
	URL   string
	Store *store.Store
}

// NewOpsDB creates the schema, migrates it and closes the store at the end
// of the test.
func NewOpsDB(tb testing.TB) *OpsDB {
	tb.Helper()
	u := New(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, u)
	if err != nil {
		tb.Fatalf("postgrestest: %v", err)
	}
	tb.Cleanup(st.Close)
	return &OpsDB{URL: u, Store: st}
}

// Publish validates files as `signpost ops publish` does and stores them as
// the next generation of cdn, returning its number.
func (d *OpsDB) Publish(tb testing.TB, cdn string, files map[string][]byte) int64 {
	tb.Helper()
	prep, err := ops.Prepare(files)
	if err != nil {
		tb.Fatalf("postgrestest: publish: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, _, err := d.Store.Publish(ctx, store.PublishRequest{CDN: cdn, Files: prep.Files, Author: "test"})
	if err != nil {
		tb.Fatalf("postgrestest: publish: %v", err)
	}
	return g.Number
}

// FixtureFiles returns the dataset files of the fixture CDN directory that
// an ops generation stores.
func FixtureFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	raw, _, err := ops.ReadDir(fixture.DefaultDir(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// WithSerial returns a copy of files whose snapshot carries the config
// parameter "signpost.test.serial" = n (a distinct snapshot per n).
func WithSerial(tb testing.TB, files map[string][]byte, n int) map[string][]byte {
	tb.Helper()
	out := make(map[string][]byte, len(files))
	for k, v := range files {
		out[k] = v
	}
	var doc map[string]any
	if err := json.Unmarshal(files[ops.FileSnapshot], &doc); err != nil {
		tb.Fatal(err)
	}
	target := doc
	if r, ok := doc["response"].(map[string]any); ok {
		target = r
	}
	cfg, _ := target["config"].(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
		target["config"] = cfg
	}
	cfg["signpost.test.serial"] = strconv.Itoa(n)
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	out[ops.FileSnapshot] = b
	return out
}
