package ct

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Position is where a follower stands in a log: the next entry to pass on,
// the compact Merkle range of all entries before it (checked against the
// log's signed roots), and the newest tree head the log signed.
type Position struct {
	Next     uint64 `json:"next"`
	Range    []Hash `json:"range"`
	TreeSize uint64 `json:"tree_size"`
	Root     Hash   `json:"root"`
}

func (p *Position) compact() compactRange {
	c := compactRange{size: p.Next}
	for _, h := range p.Range {
		c.hashes = append(c.hashes, h)
	}
	return c
}

// Batch is a run of consecutive entries of one log, verified against a
// tree head the log signed, with the position after them.
type Batch struct {
	Log       *Log
	Entries   []Entry // decoded entries; malformed ones are left out
	Malformed int
	Pos       Position
	// held is the share of the tailer's in-flight budget the batch
	// holds; the writer releases it.
	held uint64
}

// Start says where a follower without a saved position begins.
type Start struct {
	FromStart bool   // the first entry of the log
	Index     uint64 // when not FromStart and Set: this index
	Set       bool
}

// follower follows one log.
type follower struct {
	log    *Log
	src    source
	f      *fetcher
	stats  *counters
	poll   time.Duration
	chunk  uint64
	budget *budget // shared by a tailer's followers; nil: no limit
	logger *slog.Logger
}

func newFollower(l *Log, client *http.Client, concurrency int, poll, timeout time.Duration, logger *slog.Logger) *follower {
	stats := &counters{}
	f := newFetcher(client, timeout, concurrency, stats)
	base := l.URL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	var src source
	if l.Type == LogStatic {
		// Without a submission URL (a log given by hand) the origin is
		// the checkpoint's own, checked against the signature's key name.
		origin := ""
		if l.SubmissionURL != "" {
			origin = l.Origin()
		}
		src = &staticSource{base: base, origin: origin, key: l.Key, f: f}
	} else {
		src = &rfc6962Source{base: base, key: l.Key, f: f, max: 256}
	}
	return &follower{log: l, src: src, f: f, stats: stats, poll: poll, chunk: 4096, logger: logger}
}

// head polls the log's tree head until one verifies or ctx ends. A bad
// signature is reported loudly and retried: nothing it covers is trusted.
func (fl *follower) head(ctx context.Context) (TreeHead, error) {
	b := backoff{min: fl.poll, max: 5 * time.Minute}
	for {
		th, err := fl.src.head(ctx)
		if err == nil {
			return th, nil
		}
		if ctx.Err() != nil {
			return TreeHead{}, ctx.Err()
		}
		fl.stats.countError(err)
		if errors.Is(err, ErrBadSignature) {
			fl.logger.Error("ct: log signed tree head does not verify; its entries are not trusted", "log", fl.log.Description, "err", err)
		} else {
			fl.logger.Warn("ct: fetching tree head", "log", fl.log.Description, "err", err)
		}
		if err := sleep(ctx, b.next(err)); err != nil {
			return TreeHead{}, err
		}
	}
}

