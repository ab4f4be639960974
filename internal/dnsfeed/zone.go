package dnsfeed

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Errors of SetZone, wrapped with details.
var (
	// ErrUnknownZone: the origin is not one of Config.Zones.
	ErrUnknownZone = errors.New("zone not configured")
	// ErrBadZone: the text does not parse or breaks a rule or a bound.
	ErrBadZone = errors.New("invalid zone")
	// ErrSerial: the serial does not follow the served one.
	ErrSerial = errors.New("serial does not increase")
)

// maxRRLen bounds one record on the wire (uncompressed), so that every
// record fits a transfer message with room to spare.
const maxRRLen = 8192

// version is one immutable version of a zone.
type version struct {
	soa     *dns.SOA
	ns      []dns.RR // the apex NS records
	records []dns.RR // every record but the SOA, in key order
	keys    []string // records' keys, sorted; keys[i] belongs to records[i]
	hash    [32]byte // of keys: equal hashes mean equal content

	axfrOnce sync.Once
	axfr     [][]byte // the packed AXFR messages, ID 0; see axfrMessages
	axfrErr  error
}

// diff is what changed from one version to the next.
type diff struct {
	from, to *dns.SOA
	del, add []dns.RR
}

// state is what a zone serves: its current version and the differences
// that lead to it, oldest first. It is replaced whole, never changed.
type state struct {
	cur   *version
	diffs []diff
}

// rrKey identifies a record: its presentation form with a lower-case
// owner name, TTL included (a changed TTL is a change).
func rrKey(rr dns.RR) string {
	return rr.String()
}

// parseZone reads zone text for origin (canonical) under the bounds.
func parseZone(origin string, text []byte, maxBytes, maxRecords int) (*version, error) {
	if len(text) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d (Config.MaxZoneBytes)", ErrBadZone, len(text), maxBytes)
	}
	zp := dns.NewZoneParser(bytes.NewReader(text), origin, "")
	zp.SetIncludeAllowed(false)
	v := &version{}
	seen := make(map[string]struct{})
	type keyed struct {
		key string
		rr  dns.RR
	}
	var recs []keyed
	parsed := 0
	scratch := make([]byte, maxRRLen+1024)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		// Count duplicates too: $GENERATE makes many records of one line.
		if parsed++; parsed > maxRecords {
			return nil, fmt.Errorf("%w: more than %d records (Config.MaxRecords)", ErrBadZone, maxRecords)
		}
		h := rr.Header()
		h.Name = dns.CanonicalName(h.Name)
		switch {
		case h.Class != dns.ClassINET:
			return nil, fmt.Errorf("%w: %s has class %s: only IN records belong in a zone", ErrBadZone, h.Name, dns.ClassToString[h.Class])
		case !dns.IsSubDomain(origin, h.Name):
			return nil, fmt.Errorf("%w: %s is outside the zone %s", ErrBadZone, h.Name, origin)
		case h.Rrtype == dns.TypeOPT || h.Rrtype >= dns.TypeTKEY && h.Rrtype <= dns.TypeANY:
			return nil, fmt.Errorf("%w: %s has the meta type %s, which has no place in a zone", ErrBadZone, h.Name, dns.Type(h.Rrtype))
		}
		if err := checkWire(rr, scratch); err != nil {
			return nil, fmt.Errorf("%w: the %s record of %s: %v", ErrBadZone, dns.Type(h.Rrtype), h.Name, err)
		}
		switch r := rr.(type) {
		case *dns.SOA:
			if h.Name != origin {
				return nil, fmt.Errorf("%w: an SOA record at %s, below the apex %s", ErrBadZone, h.Name, origin)
			}
			if v.soa != nil {
				return nil, fmt.Errorf("%w: two SOA records at %s: keep one", ErrBadZone, origin)
			}
			v.soa = r
			continue
		case *dns.NS:
			if h.Name == origin {
				r.Ns = dns.CanonicalName(r.Ns)
			}
		}
		k := rrKey(rr)
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		recs = append(recs, keyed{k, rr})
		if h.Rrtype == dns.TypeNS && h.Name == origin {
			v.ns = append(v.ns, rr)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadZone, err)
	}
	if v.soa == nil {
		return nil, fmt.Errorf("%w: no SOA record at %s: the zone must start with one", ErrBadZone, origin)
	}
	if len(v.ns) == 0 {
		return nil, fmt.Errorf("%w: no NS record at %s: give the zone at least one", ErrBadZone, origin)
	}
	slices.SortFunc(recs, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	v.records = make([]dns.RR, len(recs))
	v.keys = make([]string, len(recs))
	h := sha256.New()
	for i, r := range recs {
		v.records[i], v.keys[i] = r.rr, r.key
		h.Write([]byte(r.key))
		h.Write([]byte{'\n'})
	}
	h.Sum(v.hash[:0])
	return v, nil
}

