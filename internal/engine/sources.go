package engine

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/ct"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

// CTLogs returns the logs the configuration follows: the log list's
// usable and qualified logs, and the extra logs.
func CTLogs(ctx context.Context, c config.CT, client *http.Client, log func(msg string, args ...any)) ([]ct.Log, error) {
	var logs []ct.Log
	if c.LogList != "none" {
		list, err := ct.LoadLogList(ctx, c.LogList, client, nil)
		if err != nil {
			return nil, err
		}
		for _, err := range list.Skipped {
			log("ct: leaving out a log the list describes badly", "err", err)
		}
		logs = list.Followable(time.Now())
	}
	for i, l := range c.Logs {
		k, err := ct.ParseLogKey(l.Key)
		if err != nil {
			return nil, fmt.Errorf("sources.ct.logs[%d].key: %w", i, err)
		}
		typ := ct.LogRFC6962
		if l.Type == "static" {
			typ = ct.LogStatic
		}
		logs = append(logs, ct.Log{Description: l.URL, Type: typ, URL: l.URL, Key: k})
	}
	return logs, nil
}

// ctSource is the store's name for a log's position.
func ctSource(logURL string) string { return "ct " + logURL }

// runCT follows the CT logs. Each verified batch of a log becomes one
// store transaction: its matches and the log's new position together.
func (e *Engine) runCT(ctx context.Context) error {
	logs, err := CTLogs(ctx, e.cfg.Sources.CT, e.client, e.log.Warn)
	if err != nil {
		return err
	}
	if len(logs) == 0 {
		return errors.New("no CT log to follow: the log list has no usable log and sources.ct.logs is empty")
	}
	positions := map[string]ct.Position{}
	for _, l := range logs {
		b, err := e.st.Cursor(ctx, ctSource(l.URL))
		if err != nil {
			return err
		}
		if b == nil {
			continue
		}
		var p ct.Position
		if err := json.Unmarshal(b, &p); err != nil {
			return fmt.Errorf("the saved position of %s is unreadable (%v): delete it to start the log anew", l.URL, err)
		}
		positions[l.URL] = p
	}
	start := ct.Start{FromStart: e.cfg.Sources.CT.Start == "start"}
	t, err := ct.NewTailer(ct.TailConfig{Logs: logs, Start: start, Poll: e.cfg.Sources.CT.Poll,
		Concurrency: e.cfg.Sources.CT.Concurrency, Client: nil, Logger: e.log, Positions: positions,
		Handle: e.handleCT})
	if err != nil {
		return err
	}
	e.setCT(t)
	e.log.Info("following CT logs", "logs", len(logs), "resumed", len(positions))
	return t.Run(ctx)
}

// handleCT records one verified batch of a log.
func (e *Engine) handleCT(ctx context.Context, b ct.Batch) error {
	var ms []store.Match
	for _, en := range b.Entries {
		ref := fmt.Sprintf("%s %d", b.Log.URL, en.Index)
		for _, name := range en.Names {
			e.stats.add(&e.stats.Names, 1)
			ms = append(ms, e.match(name, "ct", ref, en.Timestamp)...)
		}
	}
	cursor, err := json.Marshal(b.Pos)
	if err != nil {
		return err
	}
	return e.record(ctx, ctSource(b.Log.URL), cursor, ms)
}

// nrdCursor is how far a newly-registered-domain list was read.
type nrdCursor struct {
	SHA256 string `json:"sha256"` // of the list's content
	Line   int    `json:"line"`   // lines done
	Done   bool   `json:"done"`
}

// Limits of one newly-registered-domain list.
const (
	nrdMaxBytes = 512 << 20 // decompressed
	nrdMaxLines = 20_000_000
	nrdBatch    = 2000
)

// runNRD polls a newly-registered-domain list. A list is read once per
// content: the cursor holds its hash and the lines done, so a restart goes
// on where it stopped and an unchanged list is not read again.
func (e *Engine) runNRD(ctx context.Context, n config.NRD) error {
	source := "nrd " + n.Name
	for {
		if err := e.readNRD(ctx, n, source); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(n.Every):
		}
	}
}

