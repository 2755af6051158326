package dnsload

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Traffic Router's published DNS floors for the Ultimate Test Harness
// (../shared/BENCHMARKING.md, ATC-compatible mode): the harness's default
// and the CI run's, in queries per second.
const (
	UTHFloor   = 25000
	UTHFloorCI = 2500
)

// UTHResult is one run of UTH.
type UTHResult struct {
	Workers  int
	Elapsed  time.Duration
	Answers  int64 // NOERROR answers
	Other    int64 // answers with another rcode
	Failures int64 // timeouts and network errors
	// FirstFailure is the first failure's error, if any.
	FirstFailure string
}

// QPS is the answer rate.
func (r UTHResult) QPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Answers+r.Other) / r.Elapsed.Seconds()
}

// UTH runs the closed loop of Traffic Control's Ultimate Test Harness
// against addr for d: workers goroutines, each sending one query with
// miekg/dns's synchronous Client.Exchange (a fresh socket per query, as
// the harness's) and waiting for the answer before the next. Worker i
// starts at message i and steps through msgs by workers.
func UTH(ctx context.Context, addr string, msgs []*dns.Msg, workers int, d time.Duration) (UTHResult, error) {
	switch {
	case len(msgs) == 0:
		return UTHResult{}, errors.New("uth: no queries")
	case workers <= 0:
		return UTHResult{}, fmt.Errorf("uth: workers %d: want at least 1", workers)
	case d <= 0:
		return UTHResult{}, fmt.Errorf("uth: duration %v: want more than 0", d)
	}
	var answers, other, failures atomic.Int64
	var first sync.Once
	res := UTHResult{Workers: workers}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	end, _ := ctx.Deadline()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			for i := w; ctx.Err() == nil; i += workers {
				r, _, err := c.ExchangeContext(ctx, msgs[i%len(msgs)], addr)
				switch {
				case !time.Now().Before(end):
					// The run is over: a query cut off by it is not
					// counted (ctx may see its deadline a moment after
					// the socket did).
					return
				case err != nil:
					failures.Add(1)
					first.Do(func() { res.FirstFailure = err.Error() })
				case r.Rcode == dns.RcodeSuccess:
					answers.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Answers, res.Other, res.Failures = answers.Load(), other.Load(), failures.Load()
	return res, nil
}

// ReadBinaryQueries parses a dnsperf binary query file (-B: each message
// preceded by its length, two octets big-endian), as queries-ecs.bin.
func ReadBinaryQueries(path string) ([]*dns.Msg, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var msgs []*dns.Msg
	for off := 0; off < len(b); {
		if off+2 > len(b) {
			return nil, fmt.Errorf("%s: offset %d: a length cut short", path, off)
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		if off+2+n > len(b) {
			return nil, fmt.Errorf("%s: offset %d: message of %d octets runs past the end", path, off, n)
		}
		m := new(dns.Msg)
		if err := m.Unpack(b[off+2 : off+2+n]); err != nil {
			return nil, fmt.Errorf("%s: message %d at offset %d: %w", path, len(msgs)+1, off, err)
		}
		msgs = append(msgs, m)
		off += 2 + n
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%s: no queries", path)
	}
	return msgs, nil
}

// UTHMain is the dnsuth command: `dnsuth --addr HOST:PORT --queries FILE
// [--workers 12] [--duration 15s]` runs UTH and prints one line with the
// rate against Traffic Router's floors. It returns the exit code: 1 when
// a tenth of the queries or more failed.
func UTHMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dnsuth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "DNS server address host:port (UDP)")
	file := fs.String("queries", "", "dnsperf binary query file (-B format), for example queries-ecs.bin")
	workers := fs.Int("workers", 12, "synchronous workers (the harness's default: 12)")
	d := fs.Duration("duration", 15*time.Second, "how long to send (the harness's default: 15s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *addr == "" || *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: dnsuth --addr HOST:PORT --queries FILE [--workers 12] [--duration 15s]")
		return 2
	}
	msgs, err := ReadBinaryQueries(*file)
	if err != nil {
		fmt.Fprintln(stderr, "dnsuth:", err)
		return 1
	}
	r, err := UTH(context.Background(), *addr, msgs, *workers, *d)
	if err != nil {
		fmt.Fprintln(stderr, "dnsuth:", err)
		return 1
	}
	// Below a floor is not a verdict on the server: on one client core
	// this loop is usually the bottleneck (the caller knows the server's
	// CPU; bench-dns reports it).
	verdict := func(floor int) string {
		if r.QPS() >= float64(floor) {
			return "reached"
		}
		return "below"
	}
	fmt.Fprintf(stdout, "%d workers, %.1fs: %d NOERROR, %d other rcodes, %d failures; %.0f answers/s (Traffic Router's floor %d: %s; CI floor %d: %s)\n",
		r.Workers, r.Elapsed.Seconds(), r.Answers, r.Other, r.Failures, r.QPS(),
		UTHFloor, verdict(UTHFloor), UTHFloorCI, verdict(UTHFloorCI))
	total := r.Answers + r.Other + r.Failures
	if r.Failures > 0 {
		fmt.Fprintf(stderr, "dnsuth: first failure: %s\n", r.FirstFailure)
	}
	if total == 0 || r.Failures*10 >= total {
		return 1
	}
	return 0
}