// run follows the log from pos (nil: from start) and sends verified
// batches to out, in order. It returns ctx's error, or the error that made
// the log untrustworthy.
func (fl *follower) run(ctx context.Context, pos *Position, start Start, out chan<- Batch) error {
	latest, err := fl.head(ctx)
	if err != nil {
		return err
	}
	var cr compactRange
	if pos != nil {
		cr = pos.compact()
		if !cr.valid() {
			return fmt.Errorf("saved position of %s is damaged (%d range hashes for index %d): remove it from the state file to start again", fl.log.Description, len(cr.hashes), cr.size)
		}
		if latest.Size < pos.TreeSize || latest.Size == pos.TreeSize && latest.Root != [32]byte(pos.Root) {
			return fl.fail(fmt.Errorf("%w: tree head of size %d after one of size %d was seen", ErrInconsistent, latest.Size, pos.TreeSize))
		}
		if latest.Size < pos.Next {
			return fl.fail(fmt.Errorf("%w: tree of size %d, but entries up to %d were read", ErrInconsistent, latest.Size, pos.Next))
		}
	} else {
		next := latest.Size
		switch {
		case start.FromStart:
			next = 0
		case start.Set:
			next = start.Index
		}
		for next > latest.Size {
			fl.logger.Info("ct: waiting for the log to reach the start index", "log", fl.log.Description, "start", next, "size", latest.Size)
			if err := sleep(ctx, fl.poll); err != nil {
				return err
			}
			if latest, err = fl.head(ctx); err != nil {
				return err
			}
		}
		if cr, err = fl.rangeAt(ctx, next, latest); err != nil {
			return fl.fail(err)
		}
	}
	fl.stats.update(func(s *LogStats) { s.Next, s.TreeSize, s.TreeTime = cr.size, latest.Size, latest.Timestamp })
	for {
		for cr.size < latest.Size {
			end := min(latest.Size, cr.size+fl.chunk)
			n := end - cr.size
			if err := fl.budget.acquire(ctx, n); err != nil {
				return err
			}
			got, err := fl.fetchRange(ctx, cr.size, end, latest.Size)
			if err != nil {
				fl.budget.release(n)
				return fl.fail(err)
			}
			next := cr.clone()
			b := Batch{Log: fl.log}
			for _, e := range got {
				next.append(e.leaf)
				if e.err != nil {
					b.Malformed++
					fl.logger.Debug("ct: skipping a malformed entry", "log", fl.log.Description, "err", e.err)
					continue
				}
				b.Entries = append(b.Entries, e.entry)
			}
			if err := fl.verify(ctx, &next, latest); err != nil {
				fl.budget.release(n)
				return fl.fail(err)
			}
			b.Pos = Position{Next: next.size, TreeSize: latest.Size, Root: latest.Root}
			b.held = n
			for _, h := range next.hashes {
				b.Pos.Range = append(b.Pos.Range, h)
			}
			// The batch belongs to the receiver once sent: read what the
			// counters need first.
			entries, malformed := len(b.Entries), b.Malformed
			var last time.Time
			if entries > 0 {
				last = b.Entries[entries-1].Timestamp
			}
			select {
			case out <- b:
			case <-ctx.Done():
				fl.budget.release(n)
				return ctx.Err()
			}
			cr = next
			fl.stats.update(func(s *LogStats) {
				s.Entries += uint64(entries)
				s.Malformed += uint64(malformed)
				s.Next = cr.size
				if entries > 0 {
					s.LastEntry = last
				}
			})
		}
		if err := sleep(ctx, fl.poll); err != nil {
			return err
		}
		th, err := fl.head(ctx)
		if err != nil {
			return err
		}
		switch {
		case th.Size < latest.Size:
			return fl.fail(fmt.Errorf("%w: the tree shrank from %d to %d entries", ErrInconsistent, latest.Size, th.Size))
		case th.Size == latest.Size && th.Root != latest.Root:
			return fl.fail(fmt.Errorf("%w: two different roots signed for %d entries", ErrInconsistent, th.Size))
		case th.Size == latest.Size:
			continue
		}
		latest = th
		fl.stats.update(func(s *LogStats) { s.TreeSize, s.TreeTime = th.Size, th.Timestamp })
	}
}

func (fl *follower) fail(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	fl.stats.countError(err)
	fl.stats.update(func(s *LogStats) { s.Failed = true })
	fl.logger.Error("ct: giving up on this log; its entries are not trusted", "log", fl.log.Description, "url", fl.log.URL, "err", err)
	return fmt.Errorf("log %s: %w", fl.log.Description, err)
}

