package loadtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Progress is what a run reports once a second.
type Progress struct {
	Elapsed time.Duration
	// Last is the second just ended; Total the run so far.
	Last  Point
	Total Summary
}

// runner is one run in progress.
type runner struct {
	cfg  Config
	cdn  *CDN
	co   *corpus
	sh   *shared
	recs [numProtos][]*recorder

	// collector state
	mu       sync.Mutex
	total    [numProtos]counts
	hist     [numProtos]*hdrhistogram.Histogram
	timeline []Point
	lastT    time.Duration
}

// Run drives the load of cfg at the router and checks every answer against
// cdn (loaded from cfg.Snapshot when nil). progress, when non-nil, is
// called once a second from one goroutine. When ctx ends before the
// duration the partial result is returned with Interrupted set and a nil
// error; errors are returned only when the run cannot start, and then with
// every problem named.
func Run(ctx context.Context, cfg Config, cdn *CDN, progress func(Progress)) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cdn == nil {
		var err error
		if cdn, err = LoadCDN(cfg.Snapshot); err != nil {
			return nil, err
		}
	}
	co, err := buildCorpus(cdn, cfg)
	if err != nil {
		return nil, err
	}
	rn := &runner{cfg: cfg, cdn: cdn, co: co}
	for p := range rn.hist {
		rn.hist[p] = newHist()
	}
	s := &sampler{max: cfg.Samples}
	rn.sh = &shared{cdn: cdn, s: s, timeout: time.Duration(cfg.Timeout)}
	return rn.run(ctx, progress)
}

func (rn *runner) weights() [numProtos]float64 {
	m := rn.cfg.Mix
	return [numProtos]float64{m.DNS, m.DNSTCP, m.HTTP, m.HTTPS}
}

func (rn *runner) tlsConfig() (*tls.Config, error) {
	path := rn.cfg.CAFile
	if path == "" {
		p := filepath.Join(rn.cdn.Dir, "loadtest-ca.pem")
		if _, err := os.Stat(p); err == nil {
			path = p
		}
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(1024)}
	if path == "" {
		return c, nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loadtest: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("loadtest: CA file %s: no PEM certificate in it", path)
	}
	c.RootCAs = pool
	return c, nil
}

func (rn *runner) run(ctx context.Context, progress func(Progress)) (*Result, error) {
	cfg := rn.cfg
	w := rn.weights()
	var wsum float64
	for _, v := range w {
		wsum += v
	}
	share := func(p Proto) float64 { return w[p] / wsum }
	conc := func(p Proto) int { return max(1, int(math.Round(float64(cfg.Concurrency)*share(p)))) }
	open := cfg.Mode == OpenLoop
	var engines []*udpEngine
	var pools [][]poolWorker
	var poolRates []float64
	cleanup := func() {
		for _, e := range engines {
			e.conn.Close()
		}
		for _, p := range pools {
			for _, w := range p {
				w.close()
			}
		}
	}
	if w[ProtoDNSUDP] > 0 {
		n := cfg.Sockets
		for i := range n {
			rec := newRecorder(ProtoDNSUDP, rn.sh.s)
			e, err := newUDPEngine(rn.cdn, rn.co.dns, cfg.DNS, rec, rn.sh.s, i*len(rn.co.dns)/n)
			if err != nil {
				cleanup()
				return nil, fmt.Errorf("loadtest: dns %s: %w", cfg.DNS, err)
			}
			e.timeout = int64(cfg.Timeout)
			e.open = open
			e.interval = float64(time.Second) * float64(n) / (cfg.Rate * share(ProtoDNSUDP))
			e.window = int64(max(1, (conc(ProtoDNSUDP)+n-1)/n))
			engines = append(engines, e)
			rn.recs[ProtoDNSUDP] = append(rn.recs[ProtoDNSUDP], rec)
		}
	}
	nworkers := func(p Proto) int {
		if open {
			return cfg.Conns
		}
		return conc(p)
	}
	if w[ProtoDNSTCP] > 0 {
		var ws []poolWorker
		for i := range nworkers(ProtoDNSTCP) {
			rec := newRecorder(ProtoDNSTCP, rn.sh.s)
			rn.recs[ProtoDNSTCP] = append(rn.recs[ProtoDNSTCP], rec)
			ws = append(ws, newTCPWorker(rn.sh, rec, cfg.DNS, rn.co.dns, i*97))
		}
		pools, poolRates = append(pools, ws), append(poolRates, cfg.Rate*share(ProtoDNSTCP))
	}
	for _, p := range []Proto{ProtoHTTP, ProtoHTTPS} {
		if w[p] == 0 {
			continue
		}
		reqs := rn.co.http
		addr := cfg.HTTP
		var tc *tls.Config
		if p == ProtoHTTPS {
			reqs, addr = rn.co.https, cfg.HTTPS
			var err error
			if tc, err = rn.tlsConfig(); err != nil {
				cleanup()
				return nil, err
			}
		}
		var ws []poolWorker
		for i := range nworkers(p) {
			rec := newRecorder(p, rn.sh.s)
			rn.recs[p] = append(rn.recs[p], rec)
			depth := 1
			if !open {
				depth = cfg.Pipeline
			}
			ws = append(ws, newHTTPWorker(rn.sh, rec, p, reqs, addr, tc, depth, i*131))
		}
		pools, poolRates = append(pools, ws), append(poolRates, cfg.Rate*share(p))
	}

	res := &Result{Config: cfg, Environment: environment()}
	rn.describe(res)
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("loadtest: CPU profile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	cpu0 := processCPU()
	start := time.Now()
	res.Started = start
	rn.sh.start = start
	rn.sh.s.start = start
	for _, e := range engines {
		e.start = start
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Duration))
	defer cancel()

	var wg sync.WaitGroup
	var recvWG sync.WaitGroup
	for _, e := range engines {
		recvWG.Go(e.recvLoop)
		wg.Go(func() { e.sendLoop(runCtx) })
	}
	sweepDone := make(chan struct{})
	if len(engines) > 0 {
		recvWG.Go(func() {
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-sweepDone:
					return
				case <-t.C:
					for _, e := range engines {
						e.sweep(false)
					}
				}
			}
		})
	}
	for i, p := range pools {
		wg.Go(func() { runPool(runCtx, p, open, poolRates[i], start) })
	}
	collectDone := make(chan struct{})
	var collectWG sync.WaitGroup
	collectWG.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-collectDone:
				return
			case <-t.C:
				pt, tot := rn.collect(time.Since(start))
				if progress != nil {
					progress(Progress{Elapsed: time.Since(start), Last: pt, Total: tot})
				}
			}
		}
	})
	wg.Wait()
	sending := time.Since(start)
	// Let outstanding UDP queries finish or time out.
	deadline := time.Now().Add(time.Duration(cfg.Timeout))
	for _, e := range engines {
		for e.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		e.sweep(true)
	}
	close(sweepDone)
	close(collectDone)
	collectWG.Wait()
	cleanup()
	recvWG.Wait()
	elapsed := time.Since(start)
	rn.collect(elapsed)
	res.Elapsed = Duration(elapsed)
	res.Environment.GeneratorCPU = Duration(processCPU() - cpu0)
	if ctx.Err() != nil {
		res.Interrupted = true
		res.Error = context.Cause(ctx).Error()
		if errors.Is(ctx.Err(), context.Canceled) {
			res.Error = "stopped before the end of the duration"
		}
	}
	// Rates are over the sending time, not the drain after it.
	rn.finish(res, min(elapsed, max(sending, time.Millisecond)))
	return res, nil
}

