package monitor

import (
	"sync"
	"time"
)

// State is one immutable version of everything the monitor knows. The
// aggregator builds a new State after each batch of results and publishes
// it with one atomic pointer store; every HTTP reply is built from the one
// State it loaded, so a reply never mixes versions. Nothing reachable from
// a published State is modified again (encoded forms are computed once,
// lazily, under sync.Once).
type State struct {
	Version    uint64
	Time       time.Time
	ConfigFrom string // origin of the monitoring config ("" before the first one)
	Ready      bool   // every polled cache has been polled (spec A.12)

	Caches     map[string]*CacheState
	CacheNames []string // sorted
	DSes       map[string]*DSState
	DSNames    []string // sorted
	Peers      map[string]*PeerState
	PeerNames  []string // sorted

	// PeersAvailable counts peers whose last poll succeeded and is fresh;
	// QuorumOK is false while the optimistic quorum is active and unmet.
	PeersAvailable int
	QuorumActive   bool
	QuorumOK       bool

	Events []Event // newest first

	CrConfig     []byte // last accepted CDN snapshot (unwrapped), nil if none
	CrConfigTime time.Time

	Counters Counters

	crStatesOnce, rawOnce sync.Once
	crStates, rawStates   []byte
}

// Counters are process-wide running totals at the time of the version.
type Counters struct {
	HealthPolls, StatPolls, PollErrors, PeerPolls, PeerErrors uint64
	ConfigLoads, ConfigErrors                                 uint64
	Start                                                     time.Time
}

// Availability is one cache verdict as exchanged in CrStates.
type Availability struct {
	Available, IPv4, IPv6 bool
}

// CacheState is the monitor's view of one cache in a state version.
type CacheState struct {
	Name, Type, CacheGroup, TOStatus string

	Local    Availability // this monitor's own verdict (CrStates?raw)
	Combined Availability // after the optimistic peer combination
	Reason   string       // the status text, e.g. "REPORTED - available"
	Poller   string       // "health", "stat" or "unknown"
	LastPoll time.Time

	LoadAvg       float64
	KbpsOut       float64
	MaxKbps       float64
	QueryTime     time.Duration
	HealthTime    time.Time // last health poll result
	StatTime      time.Time // last stat poll result
	HealthSpan    time.Duration
	StatSpan      time.Duration
	Connections   float64
	HasConnection bool
	Interfaces    []IfaceState
	PollError     string

	// StatHistory holds the latest full stat results, newest first.
	StatHistory []*StatSample
}

// IfaceState is one monitored interface of a cache.
type IfaceState struct {
	Name      string
	Status    string
	Available bool
	KbpsOut   float64
	InBytes   uint64
	OutBytes  uint64
	SpeedMbps float64
}

// StatSample is one decoded full stat result of a cache.
type StatSample struct {
	Time  time.Time
	Stats *Stats
}

// DSState is one delivery service in a state version.
type DSState struct {
	Name             string
	Local, Combined  bool
	Error            string // why unavailable ("" when available)
	CachesConfigured int
	CachesReporting  int
	CachesAvailable  int
	Total            DSAgg
	ByCacheGroup     map[string]DSAgg
	ByType           map[string]DSAgg
}

// DSAgg are summed counters and rates of a delivery service.
type DSAgg struct {
	InBytes, OutBytes      float64
	S2xx, S3xx, S4xx, S5xx float64
	Kbps                   float64
	Tps2xx, Tps3xx         float64
	Tps4xx, Tps5xx         float64
	TpsTotal               float64
}

// PeerState is the last poll of one peer monitor.
type PeerState struct {
	Name      string
	URL       string
	OK        bool // last poll succeeded
	Available bool // OK, current and fresh (spec A.11)
	Error     string
	LastPoll  time.Time
	Caches    map[string]Availability
	DSes      map[string]bool
}

// Event is one entry of the event log.
type Event struct {
	Time        time.Time
	Index       uint64
	Description string
	Name        string
	Type        string
	Available   bool
	IPv4        bool
	IPv6        bool
}

// CrStatesJSON returns the combined CrStates document of this version,
// encoding it once.
func (s *State) CrStatesJSON() []byte {
	s.crStatesOnce.Do(func() { s.crStates = appendCrStates(nil, s, false) })
	return s.crStates
}

// RawCrStatesJSON returns this monitor's own verdicts (CrStates?raw).
func (s *State) RawCrStatesJSON() []byte {
	s.rawOnce.Do(func() { s.rawStates = appendCrStates(nil, s, true) })
	return s.rawStates
}
