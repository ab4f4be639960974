package ct

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// TailConfig configures Tail. Zero fields take the defaults given.
type TailConfig struct {
	// Logs to follow; each must have a URL, a key and a type.
	Logs []Log
	// Start applies to logs without a saved position; the zero value
	// starts at the current head.
	Start Start
	// StateDir keeps each log's position across runs; "" keeps positions
	// in memory only.
	StateDir string
	// Client makes the requests; nil: a client with connection timeouts.
	Client *http.Client
	// Poll is how often a caught-up log is asked for a new tree head;
	// 0: one second.
	Poll time.Duration
	// Timeout bounds each request; 0: 30 seconds.
	Timeout time.Duration
	// Concurrency caps the requests in flight per log; 0: 4.
	Concurrency int
	// DedupWindow: a certificate seen again within it (as precertificate
	// and final certificate, or in several logs) yields one event; 0: ten
	// minutes; negative: no de-duplication. At most 1,000,000
	// certificates are remembered.
	DedupWindow time.Duration
	// Out receives the lines Format makes. When it is a regular file and
	// StateDir is set, a restart first cuts off what was written after the
	// last saved positions: no event is lost or written twice.
	Out io.Writer
	// Format turns an event into a line (with its newline), or nil to
	// leave it out.
	Format func(Event) []byte
	// CommitEvery is how often the output is synced and positions saved;
	// 0: one second. Lines are written out as soon as no batch is waiting.
	CommitEvery time.Duration
	// Handle, when set, takes every verified batch in place of Out, Format
	// and StateDir: each log's batches in order, duplicates left out. It
	// must save b.Pos together with what it makes of the entries, in one
	// transaction, and give the saved positions back in Positions on the
	// next run: then no entry is lost or handled twice across crashes. An
	// error from Handle stops Run with that error.
	Handle func(ctx context.Context, b Batch) error
	// Positions are where logs resume when Handle is set, by log URL.
	Positions map[string]Position
	// StatsEvery logs per-log counters at Info level; 0: never.
	StatsEvery time.Duration
	// Logger receives progress and errors; nil discards them.
	Logger *slog.Logger
}

// Event is one certificate as ward reports it.
type Event struct {
	Log       string    `json:"log"`
	Index     uint64    `json:"index"`
	Timestamp time.Time `json:"timestamp"`
	Precert   bool      `json:"precert"`
	Names     []string  `json:"names"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"`
}

func eventOf(l *Log, e *Entry) Event {
	names := e.Names
	if names == nil {
		names = []string{}
	}
	return Event{Log: l.URL, Index: e.Index, Timestamp: e.Timestamp, Precert: e.Precert, Names: names,
		Issuer: e.Issuer, NotBefore: e.NotBefore, NotAfter: e.NotAfter, SHA256: hex.EncodeToString(e.SHA256[:])}
}

// Tailer follows logs; Stats may be read while Run runs.
type Tailer struct {
	cfg       TailConfig
	followers []*follower
	budget    *budget // entries held between fetching and printing, all logs together
}

