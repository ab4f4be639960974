package taxii

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// ErrNoCollection is what a Backend returns (possibly wrapped) for a
// collection that does not exist or that the principal may not read. The
// server answers 404 in both cases, so that a tenant cannot learn that
// another tenant's collection exists.
var ErrNoCollection = errors.New("taxii: no such collection")

// Backend is what the server needs from a store of STIX objects. Both
// methods are called concurrently, once or twice per request.
type Backend interface {
	// Collections returns the collections the principal may read ("" is
	// the anonymous principal when the server has no Authenticate).
	Collections(ctx context.Context, principal string) ([]Collection, error)
	// Objects returns up to q.Limit objects of a collection the principal
	// may read, in Compare order after q's position (q.After) and matching
	// q (Query.Match says exactly which), and whether more objects match
	// after them ("false" is fine when exactly q.Limit were returned: the
	// server asks for one more than it serves to find out). An unknown or
	// unreadable collection is ErrNoCollection.
	//
	// A store pages in SQL with the order (date_added, id, version) and
	// the condition (date_added, id, version) > q.After; see Query.Match
	// for the filters.
	Objects(ctx context.Context, principal, collection string, q Query) ([]Object, bool, error)
}

// Collection describes one read-only TAXII collection.
type Collection struct {
	// ID identifies the collection in URLs: 1 to 128 letters, digits, '-',
	// '_', '.' or '~' (the specification's examples are UUIDs).
	ID string
	// Title is a short name for people; required.
	Title string
	// Description and Alias are optional.
	Description string
	Alias       string
	// MediaTypes lists the media types of the objects; zero:
	// "application/stix+json;version=2.1".
	MediaTypes []string
}

// Object is one version of a STIX object in a collection.
type Object struct {
	// ID is the STIX id, "indicator--<uuid>".
	ID string
	// Type is the STIX type, the part of ID before "--".
	Type string
	// Version is the object's "modified" (for objects without it, such as
	// marking definitions and observables, a fixed time such as
	// "created"); it is shown as a STIX timestamp and must be what the
	// JSON says.
	Version time.Time
	// Added is date_added: when this version entered the collection. The
	// server shows it, and compares it, with microsecond precision. A
	// store should give every version it adds a distinct, increasing
	// Added (a client that pages with added_after can only be exact
	// across objects whose date_added differ; see the package doc).
	Added time.Time
	// SpecVersion is the STIX version of the object; "" counts as "2.1".
	SpecVersion string
	// JSON is the object itself; nil when the Query said OmitJSON.
	JSON json.RawMessage
}

// specVersion returns o's spec version, "2.1" when unset.
func (o *Object) specVersion() string {
	if o.SpecVersion == "" {
		return "2.1"
	}
	return o.SpecVersion
}

// Cursor is a position in a collection: the (date_added, id, version) of
// the last object a client saw. The zero Cursor is before every object.
type Cursor struct {
	Added   time.Time
	ID      string
	Version time.Time
}

// IsZero reports whether c is the start of the collection.
func (c Cursor) IsZero() bool { return c.Added.IsZero() && c.ID == "" && c.Version.IsZero() }

// Position returns the cursor that stands on o.
func (o *Object) Position() Cursor {
	return Cursor{Added: o.Added.Truncate(time.Microsecond), ID: o.ID, Version: o.Version}
}

// CompareCursors orders positions: date_added (at microsecond precision),
// then id, then version.
func CompareCursors(a, b Cursor) int {
	return cmp.Or(a.Added.Truncate(time.Microsecond).Compare(b.Added.Truncate(time.Microsecond)),
		strings.Compare(a.ID, b.ID), a.Version.Compare(b.Version))
}

// Compare orders objects as collections serve them: by date_added (at
// microsecond precision), then id, then version. No two versions of an
// object share an id and a version, so the order is total.
func Compare(a, b Object) int { return CompareCursors(a.Position(), b.Position()) }

// Versions selects versions of each object. The zero value selects the
// last version only, the TAXII default.
type Versions struct {
	// First and Last select the earliest and the latest version.
	First, Last bool
	// All selects every version.
	All bool
	// At selects the versions with these exact times.
	At []time.Time
}

// last reports whether v selects the latest version.
func (v Versions) last() bool { return v.Last || !v.First && !v.All && len(v.At) == 0 }

// Query says which objects of a collection a request wants. Within a
// field, values are alternatives (OR); fields combine with AND; an empty
// field does not filter.
type Query struct {
	// After is the position the page starts after (from a next token).
	After Cursor
	// AddedAfter keeps objects added strictly after it (compared at
	// microsecond precision); zero: no bound.
	AddedAfter time.Time
	// IDs, Types and SpecVersions keep objects with one of these ids,
	// types and STIX versions.
	IDs          []string
	Types        []string
	SpecVersions []string
	// Versions keeps the selected versions of each object; first and last
	// are judged among all the versions of the object that the collection
	// holds, whatever the other filters.
	Versions Versions
	// Limit is the most objects to return; the server always sets it.
	Limit int
	// OmitJSON says that the caller needs no JSON (manifests, version
	// lists): a backend may leave Object.JSON nil.
	OmitJSON bool
}

// Match reports whether o belongs in the answer to q: after q.After,
// added after q.AddedAfter, one of the ids, types and spec versions asked
// for, and a selected version. first and last are the earliest and the
// latest Version among all the versions of o.ID in the collection (for a
// store that keeps one version per object, both are o.Version). A
// backend that filters in SQL must give the same answers.
func (q *Query) Match(o Object, first, last time.Time) bool {
	if !q.After.IsZero() && CompareCursors(o.Position(), q.After) <= 0 {
		return false
	}
	if !q.AddedAfter.IsZero() && !o.Added.Truncate(time.Microsecond).After(q.AddedAfter.Truncate(time.Microsecond)) {
		return false
	}
	if len(q.IDs) > 0 && !slices.Contains(q.IDs, o.ID) {
		return false
	}
	if len(q.Types) > 0 && !slices.Contains(q.Types, o.Type) {
		return false
	}
	if len(q.SpecVersions) > 0 && !slices.Contains(q.SpecVersions, o.specVersion()) {
		return false
	}
	v := q.Versions
	switch {
	case v.All:
		return true
	case v.last() && o.Version.Equal(last):
		return true
	case v.First && o.Version.Equal(first):
		return true
	}
	return slices.ContainsFunc(v.At, o.Version.Equal)
}
