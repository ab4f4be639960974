package ct

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/ct/cttest"
)

// syncBuffer is an output the test can read while the tailer writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) events(t testing.TB) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return parseEvents(t, s.b.Bytes())
}

func parseEvents(t testing.TB, b []byte) []Event {
	var out []Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var ev Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad output line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	return out
}

func jsonLine(ev Event) []byte {
	b, _ := json.Marshal(ev)
	return append(b, '\n')
}

func testConfig(out *syncBuffer, logs ...Log) TailConfig {
	return TailConfig{Logs: logs, Start: Start{FromStart: true}, Poll: 20 * time.Millisecond, Timeout: 5 * time.Second,
		Out: out, Format: jsonLine, CommitEvery: 20 * time.Millisecond}
}

// running is a tailer running in the background.
type running struct {
	*Tailer
	done   chan error
	cancel context.CancelFunc
}

// start runs a tailer on cfg until stop.
func start(t testing.TB, cfg TailConfig) *running {
	t.Helper()
	tl, err := NewTailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Tailer: tl, done: make(chan error, 1), cancel: cancel}
	go func() { r.done <- tl.Run(ctx) }()
	return r
}

// waitFor waits until cond holds; it fails the test when Run returns first
// or after 20 seconds.
func (r *running) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case err := <-r.done:
			t.Fatalf("Run returned before %s: %v", what, err)
		case <-deadline:
			t.Fatalf("timed out waiting for %s; stats: %+v", what, r.Stats())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stop ends Run and fails the test on its error.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// runUntil runs a tailer until cond holds.
func runUntil(t *testing.T, cfg TailConfig, cond func(*Tailer) bool) *Tailer {
	t.Helper()
	r := start(t, cfg)
	r.waitFor(t, "the condition", func() bool { return cond(r.Tailer) })
	r.stop(t)
	return r.Tailer
}

// checkIndexes checks that the events of log are exactly the indexes
// [0, n), in order.
func checkIndexes(t *testing.T, evs []Event, log string, n int) {
	t.Helper()
	var got []uint64
	for _, ev := range evs {
		if ev.Log == log {
			got = append(got, ev.Index)
		}
	}
	if len(got) != n {
		t.Fatalf("%s: %d events, want %d", log, len(got), n)
	}
	for i, x := range got {
		if x != uint64(i) {
			t.Fatalf("%s: event %d has index %d", log, i, x)
		}
	}
}

func TestFollowBothKinds(t *testing.T) {
	for _, static := range []bool{false, true} {
		t.Run(fmt.Sprint("static=", static), func(t *testing.T) {
			fl := newFakeLog(t, static)
			must(t, fl.AddN(600, "com"))
			fl.Publish()
			// Faults: rate limits, server errors, truncated bodies, short
			// batches, gzip.
			fl.SetFaults(cttest.Faults{Fail429: 2, Fail500: 3, Truncate: 2, MaxBatch: 37, Gzip: true})
			var out syncBuffer
			cfg := testConfig(&out, logOf(t, fl))
			tl := runUntil(t, cfg, func(*Tailer) bool { return len(out.events(t)) >= 600 })
			evs := out.events(t)
			checkIndexes(t, evs, fl.URL(), 600)
			if evs[5].Names[0] != "host5.example.com" || evs[5].Precert || evs[5].Issuer == "" {
				t.Errorf("event 5 = %+v", evs[5])
			}
			st := tl.Stats()[0]
			if st.Errors["http_429"] < 1 || st.Errors["http_5xx"] < 1 || st.Errors["bad_response"] < 1 {
				t.Errorf("faults not counted: %v", st.Errors)
			}
			// Entries appended later are followed.
			must(t, fl.AddN(300, "org"))
			fl.Publish()
			out2 := syncBuffer{}
			cfg.Out = &out2
			cfg.Start = Start{Index: 600, Set: true}
			runUntil(t, cfg, func(*Tailer) bool { return len(out2.events(t)) >= 300 })
			if evs := out2.events(t); evs[0].Index != 600 || evs[0].Names[0] != "host600.example.org" {
				t.Errorf("first event from 600: %+v", evs[0])
			}
		})
	}
}

func TestFollowNewEntries(t *testing.T) {
	for _, static := range []bool{false, true} {
		t.Run(fmt.Sprint("static=", static), func(t *testing.T) {
			fl := newFakeLog(t, static)
			must(t, fl.AddN(300, "com"))
			fl.Publish()
			var out syncBuffer
			cfg := testConfig(&out, logOf(t, fl))
			cfg.Start = Start{} // from now
			r := start(t, cfg)
			// Wait for the follower to stand at the head, then grow the log.
			r.waitFor(t, "the head", func() bool { return r.Stats()[0].TreeSize == 300 })
			must(t, fl.Add([]string{"rivm-coronatest.nl"}, true))
			must(t, fl.AddN(10, "net"))
			fl.Publish()
			r.waitFor(t, "the new entries", func() bool { return len(out.events(t)) >= 11 })
			r.stop(t)
			evs := out.events(t)
			if len(evs) != 11 || evs[0].Index != 300 || !evs[0].Precert || evs[0].Names[0] != "rivm-coronatest.nl" {
				t.Fatalf("events = %+v", evs)
			}
		})
	}
}