// NewTailer checks the configuration.
func NewTailer(cfg TailConfig) (*Tailer, error) {
	if len(cfg.Logs) == 0 {
		return nil, errors.New("no CT logs to follow: give -log URL -log-key KEY, or a log list with usable logs")
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.DedupWindow == 0 {
		cfg.DedupWindow = 10 * time.Minute
	}
	if cfg.CommitEvery <= 0 {
		cfg.CommitEvery = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.MaxIdleConnsPerHost = 16
		tr.ResponseHeaderTimeout = cfg.Timeout
		cfg.Client = &http.Client{Transport: tr}
	}
	t := &Tailer{cfg: cfg}
	seen := map[string]bool{}
	for i := range cfg.Logs {
		l := &cfg.Logs[i]
		if l.URL == "" || l.Key == nil {
			return nil, fmt.Errorf("CT log %q: a URL and a key are needed", l.Description)
		}
		if seen[l.URL] {
			continue
		}
		seen[l.URL] = true
		t.followers = append(t.followers, newFollower(l, cfg.Client, cfg.Concurrency, cfg.Poll, cfg.Timeout, cfg.Logger))
	}
	inFlight := newBudget(maxInFlight)
	for _, f := range t.followers {
		f.budget = inFlight
	}
	t.budget = inFlight
	return t, nil
}

// LogStat is one log's counters.
type LogStat struct {
	Log *Log
	LogStats
}

// Stats returns each log's counters.
func (t *Tailer) Stats() []LogStat {
	out := make([]LogStat, len(t.followers))
	for i, f := range t.followers {
		out[i] = LogStat{Log: f.log, LogStats: f.stats.snapshot()}
	}
	return out
}

// Run follows the logs until ctx ends, writing events to Out, and returns
// nil then. Logs that fail are reported and left; Run fails only when the
// state cannot be read or written, Out cannot be written, or every log
// has failed.
func (t *Tailer) Run(ctx context.Context) error {
	cfg := &t.cfg
	st := &tailState{Version: 1, Logs: map[string]*Position{}}
	var err error
	switch {
	case cfg.Handle != nil:
		for u, p := range cfg.Positions {
			st.Logs[u] = &p
		}
		cfg.StateDir = ""
	case cfg.StateDir != "":
		if st, err = loadState(cfg.StateDir); err != nil {
			return err
		}
	}
	file, err := t.resumeOutput(st)
	if err != nil {
		return err
	}
	if cfg.StateDir != "" {
		// Mark where the output stands before writing to it: a crash
		// before the first commit must not leave lines no state covers.
		if err := st.save(cfg.StateDir); err != nil {
			return err
		}
	}
	w := bufio.NewWriterSize(cfg.Out, 256<<10)
	commit := func() error {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
		if cfg.StateDir == "" {
			return nil
		}
		if file != nil {
			if err := file.Sync(); err != nil {
				return fmt.Errorf("syncing the output: %w", err)
			}
			off, err := file.Seek(0, io.SeekCurrent)
			if err != nil {
				return fmt.Errorf("syncing the output: %w", err)
			}
			st.Output.Offset = off
		}
		return st.save(cfg.StateDir)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan Batch, 2*len(t.followers))
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for _, f := range t.followers {
		pos := st.Logs[f.log.URL]
		wg.Go(func() {
			err := f.run(runCtx, pos, cfg.Start, batches)
			if err != nil && runCtx.Err() == nil {
				mu.Lock()
				failed++
				if failed == len(t.followers) {
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	if cfg.StatsEvery > 0 {
		wg.Go(func() { t.logStats(runCtx) })
	}
	// On any return, stop the followers before waiting for them.
	defer func() {
		cancel()
		wg.Wait()
	}()

	dd := newDedup(cfg.DedupWindow, 1<<20)
	tick := time.NewTicker(cfg.CommitEvery)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case b := <-batches:
			if cfg.Handle != nil {
				kept := b.Entries[:0]
				for _, e := range b.Entries {
					if dd.first(e.TBSKey, time.Now()) {
						kept = append(kept, e)
					}
				}
				b.Entries = kept
				err := cfg.Handle(runCtx, b)
				t.budget.release(b.held)
				if err != nil {
					return fmt.Errorf("handling the entries of %s: %w", b.Log.Description, err)
				}
				continue
			}
			for i := range b.Entries {
				e := &b.Entries[i]
				if !dd.first(e.TBSKey, time.Now()) {
					continue
				}
				if line := cfg.Format(eventOf(b.Log, e)); line != nil {
					if _, err := w.Write(line); err != nil {
						return fmt.Errorf("writing the output: %w", err)
					}
				}
			}
			t.budget.release(b.held)
			p := b.Pos
			st.Logs[b.Log.URL] = &p
			dirty = true
			// Nothing more waiting: hand the lines over now rather than at
			// the next commit, so that a reader sees a new certificate
			// within a poll interval. The saved positions still move only
			// at commits, so a crash cannot cost or repeat a line in -o.
			if len(batches) == 0 {
				if err := w.Flush(); err != nil {
					return fmt.Errorf("writing the output: %w", err)
				}
			}
		case <-tick.C:
			if dirty {
				if err := commit(); err != nil {
					return err
				}
				dirty = false
			}
		case <-runCtx.Done():
			cancel()
			if err := commit(); err != nil {
				return err
			}
			mu.Lock()
			allFailed := failed == len(t.followers)
			mu.Unlock()
			if allFailed && ctx.Err() == nil {
				return errors.New("every CT log failed; see the errors above")
			}
			return nil
		}
	}
}

// resumeOutput makes a regular output file end where the saved positions
// say: lines written after the last commit are cut, to be written again.
func (t *Tailer) resumeOutput(st *tailState) (*os.File, error) {
	f, ok := t.cfg.Out.(*os.File)
	if !ok || t.cfg.StateDir == "" {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	path, err := filepath.Abs(f.Name())
	if err != nil {
		return nil, nil
	}
	if st.Output != nil && st.Output.Path == path && fi.Size() > st.Output.Offset {
		t.cfg.Logger.Warn("ct: cutting output written after the last saved positions; it will be written again",
			"file", path, "bytes", fi.Size()-st.Output.Offset)
		if err := f.Truncate(st.Output.Offset); err != nil {
			return nil, fmt.Errorf("resuming the output %s: %w", path, err)
		}
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return nil, fmt.Errorf("resuming the output %s: %w", path, err)
	}
	off, _ := f.Seek(0, io.SeekCurrent)
	st.Output = &outputMark{Path: path, Offset: off}
	return f, nil
}

func (t *Tailer) logStats(ctx context.Context) {
	tick := time.NewTicker(t.cfg.StatsEvery)
	defer tick.Stop()
	prev := map[string]uint64{}
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			secs := now.Sub(last).Seconds()
			last = now
			for _, s := range t.Stats() {
				lag := s.TreeSize - min(s.Next, s.TreeSize)
				lagTime := time.Duration(0)
				if lag > 0 && !s.LastEntry.IsZero() {
					lagTime = now.Sub(s.LastEntry).Round(time.Second)
				}
				t.cfg.Logger.Info("ct: log", "log", s.Log.Description, "entries", s.Entries,
					"entries_per_s", fmt.Sprintf("%.0f", float64(s.Entries-prev[s.Log.URL])/secs),
					"lag_entries", lag, "lag", lagTime.String(), "malformed", s.Malformed,
					"errors", s.Errors, "failed", s.Failed)
				prev[s.Log.URL] = s.Entries
			}
		}
	}
}

// dedup remembers certificates seen within a window, by TBS key.
type dedup struct {
	window time.Duration
	max    int
	seen   map[[32]byte]time.Time
	order  [][32]byte // insertion order, for expiry
	head   int
}

func newDedup(window time.Duration, max int) *dedup {
	return &dedup{window: window, max: max, seen: map[[32]byte]time.Time{}}
}

// first reports whether k was not seen within the window, and records it.
func (d *dedup) first(k [32]byte, now time.Time) bool {
	if d.window < 0 {
		return true
	}
	for d.head < len(d.order) {
		old := d.order[d.head]
		if now.Sub(d.seen[old]) < d.window && len(d.seen) < d.max {
			break
		}
		delete(d.seen, old)
		d.head++
	}
	if d.head > 4096 && d.head > len(d.order)/2 {
		d.order = append(d.order[:0], d.order[d.head:]...)
		d.head = 0
	}
	if t, ok := d.seen[k]; ok && now.Sub(t) < d.window {
		return false
	}
	if _, ok := d.seen[k]; !ok {
		d.order = append(d.order, k)
	}
	d.seen[k] = now
	return true
}
