package ct

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/ct/cttest"
)

// memStore saves what a Handle makes of batches and the positions with it,
// atomically, as a database transaction would.
type memStore struct {
	mu    sync.Mutex
	seen  map[string][]uint64
	pos   map[string]Position
	calls int
}

func (m *memStore) handle(_ context.Context, b Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	for _, e := range b.Entries {
		m.seen[b.Log.URL] = append(m.seen[b.Log.URL], e.Index)
	}
	m.pos[b.Log.URL] = b.Pos
	return nil
}

func (m *memStore) positions() map[string]Position {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Position{}
	for k, v := range m.pos {
		out[k] = v
	}
	return out
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, s := range m.seen {
		n += len(s)
	}
	return n
}

// With Handle, positions saved with the entries let a restart go on with
// nothing lost and nothing handled twice.
func TestHandleResumesExactlyOnce(t *testing.T) {
	a, b := newFakeLog(t, false), newFakeLog(t, true)
	must(t, a.AddN(900, "com"))
	must(t, b.AddN(900, "com"))
	a.Publish()
	b.Publish()
	a.SetFaults(cttest.Faults{MaxBatch: 50})
	st := &memStore{seen: map[string][]uint64{}, pos: map[string]Position{}}
	cfg := TailConfig{Logs: []Log{logOf(t, a), logOf(t, b)}, Start: Start{FromStart: true}, Poll: 10 * time.Millisecond,
		Handle: st.handle, Concurrency: 2}
	for round := 0; st.count() < 1800; round++ {
		if round > 100 {
			t.Fatalf("no progress: %d entries handled", st.count())
		}
		cfg.Positions = st.positions()
		r := start(t, cfg)
		time.Sleep(time.Duration(5+round*3) * time.Millisecond)
		r.stop(t)
	}
	for _, l := range []string{a.URL(), b.URL()} {
		got := st.seen[l]
		if len(got) != 900 {
			t.Fatalf("%s: %d entries handled, want 900", l, len(got))
		}
		for i, x := range got {
			if x != uint64(i) {
				t.Fatalf("%s: entry %d handled as index %d", l, i, x)
			}
		}
	}
}

func TestHandleErrorStopsRun(t *testing.T) {
	l := newFakeLog(t, true)
	must(t, l.AddN(10, "com"))
	l.Publish()
	boom := errors.New("database is down")
	tl, err := NewTailer(TailConfig{Logs: []Log{logOf(t, l)}, Start: Start{FromStart: true},
		Handle: func(context.Context, Batch) error { return boom }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tl.Run(ctx); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the Handle error", err)
	}
}
