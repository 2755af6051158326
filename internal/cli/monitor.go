package cli

import (
	"context"
	"errors"
	"io"

	"github.com/signpost-cdn/signpost/monitor"
)

// runMonitor is `signpost monitor --config FILE`.
func runMonitor(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := newFlagSet("monitor", "--config FILE", stderr)
	path := fs.String("config", "", "monitor configuration: signpost JSON, or Traffic Monitor's traffic_monitor.cfg / traffic_ops.cfg")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *path == "" {
		return usageError(stderr, fs, errors.New("--config FILE is required"))
	}
	cfg, err := monitor.LoadConfig(*path)
	if err != nil {
		return fail(stderr, "monitor", err)
	}
	m, err := monitor.New(cfg, monitor.Deps{Logger: newLogger(stderr), Version: version})
	if err != nil {
		return fail(stderr, "monitor", err)
	}
	if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fail(stderr, "monitor", err)
	}
	return 0
}
