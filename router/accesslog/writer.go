package accesslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Config configures a Writer. Exactly one of Path and Out is set.
type Config struct {
	// Path is the log file, opened for appending (created with FileMode).
	Path string
	// Out receives the log when Path is empty. Rotation and Reopen do not apply.
	Out io.Writer

	// MaxBytes rotates the file before a write would take it past this size: the file
	// becomes Path.1, Path.1 becomes Path.2, ... up to Path.<Keep>; the oldest is removed.
	// Rotation happens between lines, so a file only exceeds MaxBytes when a single line
	// does. Zero disables size rotation.
	MaxBytes int64
	// Keep is how many rotated files are kept. With Keep == 0 rotation truncates.
	Keep int
	// FileMode is the mode of created files (default 0644).
	FileMode os.FileMode

	// FlushInterval bounds how long an accepted line waits in memory (default 1s).
	FlushInterval time.Duration
	// ChunkBytes is the size of one buffer of formatted lines (default 64 KiB); a line
	// longer than this is dropped.
	ChunkBytes int
	// QueueChunks is the number of spare chunks besides one per shard (default 32). When
	// every chunk is full and waiting for the writer, new lines are dropped.
	QueueChunks int
	// Shards is the number of independently locked buffers (default GOMAXPROCS rounded up
	// to a power of two, at most 64).
	Shards int

	// OnError, when set, receives write, rotation and reopen errors from Run. Logging
	// continues: lines of a failed write are counted in Stats.LostBytes.
	OnError func(error)
}

// Stats are the Writer's counters.
type Stats struct {
	Accepted  uint64 // lines taken into a buffer
	Dropped   uint64 // lines refused: queue full, line longer than ChunkBytes, or writer stopped
	Written   uint64 // bytes written to the file or Out
	LostBytes uint64 // bytes of accepted lines a failed write could not store
	Rotations uint64 // size rotations and Rotate calls
	Errors    uint64 // write, rotation and reopen errors
}

type chunk struct{ b []byte }

// shard is one locked buffer. Padding keeps shards on separate cache lines.
type shard struct {
	mu       sync.Mutex
	closed   bool
	cur      *chunk
	scratch  []byte
	accepted atomic.Uint64
	_        [64]byte
}

// Writer is the asynchronous, rotating access log. LogHTTP and LogDNS format the line at
// once into one of several locked per-shard chunks (a shard is chosen from the calling
// goroutine's stack address, so concurrent callers rarely share one) and never block on
// I/O: full chunks go to a bounded queue that the goroutine in Run writes out; when no
// spare chunk is left the line is dropped and counted. Run flushes partial chunks every
// FlushInterval and everything accepted when its context ends.
//
// A Writer is safe for concurrent use. Run must be called once; lines logged before Run
// starts are buffered, and lines logged after Run has returned are dropped.
type Writer struct {
	cfg    Config
	shards []shard
	mask   uintptr
	free   chan *chunk
	full   chan *chunk
	reopen chan struct{}
	rotate chan struct{}
	ran    atomic.Bool

	dropped   atomic.Uint64
	written   atomic.Uint64
	lost      atomic.Uint64
	rotations atomic.Uint64
	errs      atomic.Uint64

	// Owned by the Run goroutine.
	file *os.File
	size int64
}

