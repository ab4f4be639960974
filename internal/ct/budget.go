package ct

import (
	"context"
	"sync"
)

// maxInFlight is the number of entries all the logs of a tailer may hold
// at once between fetching them and printing them. It bounds memory when
// many logs are read from far behind: 40 logs catching up at once hold no
// more than a few chunks together.
const maxInFlight = 16384

// budget is a counting semaphore over entries: a follower takes a chunk's
// worth before fetching it, and the writer gives it back once the chunk is
// printed.
type budget struct {
	mu    sync.Mutex
	free  uint64
	freed chan struct{} // closed and replaced on every release
}

func newBudget(n uint64) *budget {
	return &budget{free: n, freed: make(chan struct{})}
}

// acquire takes n entries, waiting until they are free or ctx is done. A
// nil budget has no limit.
func (b *budget) acquire(ctx context.Context, n uint64) error {
	if b == nil {
		return nil
	}
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		wait := b.freed
		b.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives n entries back.
func (b *budget) release(n uint64) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
