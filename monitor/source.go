package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// configVersion is one accepted monitoring config plus the CDN snapshot
// that goes with it. Immutable once published on the bus.
type configVersion struct {
	cdn          *cdnConfig
	origin       string
	crconfig     []byte
	crconfigTime time.Time
}

// configBus publishes the latest configVersion to a fixed set of
// subscribers: a store, then a non-blocking send on each subscriber's
// 1-buffered channel (latest wins; a subscriber loads the pointer).
type configBus struct {
	cur  atomic.Pointer[configVersion]
	subs []chan struct{}
}

func (b *configBus) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	b.subs = append(b.subs, ch)
	return ch
}

func (b *configBus) store(cv *configVersion) {
	b.cur.Store(cv)
	for _, ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (b *configBus) load() *configVersion { return b.cur.Load() }

// LKG file names in Config.StateDir.
const (
	lkgMonitoring = "monitoring.json"
	lkgSnapshot   = "snapshot.json"
)

// sourceService fetches the monitoring config (file or ops API) at the
// config polling interval, compiles it, keeps the last good copy on disk
// (ops mode) and publishes accepted versions on the bus.
type sourceService struct {
	m   *Monitor
	ops *opsClient

	lastRaw  []byte
	lastSnap []byte
	snapCDN  string
	snapDate float64
	snapTime time.Time
}

func (s *sourceService) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		s.refresh(ctx)
		interval := s.m.cfg.ConfigPollingInterval.Duration
		if cv := s.m.bus.load(); cv != nil && cv.cdn.opsInterval > 0 {
			interval = cv.cdn.opsInterval
		}
		timer.Reset(interval * 97 / 100)
	}
}

func (s *sourceService) refresh(ctx context.Context) {
	var err error
	if s.ops != nil {
		err = s.refreshOps(ctx)
	} else {
		err = s.refreshFile()
	}
	if err != nil && ctx.Err() == nil {
		s.m.configErrors.Add(1)
		s.m.log.Warn("monitoring config not updated", "error", err)
	}
}

func (s *sourceService) refreshFile() error {
	raw, err := os.ReadFile(s.m.cfg.MonitoringFile)
	if err != nil {
		return err
	}
	snap := s.lastSnap
	var snapErr error
	if p := s.m.cfg.SnapshotFile; p != "" {
		b, err := os.ReadFile(p)
		if err == nil {
			b, err = unwrapSnapshot(b)
		}
		if err != nil {
			snapErr = fmt.Errorf("%s: %w", p, err)
		} else {
			snap = b
		}
	}
	if err := s.accept(s.m.cfg.MonitoringFile, raw, snap); err != nil {
		return errors.Join(err, snapErr)
	}
	return snapErr
}

func (s *sourceService) refreshOps(ctx context.Context) error {
	raw, err := s.ops.monitoring(ctx)
	if err != nil {
		if s.m.bus.load() == nil {
			if lerr := s.loadLKG(); lerr != nil {
				return errors.Join(err, lerr)
			}
			return fmt.Errorf("%w (serving the last good copy from %s)", err, s.m.cfg.StateDir)
		}
		return err
	}
	origin := s.ops.base.String() + s.ops.monitoringPath()
	snap := s.lastSnap
	b, snapErr := s.ops.snapshot(ctx)
	if snapErr == nil {
		if snapErr = s.checkSnapshot(b); snapErr == nil {
			snap = b
		}
	}
	if err := s.accept(origin, raw, snap); err != nil {
		return errors.Join(err, snapErr)
	}
	if dir := s.m.cfg.StateDir; dir != "" {
		if werr := s.persist(dir, raw, snap); werr != nil {
			s.m.log.Warn("last good copy not written", "dir", dir, "error", werr)
		}
	}
	return snapErr
}

// checkSnapshot rejects a snapshot of another CDN or older than the one
// already accepted.
func (s *sourceService) checkSnapshot(b []byte) error {
	var doc struct {
		Stats struct {
			CDNName string  `json:"CDN_name"`
			Date    float64 `json:"date"`
		} `json:"stats"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if s.snapCDN != "" && doc.Stats.CDNName != s.snapCDN {
		return fmt.Errorf("snapshot: stats.CDN_name %q differs from the accepted %q", doc.Stats.CDNName, s.snapCDN)
	}
	if doc.Stats.Date < s.snapDate {
		return fmt.Errorf("snapshot: stats.date %.0f is older than the accepted %.0f", doc.Stats.Date, s.snapDate)
	}
	s.snapCDN, s.snapDate = doc.Stats.CDNName, doc.Stats.Date
	return nil
}

func (s *sourceService) persist(dir string, raw, snap []byte) error {
	var errs []error
	if !bytes.Equal(raw, s.diskRaw()) {
		errs = append(errs, writeFileAtomic(filepath.Join(dir, lkgMonitoring), raw))
	}
	if snap != nil {
		errs = append(errs, writeFileAtomic(filepath.Join(dir, lkgSnapshot), snap))
	}
	return errors.Join(errs...)
}

func (s *sourceService) diskRaw() []byte {
	b, _ := os.ReadFile(filepath.Join(s.m.cfg.StateDir, lkgMonitoring))
	return b
}

// loadLKG publishes the last good copy from the state directory.
func (s *sourceService) loadLKG() error {
	dir := s.m.cfg.StateDir
	if dir == "" {
		return errors.New("no state_dir: no last good copy")
	}
	p := filepath.Join(dir, lkgMonitoring)
	raw, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("last good copy: %w", err)
	}
	var snap []byte
	if b, err := os.ReadFile(filepath.Join(dir, lkgSnapshot)); err == nil {
		if snap, err = unwrapSnapshot(b); err != nil {
			s.m.log.Warn("last good snapshot unreadable", "error", err)
		}
	}
	return s.accept("last good copy "+p, raw, snap)
}

// accept compiles raw and publishes it when it differs from the current
// version.
func (s *sourceService) accept(origin string, raw, snap []byte) error {
	cur := s.m.bus.load()
	sameCfg := cur != nil && bytes.Equal(raw, s.lastRaw)
	sameSnap := bytes.Equal(snap, s.lastSnap)
	if sameCfg && sameSnap && cur.origin == origin {
		return nil
	}
	cv := &configVersion{origin: origin, crconfig: snap, crconfigTime: s.snapTime}
	if !sameSnap {
		cv.crconfigTime = s.m.now()
		s.snapTime = cv.crconfigTime
	}
	if sameCfg {
		cv.cdn = cur.cdn
	} else {
		cdn, err := compileMonitoring(origin, raw, s.m.cfg.Hostname)
		if err != nil {
			return err
		}
		cv.cdn = cdn
		s.m.log.Info("monitoring config accepted", "origin", origin, "caches", len(cdn.servers),
			"deliveryServices", len(cdn.dses), "peers", len(cdn.peers))
	}
	s.lastRaw, s.lastSnap = raw, snap
	s.m.bus.store(cv)
	return nil
}
