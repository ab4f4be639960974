package taxii

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"
)

// MemoryCollection is a collection of fixed objects for MemoryBackend.
type MemoryCollection struct {
	Collection
	// Readers are the principals that may read the collection; "*" is
	// every principal, the anonymous one included. Empty: nobody.
	Readers []string
	// Objects are the versions the collection holds, in any order.
	Objects []Object
}

// MemoryBackend serves fixed collections from memory, for tests and small
// deployments. It is safe for concurrent use; it never changes after
// NewMemoryBackend.
type MemoryBackend struct {
	cols []*memCollection
	byID map[string]*memCollection
}

var _ Backend = (*MemoryBackend)(nil)

type memCollection struct {
	Collection
	readers map[string]bool
	objs    []Object         // in Compare order
	byID    map[string][]int // positions in objs of each id's versions, ascending
	span    map[string][2]time.Time
}

// NewMemoryBackend checks and indexes the collections: ids valid and
// distinct, every object with a STIX id whose type is Type, valid JSON, a
// date_added, and no two objects with the same id and version in one
// collection. The objects are copied (their JSON is shared).
func NewMemoryBackend(cols []MemoryCollection) (*MemoryBackend, error) {
	m := &MemoryBackend{byID: map[string]*memCollection{}}
	for i, c := range cols {
		if !validCollectionID(c.ID) {
			return nil, fmt.Errorf("taxii: collection %d: id %q: use 1 to 128 letters, digits, '-', '_', '.' or '~'", i, clip(c.ID))
		}
		if c.Title == "" {
			return nil, fmt.Errorf("taxii: collection %s has no title: give it one", c.ID)
		}
		if m.byID[c.ID] != nil {
			return nil, fmt.Errorf("taxii: collection id %s is used twice", c.ID)
		}
		mc := &memCollection{Collection: c.Collection, readers: map[string]bool{}, objs: slices.Clone(c.Objects),
			byID: map[string][]int{}, span: map[string][2]time.Time{}}
		mc.MediaTypes = slices.Clone(c.MediaTypes)
		for _, r := range c.Readers {
			mc.readers[r] = true
		}
		for j := range mc.objs {
			o := &mc.objs[j]
			if !validSTIXID(o.ID) {
				return nil, fmt.Errorf("taxii: collection %s: object %d: id %q is not a STIX id (type--uuid)", c.ID, j, clip(o.ID))
			}
			if o.Type == "" {
				o.Type = stixType(o.ID)
			}
			if o.Type != stixType(o.ID) {
				return nil, fmt.Errorf("taxii: collection %s: object %s has type %q, its id says %q", c.ID, o.ID, clip(o.Type), stixType(o.ID))
			}
			if o.Added.IsZero() {
				return nil, fmt.Errorf("taxii: collection %s: object %s has no date_added (Added)", c.ID, o.ID)
			}
			if !json.Valid(o.JSON) {
				return nil, fmt.Errorf("taxii: collection %s: object %s: JSON is not valid", c.ID, o.ID)
			}
			o.Added = o.Added.Truncate(time.Microsecond)
		}
		slices.SortFunc(mc.objs, Compare)
		for j := range mc.objs {
			o := &mc.objs[j]
			for _, k := range mc.byID[o.ID] {
				if mc.objs[k].Version.Equal(o.Version) {
					return nil, fmt.Errorf("taxii: collection %s: object %s has version %s twice", c.ID, o.ID, stixTimestamp(o.Version))
				}
			}
			mc.byID[o.ID] = append(mc.byID[o.ID], j)
			s, ok := mc.span[o.ID]
			if !ok {
				s = [2]time.Time{o.Version, o.Version}
			}
			if o.Version.Before(s[0]) {
				s[0] = o.Version
			}
			if o.Version.After(s[1]) {
				s[1] = o.Version
			}
			mc.span[o.ID] = s
		}
		m.cols = append(m.cols, mc)
		m.byID[c.ID] = mc
	}
	return m, nil
}

func (c *memCollection) readable(principal string) bool {
	return c.readers["*"] || c.readers[principal]
}

// Collections returns the collections principal may read, in the order
// they were given.
func (m *MemoryBackend) Collections(ctx context.Context, principal string) ([]Collection, error) {
	var out []Collection
	for _, c := range m.cols {
		if c.readable(principal) {
			out = append(out, c.Collection)
		}
	}
	return out, nil
}

// Objects implements Backend with Query.Match over the collection's
// objects, starting at the first position after q.After (binary search)
// or, for one id, over that id's versions only.
func (m *MemoryBackend) Objects(ctx context.Context, principal, collection string, q Query) ([]Object, bool, error) {
	c := m.byID[collection]
	if c == nil || !c.readable(principal) {
		return nil, false, ErrNoCollection
	}
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	var out []Object
	consider := func(o *Object) bool { // false: stop, one more than the limit matched
		s := c.span[o.ID]
		if !q.Match(*o, s[0], s[1]) {
			return true
		}
		if len(out) == q.Limit {
			return false
		}
		x := *o
		if q.OmitJSON {
			x.JSON = nil
		}
		out = append(out, x)
		return true
	}
	if len(q.IDs) == 1 {
		for _, j := range c.byID[q.IDs[0]] {
			if !consider(&c.objs[j]) {
				return out, true, nil
			}
		}
		return out, false, nil
	}
	start := 0
	switch {
	case !q.After.IsZero():
		start = sort.Search(len(c.objs), func(i int) bool { return CompareCursors(c.objs[i].Position(), q.After) > 0 })
	case !q.AddedAfter.IsZero():
		aa := q.AddedAfter.Truncate(time.Microsecond)
		start = sort.Search(len(c.objs), func(i int) bool { return c.objs[i].Added.After(aa) })
	}
	for j := start; j < len(c.objs); j++ {
		if j%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
		}
		if !consider(&c.objs[j]) {
			return out, true, nil
		}
	}
	return out, false, nil
}