func (e *Engine) readNRD(ctx context.Context, n config.NRD, source string) error {
	data, err := e.fetchList(ctx, n)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	cur := nrdCursor{SHA256: hex.EncodeToString(sum[:])}
	if b, err := e.st.Cursor(ctx, source); err != nil {
		return err
	} else if b != nil {
		var saved nrdCursor
		if json.Unmarshal(b, &saved) == nil && saved.SHA256 == cur.SHA256 {
			if saved.Done {
				return nil
			}
			cur.Line = saved.Line
		}
	}
	text, err := maybeGunzip(data)
	if err != nil {
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 4096)
	line := 0
	var ms []store.Match
	flush := func(done bool) error {
		c := cur
		c.Line, c.Done = line, done
		b, _ := json.Marshal(c)
		err := e.record(ctx, source, b, ms)
		ms = ms[:0]
		return err
	}
	for sc.Scan() {
		line++
		if line <= cur.Line {
			continue
		}
		if line > nrdMaxLines {
			e.log.Warn("newly-registered-domain list too long; the rest is left out", "list", n.Name, "lines", nrdMaxLines)
			break
		}
		name := strings.TrimSpace(sc.Text())
		if name == "" || name[0] == '#' {
			continue
		}
		if f := strings.Fields(name); len(f) > 1 {
			name = f[0]
		}
		e.stats.add(&e.stats.Names, 1)
		ms = append(ms, e.match(name, "nrd", fmt.Sprintf("%s:%d", n.Name, line), time.Time{})...)
		if line%nrdBatch == 0 {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s: line %d: %w", n.Name, line+1, err)
	}
	return flush(true)
}

// fetchList reads a list's bytes from its file or URL, bounded.
func (e *Engine) fetchList(ctx context.Context, n config.NRD) ([]byte, error) {
	var r io.ReadCloser
	if n.File != "" {
		f, err := os.Open(n.File)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", n.Name, err)
		}
		r = f
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL, nil)
		if err != nil {
			return nil, err
		}
		resp, err := e.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetching %s: %w", n.Name, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("fetching %s: %s", n.Name, resp.Status)
		}
		r = resp.Body
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, nrdMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", n.Name, err)
	}
	if len(b) > nrdMaxBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes: split it", n.Name, nrdMaxBytes)
	}
	return b, nil
}

// maybeGunzip decompresses gzip data (by its magic), bounded.
func maybeGunzip(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, nrdMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if len(out) > nrdMaxBytes {
		return nil, fmt.Errorf("more than %d bytes once decompressed", nrdMaxBytes)
	}
	return out, nil
}

// sweepCursor is when a sweep last finished.
type sweepCursor struct {
	Finished time.Time `json:"finished"`
}

// runSweep generates look-alikes of every official domain of every
// brand and records those that resolve. A sweep runs when the previous
// one finished longer than s.Every ago; resolutions share the probes'
// rate limit.
func (e *Engine) runSweep(ctx context.Context, i int, s config.Sweep) error {
	source := fmt.Sprintf("sweep %d", i)
	gen, err := lookalike.NewGenerator(lookalike.GenerateOptions{Fuzzers: s.Fuzzers, TLDs: s.TLDs})
	if err != nil {
		return fmt.Errorf("sources.sweeps[%d]: %w", i, err)
	}
	for {
		var last sweepCursor
		if b, err := e.st.Cursor(ctx, source); err != nil {
			return err
		} else if b != nil {
			_ = json.Unmarshal(b, &last)
		}
		if wait := last.Finished.Add(s.Every).Sub(e.now()); wait > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			continue
		}
		if err := e.sweep(ctx, gen, source); err != nil {
			return err
		}
		b, _ := json.Marshal(sweepCursor{Finished: e.now()})
		if err := e.record(ctx, source, b, nil); err != nil {
			return err
		}
	}
}

func (e *Engine) sweep(ctx context.Context, gen *lookalike.Generator, source string) error {
	domains := map[string]bool{}
	for _, o := range e.orgs {
		for _, b := range o.brands.Brands {
			for _, d := range b.Domains {
				domains[d] = true
			}
		}
	}
	started := e.now()
	resolved := 0
	for d := range domains {
		cands, err := gen.Candidates(d)
		if err != nil {
			e.log.Warn("sweep: cannot generate look-alikes", "domain", d, "err", err)
			continue
		}
		var ms []store.Match
		for c := range cands {
			if err := e.probes.Wait(ctx); err != nil {
				return nil
			}
			e.stats.add(&e.stats.Names, 1)
			if !resolves(e.prober.DNS(ctx, c.Domain)) {
				continue
			}
			resolved++
			ms = append(ms, e.match(c.Domain, "sweep", "generated from "+d+" by "+c.Fuzzer, time.Time{})...)
			if len(ms) >= 100 {
				if err := e.record(ctx, source, nil, ms); err != nil {
					return err
				}
				ms = ms[:0]
			}
		}
		if err := e.record(ctx, source, nil, ms); err != nil {
			return err
		}
	}
	e.log.Info("sweep done", "domains", len(domains), "resolving", resolved, "took", e.now().Sub(started).Round(time.Second).String())
	return nil
}

// resolves reports whether a DNS result has an address.
func resolves(r probe.DNSResult) bool {
	ev := probe.Evidence{DNS: r}
	for _, s := range ev.Signals() {
		if s == probe.SignalResolves {
			return true
		}
	}
	return false
}
