package imports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ward-health/ward/internal/intel"
)

// manifest is a parsed MISP manifest.json: event UUID -> timestamp.
type manifest struct {
	events map[string]string
	// bad lists manifest keys that are not UUIDs (never fetched).
	bad []string
}

// parseManifest reads a MISP feed's manifest.json: a JSON object whose keys
// are event UUIDs and whose values carry a "timestamp" (a string or a
// number). Keys that are not UUIDs are listed in bad and never used as file
// names; an entry without a readable timestamp gets "" (read every time).
func parseManifest(body []byte) (manifest, error) {
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return manifest{}, fmt.Errorf("reading MISP manifest: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return manifest{}, fmt.Errorf("%w: reading MISP manifest: not a JSON object of events: %v: check that url is the feed directory (the one holding manifest.json)", ErrProtocol, clipText(err.Error(), 200))
	}
	if len(raw) > MaxEvents {
		return manifest{}, fmt.Errorf("%w: MISP manifest lists %d events, limit %d: ask the publisher for a smaller feed", ErrTooBig, len(raw), MaxEvents)
	}
	m := manifest{events: make(map[string]string, len(raw))}
	for k, v := range raw {
		if !isUUID(k) {
			if len(m.bad) < MaxSkipExamples {
				m.bad = append(m.bad, clipText(k, 60))
			}
			continue
		}
		var e struct {
			Timestamp json.RawMessage `json:"timestamp"`
		}
		ts := ""
		if json.Unmarshal(v, &e) == nil {
			ts = strings.Trim(string(e.Timestamp), `"`)
			if len(ts) > 20 || strings.Trim(ts, "0123456789") != "" {
				ts = ""
			}
		}
		m.events[k] = ts
	}
	slices.Sort(m.bad)
	return m, nil
}

// isUUID reports whether s is a UUID in its 8-4-4-4-12 hex text form, the
// only manifest keys used as file names.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// mispDir reads a local MISP feed directory whole, with intel.ReadMISPFeed.
func (r *run) mispDir(dir string, st State) (State, error) {
	body, err := r.readFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return st, err
	}
	m, err := parseManifest(body)
	if err != nil {
		return st, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	if hash == st.ContentHash {
		r.up.Unchanged = true
		return st, nil
	}
	res, err := intel.ReadMISPFeed(os.DirFS(dir))
	if err != nil {
		return st, err
	}
	r.up.Snapshot = true
	if err := r.up.addResult(r.src, res, false); err != nil {
		return st, err
	}
	st.ContentHash, st.Events = hash, m.events
	return st, nil
}

// mispHTTP reads a MISP feed over HTTP: manifest.json, then the events it
// lists. With a State from an earlier Fetch it reads only events that are
// new since; when an event it read before changed or left the manifest it
// reads the feed whole, so that the caller can withdraw what is gone.
func (r *run) mispHTTP(ctx context.Context, u *url.URL, st State) (State, error) {
	base := *u
	base.Path = strings.TrimSuffix(base.Path, "manifest.json")
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	base.RawPath = ""
	murl := base.JoinPath("manifest.json")
	cond := getOptions{accept: "application/json"}
	if st.Events != nil {
		cond.etag, cond.lastModified = st.ETag, st.LastModified
	}
	resp, err := r.get(ctx, murl, cond)
	if err != nil {
		return st, err
	}
	if resp.notModified {
		r.up.Unchanged = true
		return st, nil
	}
	sum := sha256.Sum256(resp.body)
	hash := hex.EncodeToString(sum[:])
	if st.Events != nil && hash == st.ContentHash {
		r.up.Unchanged = true
		return st, nil
	}
	m, err := parseManifest(resp.body)
	if err != nil {
		return st, err
	}
	for _, k := range m.bad {
		r.up.skip(k, "manifest key is not an event UUID")
	}

	// What changed since the State.
	var fresh []string
	full := st.Events == nil
	for id, ts := range m.events {
		old, known := st.Events[id]
		switch {
		case !known:
			fresh = append(fresh, id)
		case old != ts || ts == "":
			full = true
		}
	}
	for id := range st.Events {
		if _, ok := m.events[id]; !ok {
			full = true
		}
	}
	ids := fresh
	if full {
		ids = ids[:0:0]
		for id := range m.events {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	r.f.logger().Debug("misp manifest read", "import", r.src.Name, "events", len(m.events), "new", len(fresh), "full", full)

	for _, id := range ids {
		body, err := r.mispEvent(ctx, &base, id)
		if errors.Is(err, ErrNotFound) {
			r.up.skip(id, "event file not found: "+clipText(err.Error(), 200))
			continue
		}
		if err != nil {
			return st, err
		}
		res, err := intel.ReadMISPEvent(bytes.NewReader(body))
		if err != nil {
			r.up.skip(id, clipText(err.Error(), 300))
			continue
		}
		if err := r.up.addResult(r.src, res, false); err != nil {
			return st, err
		}
	}
	r.up.Snapshot = full
	r.up.Unchanged = !full && len(ids) == 0
	st.Events = m.events
	st.ETag, st.LastModified, st.ContentHash = resp.etag, resp.lastModified, hash
	return st, nil
}

// mispEvent fetches one event file.
func (r *run) mispEvent(ctx context.Context, base *url.URL, id string) ([]byte, error) {
	resp, err := r.get(ctx, base.JoinPath(id+".json"), getOptions{accept: "application/json"})
	if err != nil {
		return nil, fmt.Errorf("MISP event %s: %w", id, err)
	}
	return resp.body, nil
}

// skip counts an item left out and keeps the first examples.
func (u *Update) skip(item, reason string) {
	u.Skipped++
	if len(u.SkipExamples) < MaxSkipExamples {
		u.SkipExamples = append(u.SkipExamples, intel.Skip{Item: item, Reason: reason})
	}
}
