package intel

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/atomicfile"
)

// MISPOrg is a MISP organisation.
type MISPOrg struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// MISPTag is a MISP tag ("tlp:green").
type MISPTag struct {
	Name       string `json:"name"`
	Colour     string `json:"colour,omitempty"`
	Exportable bool   `json:"exportable"`
}

// MISPAttribute is one attribute of a MISP event.
type MISPAttribute struct {
	UUID      string `json:"uuid"`
	Type      string `json:"type"`
	Category  string `json:"category"`
	Value     string `json:"value"`
	ToIDs     bool   `json:"to_ids"`
	Timestamp Unix   `json:"timestamp"`
	Comment   string `json:"comment"`
	// FirstSeen and LastSeen are RFC 3339 times, "" when unknown.
	FirstSeen string    `json:"first_seen,omitempty"`
	LastSeen  string    `json:"last_seen,omitempty"`
	Tags      []MISPTag `json:"Tag,omitempty"`
}

// MISPEvent is a MISP event in feed format.
type MISPEvent struct {
	UUID             string          `json:"uuid"`
	Info             string          `json:"info"`
	Date             string          `json:"date"` // YYYY-MM-DD
	ThreatLevelID    Unix            `json:"threat_level_id"`
	Analysis         Unix            `json:"analysis"`
	Timestamp        Unix            `json:"timestamp"`
	PublishTimestamp Unix            `json:"publish_timestamp"`
	Published        bool            `json:"published"`
	Orgc             MISPOrg         `json:"Orgc"`
	Tags             []MISPTag       `json:"Tag,omitempty"`
	Attributes       []MISPAttribute `json:"Attribute"`
}

// Unix is an integer (a Unix time, a level) that MISP writes as a JSON
// string ("1472541011") and some tools as a number; it reads both and
// writes a string, as MISP's own feeds do.
type Unix int64

// MarshalJSON writes the number as a JSON string.
func (u Unix) MarshalJSON() ([]byte, error) {
	return []byte(`"` + strconv.FormatInt(int64(u), 10) + `"`), nil
}

// UnmarshalJSON reads a number or a string holding one; null is 0.
func (u *Unix) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		*u = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", clip(string(b), 40))
	}
	*u = Unix(n)
	return nil
}

// MISPOptions configures MISPEvents.
type MISPOptions struct {
	// Org is the creating organisation named in every event; zero: "ward"
	// with a UUID derived from the name.
	Org MISPOrg
	// ThreatLevel is the events' threat_level_id: 1 high, 2 medium, 3 low,
	// 4 undefined; zero: 2.
	ThreatLevel int
}

// mispTypes maps indicator types to MISP attribute types and categories.
var mispTypes = map[Type][2]string{
	TypeDomain:   {"domain", "Network activity"},
	TypeURL:      {"url", "Network activity"},
	TypeIP:       {"ip-dst", "Network activity"},
	TypeEmail:    {"email-src", "Payload delivery"},
	TypeSHA256:   {"sha256", "Payload delivery"},
	TypeSHA1:     {"sha1", "Payload delivery"},
	TypeMD5:      {"md5", "Payload delivery"},
	TypeFilename: {"filename", "Payload delivery"},
}

