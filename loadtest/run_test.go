package loadtest

import (
	"context"
	"testing"
	"time"

	"github.com/signpost-cdn/signpost/loadtest/internal/lttest"
)

func TestRunAgainstRouter(t *testing.T) {
	dir := lttest.GenSmall(t)
	a := lttest.StartRouter(t, dir)
	cfg := Config{DNS: a.DNS, HTTP: a.HTTP, HTTPS: a.HTTPS, Snapshot: dir, Mode: ClosedLoop, Concurrency: 8,
		Duration: Duration(2 * time.Second), Mix: DefaultMix()}
	cfg.Mix.DNSTCP, cfg.Mix.HTTPS, cfg.Mix.Federation = 0.5, 0.5, 0.05
	var ticks int
	res, err := Run(context.Background(), cfg, nil, func(Progress) { ticks++ })
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary())
	if res.Total.Completed == 0 || res.Total.Wrong != 0 || res.Total.Errors != 0 || res.Total.Timeouts != 0 {
		t.Fatalf("want only good answers:\n%s", res.Summary())
	}
	if len(res.Protocols) != 4 || ticks == 0 {
		t.Fatalf("protocols %d, progress ticks %d", len(res.Protocols), ticks)
	}
}
