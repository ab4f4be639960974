package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ward-health/ward/internal/config"
	"github.com/ward-health/ward/internal/feeds"
	"github.com/ward-health/ward/internal/imports"
	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
)

// importSoon is the wait before the next read of an import that stopped
// at a bound with more to read.
const importSoon = 5 * time.Second

// ImportOwner returns the organisation that keeps an import's indicators:
// the configured one (private to it), else "import/NAME" (shared with
// every organisation).
func ImportOwner(im config.Import) (org, scope string) {
	if im.Org != "" {
		return im.Org, "private"
	}
	return "import/" + im.Name, "shared"
}

// runImport reads an import on its schedule until ctx ends.
func (e *Engine) runImport(ctx context.Context, im config.Import) error {
	f := &imports.Fetcher{UserAgent: "ward-import/1", Logger: e.log, Now: e.now}
	for {
		more, err := e.readImport(ctx, f, im)
		wait := im.Every
		switch {
		case err != nil:
			d, ok := imports.RetryAfter(err)
			if !ok {
				return err
			}
			e.stats.stageError("import " + im.Name)
			e.log.Warn("import: the server asked to wait", "import", im.Name, "retry_in", d.String())
			wait = max(d, time.Second)
		case more:
			wait = importSoon
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// readImport fetches an import once and brings the store in line: new
// and updated indicators recorded, revoked ones and (of a full snapshot)
// absent ones withdrawn, then the import's state saved. It reports
// whether more waits to be read at once.
func (e *Engine) readImport(ctx context.Context, f *imports.Fetcher, im config.Import) (more bool, err error) {
	key := "import " + im.Name
	var st imports.State
	if b, err := e.st.Cursor(ctx, key); err != nil {
		return false, err
	} else if len(b) > 0 && json.Unmarshal(b, &st) != nil {
		e.log.Warn("import: its saved state is damaged; reading it whole again", "import", im.Name)
		st = imports.State{}
	}
	owner, scope := ImportOwner(im)
	source := feeds.ImportSource(im.Name)
	src := imports.Source{Name: im.Name, URL: im.URL, Format: im.Format, Collection: im.Collection, APIRoot: im.APIRoot,
		Token: im.Token, Username: im.Username, Password: im.Password, Headers: im.Headers, TLP: im.TLP,
		Scope: scope, Org: owner, MaxBytes: im.MaxBytes, MaxIndicators: im.MaxIndicators, Timeout: im.Timeout}
	up, next, err := f.Fetch(ctx, src, st)
	if err != nil {
		return false, fmt.Errorf("import %s: %w", im.Name, err)
	}
	var batch []store.Indicator
	var revoked []intel.Indicator
	for _, x := range up.Indicators {
		if x.Revoked {
			revoked = append(revoked, x)
			continue
		}
		in := store.FromIntel(x)
		in.Org, in.Scope, in.Source = owner, scope, source
		in.LastSeen = up.Fetched
		if in.FirstSeen.IsZero() || in.FirstSeen.After(up.Fetched) {
			in.FirstSeen = up.Fetched
		}
		if in.Confidence == 0 {
			in.Confidence = 50
		}
		batch = append(batch, in)
	}
	n, skipped, err := e.st.UpsertIndicators(ctx, batch)
	if err != nil && n+skipped < len(batch) {
		return false, fmt.Errorf("import %s: %w", im.Name, err)
	}
	if err != nil {
		e.log.Warn("import: indicators left out", "import", im.Name, "skipped", skipped, "first", err.Error())
	}
	withdrawn := int64(0)
	for _, x := range revoked {
		got, err := e.st.Indicators(ctx, store.IndicatorFilter{Org: owner, Types: []string{string(x.Type)}, Values: []string{x.Value}})
		if err != nil {
			return false, err
		}
		for _, in := range got {
			if in.Org == owner && in.Source == source {
				if err := e.st.RemoveIndicator(ctx, owner, in.ID); err == nil {
					withdrawn++
				}
			}
		}
	}
	if up.Snapshot && !up.Unchanged {
		k, err := e.st.RevokeStale(ctx, owner, source, up.Fetched)
		if err != nil {
			return false, err
		}
		withdrawn += k
	}
	b, err := json.Marshal(next)
	if err != nil {
		return false, fmt.Errorf("import %s: encoding its state: %w", im.Name, err)
	}
	if err := e.st.SaveCursor(ctx, key, b); err != nil {
		return false, err
	}
	e.stats.add(&e.stats.Imported, int64(n))
	e.log.Info("import read", "import", im.Name, "unchanged", up.Unchanged, "snapshot", up.Snapshot, "recorded", n,
		"withdrawn", withdrawn, "skipped", up.Skipped+skipped, "requests", up.Requests, "bytes", up.Bytes)
	return up.More, nil
}