// MISPEvents groups indicators into MISP events: one event per brand, TLP
// and day of first sight (UTC), so that an event reads as "look-alikes of
// RIVM first seen on 2020-03-12" and carries one TLP tag; indicators
// without a brand share an event per day and TLP. Event and attribute UUIDs
// derive from those keys, the creating organisation and the values, so a
// re-export keeps them and two feeds' events never share a UUID. Every
// attribute has to_ids true (they are for blocking); an indicator without
// TLP is tagged amber. Events and attributes come out sorted.
func MISPEvents(inds []Indicator, opts MISPOptions) []MISPEvent {
	org := opts.Org
	if org.Name == "" {
		org.Name = "ward"
	}
	if _, err := parseUUID(org.UUID); err != nil {
		org.UUID = newUUID5(wardNamespace, "misp-org|"+org.Name).String()
	}
	level := opts.ThreatLevel
	if level < 1 || level > 4 {
		level = 2
	}
	sorted := slices.Clone(inds)
	sortIndicators(sorted)
	events := map[string]*MISPEvent{}
	seen := map[string]bool{}
	for _, in := range sorted {
		if Validate(in) != nil {
			continue
		}
		tlp := in.TLP
		if tlp == "" {
			tlp = TLPAmber
		}
		day := "1970-01-01"
		if !in.FirstSeen.IsZero() {
			day = in.FirstSeen.UTC().Format(time.DateOnly)
		}
		key := org.UUID + "|" + in.Brand + "|" + tlp + "|" + day
		ev, ok := events[key]
		if !ok {
			info := "ward: indicators first seen on " + day
			if in.Brand != "" {
				info = "ward: look-alikes and phishing of " + in.Brand + " first seen on " + day
			}
			ev = &MISPEvent{UUID: newUUID5(wardNamespace, "misp-event|"+key).String(), Info: info, Date: day,
				ThreatLevelID: Unix(level), Analysis: 2, Published: true, Orgc: org,
				Tags: []MISPTag{{Name: "tlp:" + tlp, Exportable: true}}}
			if in.Brand != "" {
				ev.Tags = append(ev.Tags, MISPTag{Name: `ward:brand="` + strings.ReplaceAll(in.Brand, `"`, `'`) + `"`, Exportable: true})
			}
			events[key] = ev
		}
		mt := mispTypes[in.Type]
		if seen[ev.UUID+"|"+mt[0]+"|"+in.Value] {
			continue
		}
		seen[ev.UUID+"|"+mt[0]+"|"+in.Value] = true
		ts := in.LastSeen
		if ts.IsZero() {
			ts = in.FirstSeen
		}
		a := MISPAttribute{UUID: newUUID5(wardNamespace, "misp-attribute|"+ev.UUID+"|"+mt[0]+"|"+in.Value).String(),
			Type: mt[0], Category: mt[1], Value: in.Value, ToIDs: true, Timestamp: Unix(ts.Unix()), Comment: in.Description}
		if ts.IsZero() {
			a.Timestamp = 0
		}
		if !in.FirstSeen.IsZero() {
			a.FirstSeen = in.FirstSeen.UTC().Format(time.RFC3339)
		}
		if !in.LastSeen.IsZero() {
			a.LastSeen = in.LastSeen.UTC().Format(time.RFC3339)
		}
		ev.Attributes = append(ev.Attributes, a)
		ev.Timestamp = max(ev.Timestamp, a.Timestamp)
		ev.PublishTimestamp = ev.Timestamp
	}
	out := make([]MISPEvent, 0, len(events))
	for _, ev := range events {
		out = append(out, *ev)
	}
	slices.SortFunc(out, func(a, b MISPEvent) int { return strings.Compare(a.UUID, b.UUID) })
	return out
}

// mispManifestEntry is one event's entry in manifest.json.
type mispManifestEntry struct {
	Info          string    `json:"info"`
	Date          string    `json:"date"`
	ThreatLevelID Unix      `json:"threat_level_id"`
	Analysis      Unix      `json:"analysis"`
	Timestamp     Unix      `json:"timestamp"`
	Orgc          MISPOrg   `json:"Orgc"`
	Tags          []MISPTag `json:"Tag"`
}

// WriteMISPFeed writes a MISP feed directory, as MISP reads it when a feed
// of format "MISP Feed" is added: manifest.json (event UUID → info, date,
// threat level, analysis, timestamp, Orgc and tags), one <uuid>.json per
// event ({"Event": {...}}) and hashes.csv (the MD5 of each attribute value
// and its event UUID, one pair a line). Files are written to temporary
// names and renamed, so a consumer never reads half a file; the manifest
// comes last. Event files of earlier exports are not removed: consumers
// follow the manifest. Event UUIDs must be UUIDs (they become file names).
func WriteMISPFeed(dir string, events []MISPEvent) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("misp feed: %w", err)
	}
	manifest, hashes, err := MISPIndex(events)
	if err != nil {
		return err
	}
	for _, ev := range events {
		var b bytes.Buffer
		if err := WriteMISPEvent(&b, ev); err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, ev.UUID+".json"), 0o644, b.Bytes()); err != nil {
			return fmt.Errorf("misp feed: %w", err)
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "hashes.csv"), 0o644, hashes); err != nil {
		return fmt.Errorf("misp feed: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "manifest.json"), 0o644, manifest); err != nil {
		return fmt.Errorf("misp feed: %w", err)
	}
	return nil
}

// MISPIndex returns a MISP feed's manifest.json and hashes.csv for events,
// as WriteMISPFeed writes them (a server serving the feed live uses it).
// Event UUIDs must be distinct lower-case UUIDs: they name the event
// files.
func MISPIndex(events []MISPEvent) (manifest, hashes []byte, err error) {
	entries := map[string]mispManifestEntry{}
	var hb bytes.Buffer
	for _, ev := range events {
		if _, err := parseUUID(ev.UUID); err != nil || strings.ToLower(ev.UUID) != ev.UUID {
			return nil, nil, fmt.Errorf("misp feed: event uuid %q is not a lower-case UUID", clip(ev.UUID, 60))
		}
		if _, dup := entries[ev.UUID]; dup {
			return nil, nil, fmt.Errorf("misp feed: event uuid %s appears twice", ev.UUID)
		}
		tags := ev.Tags
		if tags == nil {
			tags = []MISPTag{}
		}
		entries[ev.UUID] = mispManifestEntry{Info: ev.Info, Date: ev.Date, ThreatLevelID: ev.ThreatLevelID,
			Analysis: ev.Analysis, Timestamp: ev.Timestamp, Orgc: ev.Orgc, Tags: tags}
		for _, a := range ev.Attributes {
			for part := range strings.SplitSeq(a.Value, "|") { // composite types hash each part
				sum := md5.Sum([]byte(part))
				fmt.Fprintf(&hb, "%s,%s\n", hex.EncodeToString(sum[:]), ev.UUID)
			}
		}
	}
	m, err := json.MarshalIndent(entries, "", "  ") // maps encode with sorted keys
	if err != nil {
		return nil, nil, fmt.Errorf("misp feed: encoding the manifest: %w", err)
	}
	return append(m, '\n'), hb.Bytes(), nil
}

