// Package webui is `signpost loadtest serve`: the web page Traffic
// Control's router load test offered. Pick a router and a snapshot
// directory, choose the mix, start and stop a test, and watch live results
// and charts. One test runs at a time; the last result stays on the page
// and is available as JSON and as the HTML report.
package webui

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/signpost-cdn/signpost/loadtest"
	"github.com/signpost-cdn/signpost/loadtest/report"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

// Server serves the page and its API. The zero value is not usable; use New.
type Server struct {
	// Defaults prefill the form (query parameters override them).
	defaults loadtest.Config
	// base is the context runs derive from (cancelled when the server
	// stops).
	base context.Context

	mu      sync.Mutex
	running bool
	cancel  context.CancelFunc
	status  Status
	result  *loadtest.Result
	done    chan struct{}
}

// Status is what /api/status returns.
type Status struct {
	Running bool            `json:"running"`
	Config  loadtest.Config `json:"config"`
	// Elapsed is the time since the start of the current or last run.
	Elapsed loadtest.Duration `json:"elapsed"`
	// Timeline and Total are the live figures of the current run.
	Timeline []loadtest.Point `json:"timeline"`
	Total    loadtest.Summary `json:"total"`
	// Error is why the last run could not start or stopped.
	Error string `json:"error,omitempty"`
	// Result is the last finished run.
	Result *loadtest.Result `json:"result,omitempty"`
}

// New returns a server whose runs end when ctx does. defaults prefill the
// form.
func New(ctx context.Context, defaults loadtest.Config) *Server {
	return &Server{base: ctx, defaults: defaults}
}

// Handler returns the HTTP handler: GET / (the page), GET /api/status,
// POST /api/start (a loadtest.Config as JSON), POST /api/stop,
// GET /api/cdn?snapshot=DIR (delivery services of a snapshot directory),
// GET /api/result (the last result as JSON), GET /report (its HTML report).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page)
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, s.Status()) })
	mux.HandleFunc("POST /api/start", s.start)
	mux.HandleFunc("POST /api/stop", func(w http.ResponseWriter, _ *http.Request) {
		s.Stop()
		writeJSON(w, 200, s.Status())
	})
	mux.HandleFunc("GET /api/cdn", s.cdn)
	mux.HandleFunc("GET /api/result", func(w http.ResponseWriter, _ *http.Request) {
		if r := s.Status().Result; r != nil {
			writeJSON(w, 200, r)
			return
		}
		writeJSON(w, 404, map[string]string{"error": "no finished run yet"})
	})
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, _ *http.Request) {
		r := s.Status().Result
		if r == nil {
			http.Error(w, "no finished run yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = report.Write(w, r)
	})
	return mux
}

// Status returns a copy of the current status.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Running = s.running
	st.Result = s.result
	st.Timeline = append([]loadtest.Point(nil), s.status.Timeline...)
	return st
}

// Start begins a run of cfg; it fails when one is running or cfg is
// invalid (the error lists every problem).
func (s *Server) Start(cfg loadtest.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cdn, err := loadtest.LoadCDN(cfg.Snapshot)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return errors.New("a test is already running; stop it first")
	}
	ctx, cancel := context.WithCancel(s.base)
	s.running, s.cancel, s.done = true, cancel, make(chan struct{})
	s.status = Status{Config: cfg}
	done := s.done
	go func() {
		defer close(done)
		defer cancel()
		res, err := loadtest.Run(ctx, cfg, cdn, func(p loadtest.Progress) {
			s.mu.Lock()
			s.status.Elapsed = loadtest.Duration(p.Elapsed)
			s.status.Timeline = append(s.status.Timeline, p.Last)
			s.status.Total = p.Total
			s.mu.Unlock()
		})
		s.mu.Lock()
		defer s.mu.Unlock()
		s.running = false
		if err != nil {
			s.status.Error = err.Error()
			return
		}
		s.result = res
		s.status.Elapsed = res.Elapsed
		s.status.Total = res.Total
		s.status.Error = res.Error
	}()
	return nil
}

// Stop cancels the running test (its partial result is kept) and waits
// for it to finish.
func (s *Server) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Wait blocks until the current run (if any) has finished.
func (s *Server) Wait() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	var cfg loadtest.Config
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		writeJSON(w, 400, map[string]string{"error": "request body: " + err.Error()})
		return
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = loadtest.Duration(2 * time.Second)
	}
	if err := s.Start(cfg); err != nil {
		code := 400
		if s.Status().Running {
			code = 409
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, 202, s.Status())
}

// cdnInfo is what /api/cdn returns: like the original page's CDN list,
// the number of delivery services each protocol can exercise.
type cdnInfo struct {
	Dir              string         `json:"dir"`
	CDNName          string         `json:"cdnName"`
	DeliveryServices int            `json:"deliveryServices"`
	Caches           int            `json:"caches"`
	ByType           map[string]int `json:"byType"`
	HTTP             int            `json:"http"`
	HTTPS            int            `json:"https"`
	DNS              int            `json:"dns"`
	ClientsFile      bool           `json:"clientsFile"`
	ECSEnable        bool           `json:"ecsEnable"`
	BuildTime        string         `json:"buildTime"`
}

func (s *Server) cdn(w http.ResponseWriter, r *http.Request) {
	dir := r.URL.Query().Get("snapshot")
	cdn, err := loadtest.LoadCDN(dir)
	if err != nil {
		writeJSON(w, 400, map[string]string{"error": err.Error()})
		return
	}
	info := cdnInfo{Dir: dir, CDNName: cdn.Table.Snapshot().Stats.CDNName, DeliveryServices: len(cdn.Services),
		Caches: len(cdn.Table.Caches()), ByType: map[string]int{}, ClientsFile: cdn.Clients != nil,
		ECSEnable: cdn.ECSAll, BuildTime: cdn.BuildTime.Round(time.Millisecond).String()}
	for _, sv := range cdn.Services {
		info.ByType[sv.Type]++
		if sv.Caches == 0 || sv.CoverageZoneOnly {
			continue
		}
		switch {
		case sv.Type == loadtest.TypeDNS:
			info.DNS++
		case sv.Type == loadtest.TypeHTTP:
			if sv.AcceptHTTP && !sv.RedirectToHTTPS {
				info.HTTP++
			}
			if sv.AcceptHTTPS {
				info.HTTPS++
			}
		}
	}
	writeJSON(w, 200, info)
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	st := s.Status()
	init, _ := json.Marshal(struct {
		Defaults loadtest.Config `json:"defaults"`
		Status   Status          `json:"status"`
	}{s.defaults, st})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, map[string]any{
		"Init": template.JS(init), "JS": report.Scripts(), "UCSS": report.Styles(), "Style": template.CSS(report.Style),
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
