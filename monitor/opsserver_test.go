package monitor

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/signpost-cdn/signpost/control/postgres/postgrestest"
	"github.com/signpost-cdn/signpost/monitor/monitortest"
	"github.com/signpost-cdn/signpost/ops"
	"github.com/signpost-cdn/signpost/ops/store"
)

// TestMonitoringConfigFromOpsServer: a monitor takes its monitoring config
// from our own `ops serve` (real PostgreSQL) through the Traffic Ops 5.0
// login and /cdns/{cdn}/configs/monitoring endpoints.
func TestMonitoringConfigFromOpsServer(t *testing.T) {
	db := postgrestest.NewOpsDB(t)
	fleet := newFleet(t, 2)
	files := postgrestest.FixtureFiles(t)
	files[ops.FileMonitoring] = fleet.MonitoringConfig(monitortest.ConfigOptions{TOMS: 100})
	db.Publish(t, "cdn1", files)
	hash, err := bcrypt.GenerateFromPassword([]byte("secret-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := db.Store.PutUser(ctx, "tm", string(hash), store.RoleRead); err != nil {
		t.Fatal(err)
	}
	srv, err := ops.NewServer(ops.Config{Store: db.Store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	select {
	case <-srv.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("ops server not ready")
	}

	cfg := opsConfig(t, hs.URL, t.TempDir())
	cfg.Ops.Password = "secret-password"
	tm := runMonitor(t, cfg, monOpts{})
	tm.waitCache(t, "edge-1", true, "REPORTED - available")
	tm.waitReady(t)
	if code, b := get(t, tm.URL+"/publish/CrConfig"); code != 200 || !bytes.Contains(b, []byte(`"CDN_name":"thecdn"`)) {
		t.Errorf("CrConfig from the ops server: %d %.200s", code, b)
	}
}