// rangeAt returns the verified compact range of the entries [0, next) of
// the tree th: the leaf before next is proved included in th, and its
// proof's left siblings are the range.
func (fl *follower) rangeAt(ctx context.Context, next uint64, th TreeHead) (compactRange, error) {
	if next == 0 {
		return compactRange{}, nil
	}
	var leaf [32]byte
	var proof [][32]byte
	err := fl.f.retry(ctx, func() (err error) {
		if leaf, err = fl.src.leafHash(ctx, next-1, th.Size); err != nil {
			return err
		}
		proof, err = fl.src.proof(ctx, next-1, th.Size, leaf)
		return err
	})
	if err != nil {
		return compactRange{}, fmt.Errorf("proving the position %d: %w", next, err)
	}
	cr, err := verifyInclusion(next-1, th.Size, leaf, proof, th.Root)
	if err != nil {
		return compactRange{}, err
	}
	cr.append(leaf)
	return cr, nil
}

// verify checks that the entries read so far, summed up in cr, are a
// prefix of the tree th: directly against its root when cr covers it all,
// else with an inclusion proof of cr's last leaf.
func (fl *follower) verify(ctx context.Context, cr *compactRange, th TreeHead) error {
	if cr.size == th.Size {
		if cr.root() != th.Root {
			return fmt.Errorf("%w: entries up to %d do not hash to the signed root", ErrInconsistent, th.Size)
		}
		return nil
	}
	want, err := fl.rangeAt(ctx, cr.size, th)
	if err != nil {
		return err
	}
	if len(want.hashes) != len(cr.hashes) {
		return fmt.Errorf("%w: entries up to %d do not match the tree of %d", ErrInconsistent, cr.size, th.Size)
	}
	for i := range want.hashes {
		if want.hashes[i] != cr.hashes[i] {
			return fmt.Errorf("%w: entries up to %d do not match the tree of %d", ErrInconsistent, cr.size, th.Size)
		}
	}
	return nil
}

// fetchRange fetches the entries [start, end) of the tree of treeSize
// entries, batches in parallel (the fetcher caps requests in flight), and
// returns them in order.
func (fl *follower) fetchRange(ctx context.Context, start, end, treeSize uint64) ([]fetched, error) {
	size, aligned := fl.src.batch()
	type part struct {
		from, to uint64
		got      []fetched
		err      error
	}
	var parts []*part
	for a := start; a < end; {
		b := min(end, a+size)
		if aligned {
			b = min(end, (a/size+1)*size)
		}
		parts = append(parts, &part{from: a, to: b})
		a = b
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range parts {
		wg.Go(func() {
			p.got, p.err = fl.fetchPart(ctx, p.from, p.to, treeSize)
			if p.err != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	var out []fetched
	for _, p := range parts {
		if p.err != nil {
			return nil, p.err
		}
		out = append(out, p.got...)
	}
	return out, nil
}

// fetchPart fetches [from, to), asking again for the rest when a log
// returns fewer entries than asked. A static data tile that stays
// unreadable is replaced by its hash tile: its entries are counted as
// malformed, and verification goes on.
func (fl *follower) fetchPart(ctx context.Context, from, to, treeSize uint64) ([]fetched, error) {
	var out []fetched
	for cur := from; cur < to; {
		var got []fetched
		attempts := 0
		err := fl.f.retry(ctx, func() (err error) {
			attempts++
			got, err = fl.src.fetch(ctx, cur, to, treeSize)
			var be *bodyError
			if s, ok := fl.src.(*staticSource); ok && attempts >= 5 && errors.As(err, &be) {
				fl.logger.Warn("ct: data tile unreadable, skipping its entries", "log", fl.log.Description, "from", cur, "to", to, "err", err)
				got = got[:0]
				for i := cur; i < to; i++ {
					leaf, err := s.leafHash(ctx, i, treeSize)
					if err != nil {
						return err
					}
					got = append(got, fetched{leaf: leaf, err: err2malformed(be)})
				}
				return nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		cur += uint64(len(got))
	}
	return out, nil
}

func err2malformed(err error) error { return fmt.Errorf("%w: %v", ErrMalformed, err) }