// New validates cfg, opens the log file when cfg.Path is set, and returns a Writer whose
// Run must then be started.
func New(cfg Config) (*Writer, error) {
	var problems []error
	if (cfg.Path == "") == (cfg.Out == nil) {
		problems = append(problems, errors.New("accesslog: exactly one of Path and Out must be set"))
	}
	if cfg.MaxBytes < 0 {
		problems = append(problems, fmt.Errorf("accesslog: MaxBytes %d is negative", cfg.MaxBytes))
	}
	if cfg.Keep < 0 {
		problems = append(problems, fmt.Errorf("accesslog: Keep %d is negative", cfg.Keep))
	}
	if cfg.ChunkBytes < 0 || cfg.QueueChunks < 0 || cfg.Shards < 0 || cfg.FlushInterval < 0 {
		problems = append(problems, fmt.Errorf("accesslog: ChunkBytes %d, QueueChunks %d, Shards %d, FlushInterval %v: none may be negative",
			cfg.ChunkBytes, cfg.QueueChunks, cfg.Shards, cfg.FlushInterval))
	}
	if cfg.Out != nil && (cfg.MaxBytes > 0 || cfg.Keep > 0) {
		problems = append(problems, errors.New("accesslog: MaxBytes and Keep need Path, not Out"))
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if cfg.FileMode == 0 {
		cfg.FileMode = 0o644
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.ChunkBytes == 0 {
		cfg.ChunkBytes = 64 << 10
	}
	if cfg.QueueChunks == 0 {
		cfg.QueueChunks = 32
	}
	if cfg.Shards == 0 {
		cfg.Shards = min(runtime.GOMAXPROCS(0), 64)
	}
	n := 1 << bits.Len(uint(cfg.Shards-1))
	cfg.Shards = n

	w := &Writer{
		cfg:    cfg,
		shards: make([]shard, n),
		mask:   uintptr(n - 1),
		free:   make(chan *chunk, n+cfg.QueueChunks),
		full:   make(chan *chunk, n+cfg.QueueChunks),
		reopen: make(chan struct{}, 1),
		rotate: make(chan struct{}, 1),
	}
	for i := range w.shards {
		w.shards[i].cur = &chunk{b: make([]byte, 0, cfg.ChunkBytes)}
		w.shards[i].scratch = make([]byte, 0, 1024)
	}
	for range cfg.QueueChunks {
		w.free <- &chunk{b: make([]byte, 0, cfg.ChunkBytes)}
	}
	if cfg.Path != "" {
		if err := w.open(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// LogHTTP formats r and queues the line. It reports whether the line was accepted; a
// refused line is counted in Stats.Dropped. r's slices are not retained.
func (w *Writer) LogHTTP(r *HTTPRecord) bool {
	s := w.openShard()
	if s == nil {
		return false
	}
	s.scratch = append(AppendHTTP(s.scratch[:0], r), '\n')
	return w.queue(s)
}

// LogDNS formats r and queues the line; see LogHTTP.
func (w *Writer) LogDNS(r *DNSRecord) bool {
	s := w.openShard()
	if s == nil {
		return false
	}
	s.scratch = append(AppendDNS(s.scratch[:0], r), '\n')
	return w.queue(s)
}

// openShard locks a shard for a line, or returns nil (the line counted as
// dropped) once the writer is closed. The Log methods call the formatter
// themselves, not through a function value, so that the record does not
// escape.
func (w *Writer) openShard() *shard {
	s := w.lockShard()
	if s.closed {
		s.mu.Unlock()
		w.dropped.Add(1)
		return nil
	}
	return s
}

// queue commits the line in s.scratch and unlocks s.
func (w *Writer) queue(s *shard) bool {
	ok := w.commit(s)
	s.mu.Unlock()
	return ok
}

// lockShard locks a shard chosen from the caller's stack address: goroutines have
// distinct stacks, so concurrent callers spread over the shards and one goroutine tends
// to reuse its shard. A busy shard is skipped for the next free one before waiting.
func (w *Writer) lockShard() *shard {
	var marker byte
	h := uintptr(unsafe.Pointer(&marker)) >> 10
	h ^= h >> 7
	h *= 0x9E3779B1
	i := (h >> 8) & w.mask
	for j := uintptr(0); j <= w.mask; j++ {
		s := &w.shards[(i+j)&w.mask]
		if s.mu.TryLock() {
			return s
		}
	}
	s := &w.shards[i]
	s.mu.Lock()
	return s
}

// commit moves s.scratch into s's chunk, handing a full chunk to the writer. s is locked.
func (w *Writer) commit(s *shard) bool {
	line := s.scratch
	if len(line) > w.cfg.ChunkBytes {
		w.dropped.Add(1)
		return false
	}
	if s.cur != nil && len(s.cur.b)+len(line) > cap(s.cur.b) {
		w.full <- s.cur // never blocks: full holds every chunk there is
		s.cur = nil
	}
	if s.cur == nil {
		select {
		case s.cur = <-w.free:
		default:
			w.dropped.Add(1)
			return false
		}
	}
	s.cur.b = append(s.cur.b, line...)
	s.accepted.Add(1)
	return true
}

// Reopen asks Run to close and reopen Path, for external rotation (logrotate moves the
// file, then signals the router, which calls Reopen on SIGHUP). It does not block.
func (w *Writer) Reopen() {
	select {
	case w.reopen <- struct{}{}:
	default:
	}
}

// Rotate asks Run to rotate the file now (Path → Path.1 ...), as when MaxBytes is
// reached. It does not block.
func (w *Writer) Rotate() {
	select {
	case w.rotate <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (w *Writer) Stats() Stats {
	st := Stats{
		Dropped:   w.dropped.Load(),
		Written:   w.written.Load(),
		LostBytes: w.lost.Load(),
		Rotations: w.rotations.Load(),
		Errors:    w.errs.Load(),
	}
	for i := range w.shards {
		st.Accepted += w.shards[i].accepted.Load()
	}
	return st
}

// Run writes queued chunks until ctx ends, then stops accepting lines, writes everything
// accepted, syncs and closes the file. It returns nil on a clean stop; a second call
// returns an error.
func (w *Writer) Run(ctx context.Context) error {
	if !w.ran.CompareAndSwap(false, true) {
		return errors.New("accesslog: Writer.Run called twice")
	}
	tick := time.NewTicker(w.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case c := <-w.full:
			w.writeChunk(c)
		case <-tick.C:
			w.flushShards(false)
		case <-w.reopen:
			w.flushShards(false)
			w.drainFull()
			if w.cfg.Path != "" {
				w.closeFile()
				if err := w.open(); err != nil {
					w.fail(err)
				}
			}
		case <-w.rotate:
			w.flushShards(false)
			w.drainFull()
			if w.cfg.Path != "" {
				w.rotateFile()
			}
		case <-ctx.Done():
			w.drainFull()
			w.flushShards(true)
			w.drainFull()
			if w.file != nil {
				if err := w.file.Sync(); err != nil {
					w.fail(fmt.Errorf("accesslog: sync %s: %w", w.cfg.Path, err))
				}
			}
			w.closeFile()
			return nil
		}
	}
}

// flushShards takes every shard's partly filled chunk and writes it after the chunks
// already queued. With stop set the shards are closed first, so no line is accepted
// afterwards.
func (w *Writer) flushShards(stop bool) {
	for i := range w.shards {
		s := &w.shards[i]
		s.mu.Lock()
		if stop {
			s.closed = true
		}
		c := s.cur
		if c == nil || len(c.b) == 0 {
			s.mu.Unlock()
			continue
		}
		s.cur = nil
		if !stop {
			select {
			case s.cur = <-w.free:
			default: // the shard takes a chunk from free on its next line
			}
		}
		s.mu.Unlock()
		// Chunks this shard queued before c are older than c: write them first so each
		// shard's lines stay in order.
		w.drainFull()
		w.writeChunk(c)
	}
}

// drainFull writes the chunks already queued.
func (w *Writer) drainFull() {
	for {
		select {
		case c := <-w.full:
			w.writeChunk(c)
		default:
			return
		}
	}
}

// writeChunk writes c's lines, rotating between lines when MaxBytes would be passed, and
// returns c to the free list.
func (w *Writer) writeChunk(c *chunk) {
	b := c.b
	for len(b) > 0 {
		if w.cfg.Path == "" || w.cfg.MaxBytes == 0 || w.size+int64(len(b)) <= w.cfg.MaxBytes {
			w.writeRaw(b)
			break
		}
		room := w.cfg.MaxBytes - w.size
		n := 0
		if room > 0 {
			n = lastLineEnd(b[:min(int64(len(b)), room)])
		}
		if n == 0 && w.size == 0 {
			n = firstLineEnd(b) // one line longer than MaxBytes: it gets a file of its own
		}
		if n > 0 {
			w.writeRaw(b[:n])
			b = b[n:]
		}
		w.rotateFile()
	}
	c.b = c.b[:0]
	w.free <- c // never blocks: free holds every chunk there is
}

func lastLineEnd(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			return i + 1
		}
	}
	return 0
}

func firstLineEnd(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i + 1
		}
	}
	return len(b)
}

func (w *Writer) writeRaw(b []byte) {
	out := w.cfg.Out
	if w.cfg.Path != "" {
		if w.file == nil {
			// A failed reopen or rotation left no file: try again before giving up.
			if err := w.open(); err != nil {
				w.fail(err)
				w.lost.Add(uint64(len(b)))
				return
			}
		}
		out = w.file
	}
	n, err := out.Write(b)
	w.size += int64(n)
	w.written.Add(uint64(n))
	if err != nil {
		w.lost.Add(uint64(len(b) - n))
		w.fail(fmt.Errorf("accesslog: write %s: %w", w.name(), err))
	}
}

func (w *Writer) name() string {
	if w.cfg.Path != "" {
		return w.cfg.Path
	}
	return "output"
}

func (w *Writer) open() error {
	f, err := os.OpenFile(w.cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, w.cfg.FileMode)
	if err != nil {
		return fmt.Errorf("accesslog: open %s: %w", w.cfg.Path, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("accesslog: stat %s: %w", w.cfg.Path, err)
	}
	w.file, w.size = f, st.Size()
	return nil
}

func (w *Writer) closeFile() {
	if w.file == nil {
		return
	}
	if err := w.file.Close(); err != nil {
		w.fail(fmt.Errorf("accesslog: close %s: %w", w.cfg.Path, err))
	}
	w.file, w.size = nil, 0
}

// rotateFile shifts Path.(Keep-1) → Path.Keep ... Path → Path.1 (the oldest is
// overwritten by the rename) and opens a new Path. With Keep == 0 Path is removed.
func (w *Writer) rotateFile() {
	w.closeFile()
	w.rotations.Add(1)
	p := w.cfg.Path
	if w.cfg.Keep == 0 {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.fail(fmt.Errorf("accesslog: rotate: %w", err))
		}
	} else {
		for i := w.cfg.Keep - 1; i >= 1; i-- {
			from, to := p+"."+strconv.Itoa(i), p+"."+strconv.Itoa(i+1)
			if err := os.Rename(from, to); err != nil && !errors.Is(err, os.ErrNotExist) {
				w.fail(fmt.Errorf("accesslog: rotate: %w", err))
			}
		}
		if err := os.Rename(p, p+".1"); err != nil && !errors.Is(err, os.ErrNotExist) {
			w.fail(fmt.Errorf("accesslog: rotate: %w", err))
		}
	}
	if err := w.open(); err != nil {
		w.fail(err)
	}
}

func (w *Writer) fail(err error) {
	w.errs.Add(1)
	if w.cfg.OnError != nil {
		w.cfg.OnError(err)
	}
}