// WriteMISPEvent writes one event as {"Event": {...}}.
func WriteMISPEvent(w io.Writer, ev MISPEvent) error {
	if ev.Attributes == nil {
		ev.Attributes = []MISPAttribute{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		Event MISPEvent `json:"Event"`
	}{ev}); err != nil {
		return fmt.Errorf("misp event %s: %w", ev.UUID, err)
	}
	return nil
}

// Bounds on MISP input.
const (
	maxMISPEvents     = 100_000
	maxMISPAttributes = 1_000_000 // per event
)

// ReadMISPFeed reads the indicators of a MISP feed directory: manifest.json
// and the event file of each manifest entry. Entries whose key is not a
// UUID (which could name a file outside the feed) and events that cannot
// be read are skipped with a reason; see ReadMISPEvent for attributes.
func ReadMISPFeed(fsys fs.FS) (Result, error) {
	var res Result
	f, err := fsys.Open("manifest.json")
	if err != nil {
		return res, fmt.Errorf("reading MISP feed: %w (a MISP feed has a manifest.json)", err)
	}
	data, err := readAllLimited(f, "MISP manifest")
	f.Close()
	if err != nil {
		return res, err
	}
	if err := CheckJSONDepth(data, maxJSONDepth); err != nil {
		return res, fmt.Errorf("reading MISP manifest: %w", err)
	}
	var manifest map[string]json.RawMessage
	if err := json.Unmarshal(data, &manifest); err != nil {
		return res, fmt.Errorf("reading MISP manifest: not a JSON object of events: %w", err)
	}
	if len(manifest) > maxMISPEvents {
		return res, fmt.Errorf("%w: MISP manifest lists %d events, limit %d", ErrTooBig, len(manifest), maxMISPEvents)
	}
	ids := make([]string, 0, len(manifest))
	for id := range manifest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if _, err := parseUUID(id); err != nil {
			res.skip(clip(id, 60), "manifest key is not an event UUID")
			continue
		}
		ef, err := fsys.Open(id + ".json")
		if err != nil {
			res.skip(id, "event file: "+err.Error())
			continue
		}
		er, err := ReadMISPEvent(ef)
		ef.Close()
		if err != nil {
			res.skip(id, err.Error())
			continue
		}
		res.SkippedCount += er.SkippedCount
		for _, s := range er.Skipped {
			if len(res.Skipped) < MaxSkips {
				res.Skipped = append(res.Skipped, s)
			}
		}
		for _, in := range er.Indicators {
			if err := res.add(in); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// ReadMISPEvent reads the indicators of one MISP event ({"Event": {...}} or
// the bare event object). Attributes of types domain, hostname, url,
// ip-dst, ip-src, email-src, email-dst, email, sha256, sha1, md5, filename,
// and the composites domain|ip, ip-dst|port, ip-src|port and filename|hash,
// become indicators; attributes with to_ids false, deleted ones and other
// types are skipped with a reason. TLP comes from the attribute's or the
// event's tlp: tag (the narrowest wins), the brand from a ward:brand tag,
// FirstSeen and LastSeen from first_seen, last_seen or the timestamp.
func ReadMISPEvent(r io.Reader) (Result, error) {
	var res Result
	data, err := readAllLimited(r, "MISP event")
	if err != nil {
		return res, err
	}
	if err := CheckJSONDepth(data, maxJSONDepth); err != nil {
		return res, fmt.Errorf("reading MISP event: %w", err)
	}
	var wrap struct {
		Event *mispEventIn `json:"Event"`
	}
	if err := json.Unmarshal(data, &wrap); err != nil {
		return res, fmt.Errorf("reading MISP event: not a MISP event in JSON: %w", err)
	}
	ev := wrap.Event
	if ev == nil {
		ev = new(mispEventIn)
		if err := json.Unmarshal(data, ev); err != nil {
			return res, fmt.Errorf("reading MISP event: not a MISP event in JSON: %w", err)
		}
	}
	if len(ev.Attributes) > maxMISPAttributes {
		return res, fmt.Errorf("%w: MISP event has %d attributes, limit %d", ErrTooBig, len(ev.Attributes), maxMISPAttributes)
	}
	evTLP, brand := mispTags(ev.Tags)
	attrs := ev.Attributes
	for _, o := range ev.Objects { // attributes grouped in MISP objects count too
		if len(attrs) >= maxMISPAttributes {
			break
		}
		attrs = append(attrs, o.Attributes...)
	}
	for _, a := range attrs {
		item := clip(a.UUID, 40)
		if item == "" {
			item = a.Type + " attribute"
		}
		if a.Deleted {
			res.skip(item, "deleted")
			continue
		}
		if !a.ToIDs {
			res.skip(item, "to_ids is false: not meant for detection")
			continue
		}
		types, values, ok := mispAttributeIndicators(a.Type, a.Value)
		if !ok {
			res.skip(item, fmt.Sprintf("attribute type %q is not imported", clip(a.Type, 40)))
			continue
		}
		tlp, _ := mispTags(a.Tags)
		if tlp == "" || evTLP != "" && tlpRank(evTLP) > tlpRank(tlp) {
			tlp = evTLP // the narrower of the two
		}
		for i, t := range types {
			in, err := Parse(t, values[i])
			if err != nil {
				res.skip(item, err.Error())
				continue
			}
			in.Source, in.TLP, in.Brand = SourceImport, tlp, clip(brand, MaxTextLen-4)
			in.Description = clip(a.Comment, MaxDescriptionLen-4)
			in.FirstSeen = parseSTIXTime(a.FirstSeen)
			in.LastSeen = parseSTIXTime(a.LastSeen)
			if a.Timestamp > 0 && a.Timestamp < 1<<40 {
				ts := time.Unix(int64(a.Timestamp), 0).UTC()
				if in.FirstSeen.IsZero() {
					in.FirstSeen = ts
				}
				if in.LastSeen.IsZero() {
					in.LastSeen = ts
				}
			}
			if err := res.add(in); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

type mispAttributeIn struct {
	UUID      string    `json:"uuid"`
	Type      string    `json:"type"`
	Value     string    `json:"value"`
	ToIDs     bool      `json:"to_ids"`
	Deleted   bool      `json:"deleted"`
	Timestamp Unix      `json:"timestamp"`
	Comment   string    `json:"comment"`
	FirstSeen string    `json:"first_seen"`
	LastSeen  string    `json:"last_seen"`
	Tags      []MISPTag `json:"Tag"`
}

type mispEventIn struct {
	Tags       []MISPTag         `json:"Tag"`
	Attributes []mispAttributeIn `json:"Attribute"`
	Objects    []struct {
		Attributes []mispAttributeIn `json:"Attribute"`
	} `json:"Object"`
}

// mispTags returns the narrowest TLP ("tlp:white" reads as clear) and the
// ward:brand value among tags.
func mispTags(tags []MISPTag) (tlp, brand string) {
	for _, t := range tags {
		name := strings.ToLower(strings.TrimSpace(t.Name))
		if v, ok := strings.CutPrefix(name, "tlp:"); ok {
			if v == "white" {
				v = TLPClear
			}
			if tlpRank(v) < 4 || v == TLPRed {
				if tlp == "" || tlpRank(v) > tlpRank(tlp) {
					tlp = v
				}
			}
		}
		if v, ok := strings.CutPrefix(t.Name, "ward:brand="); ok {
			brand = strings.Trim(v, `"`)
		}
	}
	return tlp, brand
}

// mispAttributeIndicators maps a MISP attribute to indicator types and
// values.
func mispAttributeIndicators(typ, value string) ([]Type, []string, bool) {
	single := map[string]Type{"domain": TypeDomain, "hostname": TypeDomain, "url": TypeURL, "ip-dst": TypeIP,
		"ip-src": TypeIP, "email-src": TypeEmail, "email-dst": TypeEmail, "email": TypeEmail, "sha256": TypeSHA256,
		"sha1": TypeSHA1, "md5": TypeMD5, "filename": TypeFilename}
	if t, ok := single[typ]; ok {
		return []Type{t}, []string{value}, true
	}
	a, b, ok := strings.Cut(value, "|")
	if !ok {
		return nil, nil, false
	}
	switch typ {
	case "domain|ip":
		return []Type{TypeDomain, TypeIP}, []string{a, b}, true
	case "ip-dst|port", "ip-src|port":
		return []Type{TypeIP}, []string{a}, true
	case "filename|sha256":
		return []Type{TypeFilename, TypeSHA256}, []string{a, b}, true
	case "filename|sha1":
		return []Type{TypeFilename, TypeSHA1}, []string{a, b}, true
	case "filename|md5":
		return []Type{TypeFilename, TypeMD5}, []string{a, b}, true
	}
	return nil, nil, false
}