// A log that signs falsely, rewinds or rewrites its history is left, and
// none of its unverifiable entries is printed; the other logs go on.
func TestFollowMisbehavingLogs(t *testing.T) {
	good := newFakeLog(t, true)
	must(t, good.AddN(300, "com"))
	good.Publish()

	badSig := newFakeLog(t, false)
	must(t, badSig.AddN(50, "com"))
	badSig.Publish()
	must(t, badSig.SignWithOtherKey()) // signs with a key that is not the log's

	rewind := newFakeLog(t, false)
	must(t, rewind.AddN(100, "com"))
	rewind.Publish()

	fork := newFakeLog(t, true)
	must(t, fork.AddN(300, "com"))
	fork.Publish()

	var out syncBuffer
	cfg := testConfig(&out, logOf(t, good), logOf(t, badSig), logOf(t, rewind), logOf(t, fork))
	r := start(t, cfg)
	r.waitFor(t, "the logs to be read", func() bool {
		s := r.Stats()
		return s[0].Next == 300 && s[2].Next == 100 && s[3].Next == 300 && s[1].Errors["bad_signature"] > 0
	})
	// Rewind: the tree shrinks. Fork: an entry already read changes.
	rewind.Rewind(60)
	must(t, fork.Replace(10, []string{"evil.example"}))
	must(t, fork.AddN(20, "org"))
	fork.Publish()
	must(t, good.AddN(5, "net"))
	good.Publish()
	r.waitFor(t, "the faults to be caught", func() bool {
		s := r.Stats()
		return s[2].Failed && s[3].Failed && s[0].Next == 305
	})
	r.stop(t)
	evs := out.events(t)
	checkIndexes(t, evs, good.URL(), 305)
	checkIndexes(t, evs, badSig.URL(), 0)
	checkIndexes(t, evs, rewind.URL(), 100)
	checkIndexes(t, evs, fork.URL(), 300)
}

// Restarts at random points, with output written after the last commit
// (as a crash leaves it), lose nothing and repeat nothing.
func TestRestartExactlyOnce(t *testing.T) {
	logs := []*cttest.Log{newFakeLog(t, false), newFakeLog(t, true)}
	for _, fl := range logs {
		must(t, fl.AddN(700, "com"))
		fl.Publish()
		fl.SetFaults(cttest.Faults{MaxBatch: 50})
	}
	dir := t.TempDir()
	outPath := filepath.Join(dir, "out.jsonl")
	total := func() int {
		b, _ := os.ReadFile(outPath)
		return bytes.Count(b, []byte("\n"))
	}
	for round := 0; total() < 1400 || round < 3; round++ {
		if round > 50 {
			t.Fatalf("no progress after %d restarts: %d lines", round, total())
		}
		f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cfg := TailConfig{Logs: []Log{logOf(t, logs[0]), logOf(t, logs[1])}, Start: Start{FromStart: true},
			StateDir: filepath.Join(dir, "state"), Poll: 10 * time.Millisecond, Out: f, Format: jsonLine,
			CommitEvery: 15 * time.Millisecond, Concurrency: 2}
		tl, err := NewTailer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Cut points vary; runs grow longer so that slow machines (the race
		// detector) make progress too.
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(20+round*7%60+round*round*2)*time.Millisecond)
		if err := tl.Run(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		// A crash after writing and before saving positions: lines the
		// state does not cover. The next run must cut them off.
		fmt.Fprintf(f, "{\"log\":\"uncommitted\",\"index\":%d}\n", round)
		f.Close()
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	// The last run's uncommitted line is still there; drop it.
	evs := parseEvents(t, b)
	if n := len(evs); evs[n-1].Log == "uncommitted" {
		evs = evs[:n-1]
	}
	for _, fl := range logs {
		checkIndexes(t, evs, fl.URL(), 700)
	}
	var idx []string
	for _, ev := range evs {
		idx = append(idx, fmt.Sprint(ev.Log, ev.Index))
	}
	sort.Strings(idx)
	for i := 1; i < len(idx); i++ {
		if idx[i] == idx[i-1] {
			t.Fatalf("%s printed twice", idx[i])
		}
	}
}

func TestDedupPrecertAndCert(t *testing.T) {
	a, b := newFakeLog(t, false), newFakeLog(t, true)
	b.SetSerialBase(a.SerialBase())
	b.SetCA(a.CA())
	// The same certificate: as precertificate in one log, as final
	// certificate in the other (same serial: index 0 in both).
	must(t, a.Add([]string{"who-covid19-relief.com"}, true))
	must(t, b.Add([]string{"who-covid19-relief.com"}, false))
	must(t, a.AddN(3, "com"))
	must(t, b.AddN(3, "org"))
	a.Publish()
	b.Publish()
	var out syncBuffer
	cfg := testConfig(&out, logOf(t, a), logOf(t, b))
	var seven time.Time
	runUntil(t, cfg, func(*Tailer) bool {
		if seven.IsZero() && len(out.events(t)) >= 7 {
			seven = time.Now()
		}
		return !seven.IsZero() && time.Since(seven) > 200*time.Millisecond
	})
	n := 0
	for _, ev := range out.events(t) {
		if ev.Names[0] == "who-covid19-relief.com" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the certificate was printed %d times, want once", n)
	}
}