// checkWire packs rr to check that it has data (the zone parser accepts
// "name CNAME" without a target, which secondaries reject) and fits
// maxRRLen. buf has room for maxRRLen bytes and more.
func checkWire(rr dns.RR, buf []byte) error {
	n := dns.Len(rr)
	if n > maxRRLen {
		return fmt.Errorf("%d bytes, limit %d", n, maxRRLen)
	}
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return err
	}
	if end > maxRRLen {
		return fmt.Errorf("%d bytes, limit %d", end, maxRRLen)
	}
	if rr.Header().Rdlength == 0 {
		return errors.New("no data: complete the record")
	}
	return nil
}

// newer reports whether serial a follows b in RFC 1982 serial arithmetic
// (32 bits). A distance of exactly 2^31 is undefined and reported false.
func newer(a, b uint32) bool {
	d := a - b
	return d != 0 && d < 1<<31
}

// diffVersions returns what changed from old to cur. Both key lists are
// sorted, so one merge pass finds the records only in one of them.
func diffVersions(old, cur *version) diff {
	d := diff{from: old.soa, to: cur.soa}
	i, j := 0, 0
	for i < len(old.keys) || j < len(cur.keys) {
		switch {
		case j == len(cur.keys) || (i < len(old.keys) && old.keys[i] < cur.keys[j]):
			d.del = append(d.del, old.records[i])
			i++
		case i == len(old.keys) || cur.keys[j] < old.keys[i]:
			d.add = append(d.add, cur.records[j])
			j++
		default:
			i++
			j++
		}
	}
	return d
}

// next returns the state after loading v over s (s may be nil), keeping at
// most history differences, or an error when v's serial does not follow.
// unchanged reports a reload of the same content with the same serial.
func (s *state) next(v *version, history int) (ns *state, unchanged bool, err error) {
	if s == nil {
		return &state{cur: v}, false, nil
	}
	old, nw := s.cur.soa.Serial, v.soa.Serial
	if old == nw {
		if s.cur.hash == v.hash && s.cur.soa.String() == v.soa.String() {
			return s, true, nil
		}
		return nil, false, fmt.Errorf("%w: the content changed but the serial is still %d: give a serial above %d", ErrSerial, nw, old)
	}
	if !newer(nw, old) {
		return nil, false, fmt.Errorf("%w: serial %d does not follow the served %d (RFC 1982): give a serial above %d", ErrSerial, nw, old, old)
	}
	diffs := append(slices.Clone(s.diffs), diffVersions(s.cur, v))
	if len(diffs) > history {
		diffs = slices.Clone(diffs[len(diffs)-history:])
	}
	return &state{cur: v, diffs: diffs}, false, nil
}

// changesSince returns the differences that lead from serial to the
// current version, or ok false when serial is not a kept version.
func (s *state) changesSince(serial uint32) (ds []diff, ok bool) {
	for i, d := range s.diffs {
		if d.from.Serial == serial {
			return s.diffs[i:], true
		}
	}
	return nil, false
}
