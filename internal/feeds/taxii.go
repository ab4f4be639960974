package feeds

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
	"github.com/ward-health/ward/internal/taxii"
)

// taxiiSettle is how far behind the present a TAXII page stops, so that a
// write still committing with an earlier update time cannot slip in
// behind a page a client already read.
const taxiiSettle = 2 * time.Second

// taxiiScanPage is how many indicators one store query of a TAXII page
// reads.
const taxiiScanPage = 500

// maxTAXIIScan bounds the indicators one TAXII request reads (an id
// filter must read every indicator to find its objects).
const maxTAXIIScan = 2_000_000

// TAXIIBackend serves the exporter's indicators as TAXII 2.1
// collections: each organisation reads one collection, named after it,
// holding what its STIX bundle holds (standing indicators, and those
// revoked in the history window, marked revoked), each indicator with its
// observable and relationships, plus the producer identity, the TLP
// marking definitions and the brands' identities.
//
// An indicator's objects are added (date_added) when the indicator last
// changed, so a client paging with added_after sees each change once. The
// shared objects are added when the backend starts.
type TAXIIBackend struct {
	e     *Exporter
	orgs  []string
	start time.Time
}

// NewTAXIIBackend returns a backend with one collection per organisation.
func NewTAXIIBackend(e *Exporter, orgs []string) *TAXIIBackend {
	return &TAXIIBackend{e: e, orgs: orgs, start: e.o.Now().UTC().Truncate(time.Microsecond)}
}

// Collections implements taxii.Backend: the principal's own collection.
func (b *TAXIIBackend) Collections(_ context.Context, principal string) ([]taxii.Collection, error) {
	if !slices.Contains(b.orgs, principal) {
		return nil, nil
	}
	return []taxii.Collection{{ID: principal, Title: "ward indicators for " + principal,
		Description: "Look-alike domains, phishing URLs and malware hashes ward found or was given, as STIX 2.1 indicators with observables; withdrawn ones are revoked.",
		Alias:       "indicators"}}, nil
}

// exportable reports whether an indicator belongs in org's STIX objects.
func (e *Exporter) exportable(in store.Indicator, now time.Time) (intel.Indicator, bool) {
	x := in.Intel()
	if intel.Validate(x) != nil {
		return x, false
	}
	if strings.HasPrefix(in.Source, intel.SourceImport) && !e.o.Reshare(in.Source) {
		return x, false
	}
	if len(intel.UpToTLP([]intel.Indicator{x}, e.o.ExportTLP)) == 0 {
		return x, false
	}
	if x.Revoked {
		return x, now.Sub(in.RevokedAt) <= e.o.History
	}
	return x, !e.o.Warninglist.Contains(x)
}

func (e *Exporter) stixOptions() intel.STIXOptions {
	return intel.STIXOptions{Producer: e.o.Producer, Now: e.o.Now()}
}

func toTAXII(objs []intel.STIXObject, added time.Time) []taxii.Object {
	out := make([]taxii.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, taxii.Object{ID: o.ID, Type: o.Type, Version: o.Modified, Added: added, JSON: o.JSON})
	}
	return out
}

// Objects implements taxii.Backend. It reads indicators in update order
// from the position the query starts at, always finishing the group of
// indicators that share an update time, and serves their objects in
// (date_added, id, version) order.
func (b *TAXIIBackend) Objects(ctx context.Context, principal, collection string, q taxii.Query) ([]taxii.Object, bool, error) {
	if principal != collection || !slices.Contains(b.orgs, principal) {
		return nil, false, taxii.ErrNoCollection
	}
	now := b.e.o.Now()
	from := q.After.Added
	if q.AddedAfter.After(from) {
		from = q.AddedAfter
	}
	from = from.Truncate(time.Microsecond)
	f := store.IndicatorFilter{Org: principal, Revoked: true, ByUpdate: true, Limit: taxiiScanPage,
		UpdatedUntil: now.Add(-taxiiSettle)}
	if !from.IsZero() {
		// The group at "from" is read again when a page ended inside it;
		// Match drops what the client has seen.
		f.UpdatedAfter, f.AfterID = from.Add(-time.Microsecond), math.MaxInt64
	}
	var objs []taxii.Object
	keep := func(os []taxii.Object) {
		for _, o := range os {
			if q.Match(o, o.Version, o.Version) {
				objs = append(objs, o)
			}
		}
	}
	var last time.Time
	scanned := 0
scan:
	for {
		page, err := b.e.st.Indicators(ctx, f)
		if err != nil {
			return nil, false, err
		}
		for _, in := range page {
			if len(objs) > q.Limit && !in.UpdatedAt.Equal(last) {
				break scan
			}
			last = in.UpdatedAt
			x, ok := b.e.exportable(in, now)
			if !ok {
				continue
			}
			so, err := intel.STIXObjectsOf(x, b.e.stixOptions())
			if err != nil {
				continue // Validate passed: a writer's refusal leaves the indicator out, as WriteSTIX does
			}
			keep(toTAXII(so, in.UpdatedAt))
		}
		scanned += len(page)
		if len(page) < f.Limit {
			break
		}
		if scanned >= maxTAXIIScan {
			return nil, false, fmt.Errorf("taxii: more than %d indicators to read for one page: narrow the query", maxTAXIIScan)
		}
		f.UpdatedAfter, f.AfterID = page[len(page)-1].UpdatedAt, page[len(page)-1].ID
	}
	slices.SortFunc(objs, taxii.Compare)
	// The shared objects sit at the backend's start: add them when this
	// page reaches that far.
	if (b.start.After(from) || from.IsZero()) && (len(objs) <= q.Limit || !objs[q.Limit].Added.Before(b.start)) {
		shared, err := b.sharedObjects(ctx, principal)
		if err != nil {
			return nil, false, err
		}
		keep(toTAXII(shared, b.start))
		slices.SortFunc(objs, taxii.Compare)
	}
	objs = slices.CompactFunc(objs, func(a, b taxii.Object) bool { return taxii.Compare(a, b) == 0 })
	if len(objs) > q.Limit {
		return objs[:q.Limit], true, nil
	}
	return objs, false, nil
}

// sharedObjects returns the producer identity, the TLP marking
// definitions and the identities of every brand of the organisation's
// indicators' brands that its indicators may name.
func (b *TAXIIBackend) sharedObjects(ctx context.Context, org string) ([]intel.STIXObject, error) {
	var all []intel.Indicator
	seen := map[string]bool{}
	for in, err := range store.AllIndicators(ctx, b.e.st, store.IndicatorFilter{Org: org, Revoked: true}) {
		if err != nil {
			return nil, err
		}
		// One indicator per brand and TLP is enough to name them all.
		k := in.Brand + "|" + in.TLP
		if seen[k] {
			continue
		}
		if x, ok := b.e.exportable(in, b.e.o.Now()); ok {
			seen[k] = true
			all = append(all, x)
		}
	}
	objs, err := intel.STIXSharedObjects(all, b.e.stixOptions())
	if err != nil {
		return nil, errors.Join(errors.New("taxii: the shared STIX objects"), err)
	}
	return objs, nil
}