// collect drains every recorder into a timeline point.
func (rn *runner) collect(at time.Duration) (Point, Summary) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	secs := (at - rn.lastT).Seconds()
	rn.lastT = at
	pt := Point{T: at.Seconds(), ByProtocol: map[string]float64{}}
	ih := newHist()
	var ic counts
	for p := range numProtos {
		if len(rn.recs[p]) == 0 {
			continue
		}
		var c counts
		ph := newHist()
		for _, r := range rn.recs[p] {
			r.drain(&c, ph)
		}
		rn.total[p].add(&c)
		rn.hist[p].Merge(ph)
		ih.Merge(ph)
		ic.add(&c)
		if secs > 0 {
			pt.ByProtocol[p.String()] = float64(c.done()) / secs
		}
	}
	pt.Sent, pt.OK, pt.Wrong, pt.Errors, pt.Timeouts, pt.ExpectedMisses = ic.sent, ic.ok, ic.wrong, ic.errors, ic.timeouts, ic.misses
	if secs > 0 {
		pt.Rate = float64(ic.done()) / secs
	}
	pt.Latency = latencyOf(ih)
	if secs > 0.05 || ic.done() > 0 {
		rn.timeline = append(rn.timeline, pt)
	}
	var tc counts
	th := newHist()
	for p := range numProtos {
		tc.add(&rn.total[p])
		th.Merge(rn.hist[p])
	}
	return pt, summarize("total", &tc, th, at.Seconds())
}

func (rn *runner) describe(res *Result) {
	t := rn.cdn.Table
	info := CDNInfo{Dir: rn.cdn.Dir, CDNName: t.Snapshot().Stats.CDNName, DeliveryServices: len(t.DeliveryServices()),
		Caches: len(t.Caches()), CacheGroups: len(t.Locations()), ECSEnable: rn.cdn.ECSAll,
		ClientsFile: rn.cdn.Clients != nil, BuildTime: Duration(rn.cdn.BuildTime), Exercised: map[string][]string{}}
	add := func(p string, idx []int) {
		for _, i := range idx {
			info.Exercised[p] = append(info.Exercised[p], rn.cdn.Services[i].XMLID)
		}
	}
	add("dns", rn.co.dnsSvcs)
	add("http", rn.co.httpSvcs)
	add("https", rn.co.httpsSvcs)
	for _, i := range rn.co.dnsSvcs {
		if rn.cdn.Services[i].ECS {
			info.ECSServices++
		}
	}
	res.CDN = info
}

func (rn *runner) finish(res *Result, elapsed time.Duration) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	secs := elapsed.Seconds()
	var tc counts
	th := newHist()
	for p := range numProtos {
		if len(rn.recs[p]) == 0 {
			continue
		}
		res.Protocols = append(res.Protocols, summarize(Proto(p).String(), &rn.total[p], rn.hist[p], secs))
		tc.add(&rn.total[p])
		th.Merge(rn.hist[p])
	}
	res.Total = summarize("total", &tc, th, secs)
	res.Timeline = rn.timeline
	s := rn.sh.s
	s.mu.Lock()
	res.Wrong, res.Errors = s.wrong, s.errors
	for r, d := range s.first {
		if d != "" {
			if res.FirstErrors == nil {
				res.FirstErrors = map[string]string{}
			}
			res.FirstErrors[reason(r).String()] = d
		}
	}
	s.mu.Unlock()
}

func environment() Environment {
	h, _ := os.Hostname()
	return Environment{GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Hostname: h}
}
