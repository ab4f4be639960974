package imports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ward-health/ward/internal/intel"
)

// Bounds on STIX and TAXII JSON.
const (
	maxJSONDepth      = 64
	maxObjects        = 1_000_000 // objects of one bundle or page
	maxContextObjects = 10_000    // marking definitions and identities carried between TAXII pages
	maxContextBytes   = 4 << 20
)

// parseBundle reads the objects of a STIX 2.1 bundle, bounded in nesting
// and count.
func parseBundle(body []byte) ([]json.RawMessage, error) {
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return nil, fmt.Errorf("reading STIX bundle: %w", err)
	}
	var b struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("%w: reading STIX bundle: not a JSON object: %v", ErrProtocol, err)
	}
	if b.Type != "bundle" {
		return nil, fmt.Errorf("%w: reading STIX bundle: type is %q, want \"bundle\": check format (a TAXII collection is format taxii)", ErrProtocol, clipText(b.Type, 40))
	}
	if len(b.Objects) > maxObjects {
		return nil, fmt.Errorf("%w: STIX bundle has %d objects, limit %d", ErrTooBig, len(b.Objects), maxObjects)
	}
	return b.Objects, nil
}

// stixHead is what stixReader looks at in each object.
type stixHead struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Revoked bool   `json:"revoked"`
}

// stixReader turns STIX objects into indicators with intel.ReadSTIXBundle,
// so that the rules are intel's. Two things are added: revoked indicators
// come back with Revoked set (intel skips them), and marking definitions
// and identities are carried from one TAXII page to the next, so that an
// indicator on page 3 still finds its TLP and brand defined on page 1.
// Relationships are only seen within their page.
type stixReader struct {
	context      []contextObject
	contextBytes int
	contextIDs   map[string]bool
}

// contextObject is a marking definition or identity kept for later pages.
type contextObject struct {
	id  string
	raw json.RawMessage
}

// read reads one bundle's or page's objects into u.
func (s *stixReader) read(objs []json.RawMessage, src Source, u *Update) error {
	if s.contextIDs == nil {
		s.contextIDs = map[string]bool{}
	}
	var main, revoked, pageContext []json.RawMessage
	pageIDs := map[string]bool{}
	for i, raw := range objs {
		var h stixHead
		if err := json.Unmarshal(raw, &h); err != nil {
			u.skip(fmt.Sprintf("object %d", i), "not a STIX object: "+clipText(err.Error(), 200))
			continue
		}
		switch h.Type {
		case "marking-definition", "identity":
			pageIDs[h.ID] = true
			pageContext = append(pageContext, raw)
			if !s.contextIDs[h.ID] && len(s.context) < maxContextObjects && s.contextBytes+len(raw) <= maxContextBytes {
				s.contextIDs[h.ID] = true
				s.context = append(s.context, contextObject{h.ID, raw})
				s.contextBytes += len(raw)
			}
		case "relationship":
			pageContext = append(pageContext, raw)
		case "indicator":
			if h.Revoked {
				if fixed, err := unrevoke(raw); err == nil {
					revoked = append(revoked, fixed)
					continue
				}
			}
		}
		main = append(main, raw)
	}
	// Carried objects that this page does not repeat.
	var carried []json.RawMessage
	for _, c := range s.context {
		if !pageIDs[c.id] {
			carried = append(carried, c.raw)
		}
	}
	res, err := readObjects(append(slices.Clip(carried), main...))
	if err != nil {
		return err
	}
	if err := u.addResult(src, res, false); err != nil {
		return err
	}
	if len(revoked) == 0 {
		return nil
	}
	// The revoked indicators, with the markings, identities and
	// relationships that give them their TLP and brand.
	res, err = readObjects(slices.Concat(carried, pageContext, revoked))
	if err != nil {
		return err
	}
	return u.addResult(src, res, true)
}

// unrevoke returns an indicator object without its "revoked" property, so
// that intel reads its value; the caller marks the result revoked.
func unrevoke(raw json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	delete(m, "revoked")
	return json.Marshal(m)
}

// readObjects wraps objects in a bundle for intel.ReadSTIXBundle.
func readObjects(objs []json.RawMessage) (intel.Result, error) {
	size := 128
	for _, o := range objs {
		size += len(o) + 1
	}
	if size > intel.MaxDocumentSize {
		return intel.Result{}, fmt.Errorf("%w: %d bytes of STIX objects in one page or bundle, limit %d: lower page_size", ErrTooBig, size, intel.MaxDocumentSize)
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[`)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString("]}")
	return intel.ReadSTIXBundle(&b)
}

// checkDepth fails with this package's ErrTooBig when JSON nests arrays
// and objects deeper than max (see intel.CheckJSONDepth).
func checkDepth(b []byte, max int) error {
	if intel.CheckJSONDepth(b, max) != nil {
		return fmt.Errorf("%w: JSON nested deeper than %d", ErrTooBig, max)
	}
	return nil
}
