// Package feeds turns the indicators in ward's store into what resolvers,
// threat-intelligence platforms and SIEMs read: a DNS response policy
// zone, a STIX 2.1 bundle, a MISP feed, CSV and hosts files. The same
// Exporter serves `ward feed export` and the live endpoints of ward serve,
// so a file and a download of the same moment are the same.
//
// What an organisation's feeds carry: its own indicators and every shared
// one, standing (not revoked, not expired), no narrower than the export
// TLP, not on the warninglist, and, of imported indicators, only those
// whose import may be reshared.
package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
)

// Formats are the export formats, as `ward feed export -format` names them.
var Formats = []string{"rpz", "stix", "misp", "csv", "hosts"}

// Store is what an Exporter reads and writes.
type Store interface {
	Indicators(ctx context.Context, f store.IndicatorFilter) ([]store.Indicator, error)
	Cursor(ctx context.Context, source string) ([]byte, error)
	SaveCursor(ctx context.Context, source string, pos []byte) error
	IndicatorsVersion(ctx context.Context, org string) (latest time.Time, count int64, err error)
}

var _ Store = (*store.Store)(nil)

// Options configures an Exporter.
type Options struct {
	// Warninglist holds names never exported; nil: the built-in list only.
	Warninglist *intel.Warninglist
	// ExportTLP is the narrowest TLP exported; zero: amber. Red is never
	// exported.
	ExportTLP string
	// Reshare reports whether indicators of an import (their source is
	// "import NAME") may go into ward's own feeds; nil: none may.
	Reshare func(source string) bool
	// RPZ holds the zone settings; its Origin is the parent of every
	// organisation's zone (ORG.ORIGIN) and Serial is ignored.
	RPZ intel.RPZOptions
	// Producer names ward's identity in STIX and MISP; zero: "ward".
	Producer string
	// History is how long revoked indicators stay in the STIX bundle, so
	// that consumers learn to stop blocking them; zero: 30 days.
	History time.Duration
	// MaxIndicators bounds what one export reads; zero: 1,000,000.
	MaxIndicators int
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Exporter writes an organisation's feeds. It is safe for concurrent use.
type Exporter struct {
	st     Store
	o      Options
	zoneMu sync.Mutex // serialises zone serial updates
	mu     sync.Mutex // guards misp
	misp   map[string]mispEvents
}

// ErrTooMany is returned when an organisation sees more indicators than
// Options.MaxIndicators.
var ErrTooMany = errors.New("too many indicators")

// New returns an Exporter over st.
func New(st Store, o Options) *Exporter {
	if o.ExportTLP == "" || o.ExportTLP == intel.TLPRed {
		o.ExportTLP = intel.TLPAmber
	}
	if o.Reshare == nil {
		o.Reshare = func(string) bool { return false }
	}
	if o.Producer == "" {
		o.Producer = "ward"
	}
	if o.History == 0 {
		o.History = 30 * 24 * time.Hour
	}
	if o.MaxIndicators == 0 {
		o.MaxIndicators = 1_000_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Exporter{st: st, o: o, misp: map[string]mispEvents{}}
}

// ZoneName returns the name of org's response policy zone.
func (e *Exporter) ZoneName(org string) string {
	return org + "." + strings.TrimSuffix(e.o.RPZ.Origin, ".")
}

// list reads every indicator org sees, by ID; with revoked, those revoked
// within the history window too.
func (e *Exporter) list(ctx context.Context, org string, revoked bool, now time.Time) ([]intel.Indicator, error) {
	var out []intel.Indicator
	for in, err := range store.AllIndicators(ctx, e.st, store.IndicatorFilter{Org: org, Now: now, Revoked: revoked}) {
		if err != nil {
			return nil, err
		}
		if !in.RevokedAt.IsZero() && now.Sub(in.RevokedAt) > e.o.History {
			continue
		}
		if strings.HasPrefix(in.Source, intel.SourceImport) && !e.o.Reshare(in.Source) {
			continue
		}
		if len(out) >= e.o.MaxIndicators {
			return nil, fmt.Errorf("%w: organisation %s sees more than %d: raise the limit or expire old ones", ErrTooMany, org, e.o.MaxIndicators)
		}
		out = append(out, in.Intel())
	}
	return out, nil
}

// Standing returns what org's blocking feeds carry now, sorted as
// intel.Select sorts.
func (e *Exporter) Standing(ctx context.Context, org string) ([]intel.Indicator, error) {
	now := e.o.Now()
	all, err := e.list(ctx, org, false, now)
	if err != nil {
		return nil, err
	}
	return intel.Select(intel.UpToTLP(all, e.o.ExportTLP), now, e.o.Warninglist), nil
}

// withRevoked returns the standing indicators and, after them, those
// revoked within the history window (whatever the warninglist says: a
// consumer must learn that a mistaken block is withdrawn).
func (e *Exporter) withRevoked(ctx context.Context, org string) ([]intel.Indicator, error) {
	now := e.o.Now()
	all, err := e.list(ctx, org, true, now)
	if err != nil {
		return nil, err
	}
	all = intel.UpToTLP(all, e.o.ExportTLP)
	var revoked []intel.Indicator
	for _, in := range all {
		if in.Revoked && intel.Validate(in) == nil {
			revoked = append(revoked, in)
		}
	}
	return append(intel.Select(all, now, e.o.Warninglist), revoked...), nil
}

// Write writes org's feed in format rpz, stix, csv or hosts (misp is a
// directory: see WriteMISPDir and MISP).
func (e *Exporter) Write(ctx context.Context, w io.Writer, org, format string) error {
	switch format {
	case "rpz":
		z, err := e.Zone(ctx, org)
		if err != nil {
			return err
		}
		_, err = w.Write(z.Text)
		return err
	case "stix":
		inds, err := e.withRevoked(ctx, org)
		if err != nil {
			return err
		}
		return intel.WriteSTIX(w, inds, intel.STIXOptions{Producer: e.o.Producer, Now: e.o.Now()})
	case "csv":
		inds, err := e.Standing(ctx, org)
		if err != nil {
			return err
		}
		return intel.WriteCSV(w, inds, intel.CSVOptions{})
	case "hosts":
		inds, err := e.Standing(ctx, org)
		if err != nil {
			return err
		}
		return intel.WriteHosts(w, inds, intel.HostsOptions{Warninglist: e.o.Warninglist,
			Title: "ward blocklist for " + org + ", " + e.o.Now().UTC().Format(time.RFC3339)})
	case "misp":
		return fmt.Errorf("format misp is a directory: write it with WriteMISPDir")
	}
	return fmt.Errorf("format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// mispReuse is how long MISP events are served again while the
// organisation's indicators have not changed: a MISP pull fetches the
// manifest and then each event, and must not rebuild the feed each time.
const mispReuse = time.Minute

// mispEvents are an organisation's MISP events and the indicators'
// version they were built from.
type mispEvents struct {
	latest time.Time
	count  int64
	built  time.Time
	events []intel.MISPEvent
}

// MISP returns org's indicators as MISP events.
func (e *Exporter) MISP(ctx context.Context, org string) ([]intel.MISPEvent, error) {
	latest, count, err := e.st.IndicatorsVersion(ctx, org)
	if err != nil {
		return nil, err
	}
	now := e.o.Now()
	e.mu.Lock()
	c, ok := e.misp[org]
	e.mu.Unlock()
	if ok && c.latest.Equal(latest) && c.count == count && now.Sub(c.built) < mispReuse {
		return c.events, nil
	}
	inds, err := e.Standing(ctx, org)
	if err != nil {
		return nil, err
	}
	evs := intel.MISPEvents(inds, intel.MISPOptions{Org: intel.MISPOrg{Name: e.o.Producer + " for " + org}})
	e.mu.Lock()
	e.misp[org] = mispEvents{latest: latest, count: count, built: now, events: evs}
	e.mu.Unlock()
	return evs, nil
}

// WriteMISPDir writes org's MISP feed directory.
func (e *Exporter) WriteMISPDir(ctx context.Context, dir, org string) error {
	evs, err := e.MISP(ctx, org)
	if err != nil {
		return err
	}
	return intel.WriteMISPFeed(dir, evs)
}

// Zone is a response policy zone as written.
type Zone struct {
	Origin string
	Serial uint32
	// Count is the number of indicators in it.
	Count int
	Text  []byte
}

// zoneState is what is kept between exports to make serials increase.
type zoneState struct {
	Serial uint32 `json:"serial"`
	Hash   string `json:"hash"`
}

// Zone writes org's response policy zone. The serial increases whenever
// the content changes, across restarts and between `ward feed export` and
// ward serve, which share the stored state.
func (e *Exporter) Zone(ctx context.Context, org string) (Zone, error) {
	inds, err := e.Standing(ctx, org)
	if err != nil {
		return Zone{}, err
	}
	opts := e.o.RPZ
	opts.Origin = e.ZoneName(org)
	opts.Warninglist = e.o.Warninglist
	hash, err := intel.RPZHash(inds, opts)
	if err != nil {
		return Zone{}, err
	}
	e.zoneMu.Lock()
	defer e.zoneMu.Unlock()
	key := "feed rpz " + org
	var st zoneState
	if b, err := e.st.Cursor(ctx, key); err != nil {
		return Zone{}, err
	} else if len(b) > 0 {
		if err := json.Unmarshal(b, &st); err != nil {
			st = zoneState{} // a damaged state only costs a serial jump
		}
	}
	serial := intel.Serial(st.Serial, st.Hash, hash, e.o.Now())
	if serial != st.Serial || hash != st.Hash {
		b, _ := json.Marshal(zoneState{Serial: serial, Hash: hash})
		if err := e.st.SaveCursor(ctx, key, b); err != nil {
			return Zone{}, err
		}
	}
	opts.Serial = serial
	var b strings.Builder
	if err := intel.WriteRPZ(&b, inds, opts); err != nil {
		return Zone{}, err
	}
	return Zone{Origin: opts.Origin, Serial: serial, Count: len(inds), Text: []byte(b.String())}, nil
}
