package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/signpost-cdn/signpost/loadtest"
	"github.com/signpost-cdn/signpost/loadtest/report"
	"github.com/signpost-cdn/signpost/loadtest/webui"
)

// runLoadtestRun is `signpost loadtest run`.
func runLoadtestRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("loadtest run", "--snapshot DIR [--dns ADDR] [--http ADDR] [--https ADDR] [--mode closed|open] [--rate N|--concurrency N] [--duration D] [--mix dns=1,http=1] [--json FILE] [--html FILE]", stderr)
	build := loadtest.BindFlags(fs)
	jsonOut := fs.String("json", "", "write the JSON result to FILE")
	htmlOut := fs.String("html", "", "write the HTML report to FILE")
	quiet := fs.Bool("quiet", false, "no progress lines")
	maxErr := fs.Float64("max-error-share", 0.01, "exit 1 when errors plus timeouts exceed this share of requests")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := build()
	if err != nil {
		return usageError(stderr, fs, err)
	}
	var progress func(loadtest.Progress)
	if !*quiet {
		progress = loadtest.ProgressPrinter(stderr)
	}
	res, err := loadtest.Run(ctx, cfg, nil, progress)
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fail(stderr, "loadtest run", err)
	}
	res.WriteSummary(stdout)
	code := 0
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			code = fail(stderr, "loadtest run", err)
		}
	}
	if *htmlOut != "" {
		f, err := os.Create(*htmlOut)
		if err == nil {
			err = report.Write(f, res)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			code = fail(stderr, "loadtest run", err)
		}
	}
	t := res.Total
	switch {
	case t.Completed == 0:
		fmt.Fprintln(stderr, "signpost loadtest run: no request completed")
		return 1
	case t.Wrong > 0:
		fmt.Fprintf(stderr, "signpost loadtest run: %d wrong answers\n", t.Wrong)
		return 1
	case float64(t.Errors+t.Timeouts) > *maxErr*float64(t.Completed):
		fmt.Fprintf(stderr, "signpost loadtest run: %d errors and %d timeouts exceed --max-error-share %g\n", t.Errors, t.Timeouts, *maxErr)
		return 1
	}
	return code
}

// runLoadtestServe is `signpost loadtest serve --listen ADDR`.
func runLoadtestServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("loadtest serve", "--listen ADDR [--snapshot DIR] [--dns ADDR] [--http ADDR] [--https ADDR]", stderr)
	listen := fs.String("listen", "127.0.0.1:8088", "address of the web page")
	snap := fs.String("snapshot", "", "snapshot directory prefilled in the form")
	dns := fs.String("dns", "", "router DNS address prefilled in the form")
	httpA := fs.String("http", "", "router HTTP address prefilled in the form")
	httpsA := fs.String("https", "", "router HTTPS address prefilled in the form")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(stderr, "loadtest serve", err)
	}
	s := webui.New(ctx, loadtest.Config{Snapshot: *snap, DNS: *dns, HTTP: *httpA, HTTPS: *httpsA})
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "signpost loadtest serve: open http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fail(stderr, "loadtest serve", err)
	case <-ctx.Done():
	}
	s.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return 0
}
