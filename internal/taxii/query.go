package taxii

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bounds on what a request may carry.
const (
	maxQueryLen     = 4096 // bytes of the raw query string
	maxMatchValues  = 100  // values across all match[...] parameters
	maxValueLen     = 300  // bytes of one value
	maxNextLen      = 512  // bytes of a next token
	maxPathLen      = 1024 // bytes of the path
	maxAcceptLen    = 4096 // bytes of the Accept headers together
	maxAcceptRanges = 64   // media ranges in the Accept headers
)

// endpoint names the paging endpoints, which read different parameters.
type endpoint byte

const (
	epObjects  endpoint = 'o' // GET .../objects/
	epManifest endpoint = 'm' // GET .../manifest/
	epObject   endpoint = 'i' // GET .../objects/{id}/
	epVersions endpoint = 'v' // GET .../objects/{id}/versions/
)

// requestError is an error the client caused; it becomes a TAXII error
// message with its status.
type requestError struct {
	status      int
	title, desc string
}

func (e *requestError) Error() string { return e.title + ": " + e.desc }

func badRequest(title, format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, title: title, desc: fmt.Sprintf(format, args...)}
}

// params are the parsed query parameters of a paging request.
type params struct {
	addedAfter   time.Time
	limit        int // 0: not given
	next         string
	ids, types   []string
	specVersions []string
	versions     Versions
	versionText  []string // match[version] as given, for the fingerprint
}

// parseParams reads the query string of a paging endpoint. Parameters the
// endpoint does not take are ignored, as are unknown ones; the ones it
// takes are checked strictly and bounded.
func parseParams(raw string, ep endpoint) (params, error) {
	var p params
	if len(raw) > maxQueryLen {
		return p, badRequest("query too long", "the query string has %d bytes, limit %d", len(raw), maxQueryLen)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return p, badRequest("bad query string", "the query string is not well-formed: %v", err)
	}
	one := func(name string) (string, error) {
		v := vals[name]
		if len(v) > 1 {
			return "", badRequest("bad "+name, "%s is given %d times: give it once", name, len(v))
		}
		if len(v[0]) > maxValueLen && name != "next" {
			return "", badRequest("bad "+name, "%s has %d bytes, limit %d", name, len(v[0]), maxValueLen)
		}
		return v[0], nil
	}
	count := 0
	list := func(name string, check func(string) error) ([]string, error) {
		var out []string
		for _, v := range vals[name] {
			for item := range strings.SplitSeq(v, ",") {
				count++
				if count > maxMatchValues {
					return nil, badRequest("too many filter values", "the match parameters have more than %d values together", maxMatchValues)
				}
				item = strings.TrimSpace(item)
				if len(item) > maxValueLen {
					return nil, badRequest("bad "+name, "a value of %s has %d bytes, limit %d", name, len(item), maxValueLen)
				}
				if err := check(item); err != nil {
					return nil, badRequest("bad "+name, "%s: %v", name, err)
				}
				if !slices.Contains(out, item) {
					out = append(out, item)
				}
			}
		}
		return out, nil
	}
	if _, ok := vals["added_after"]; ok {
		v, err := one("added_after")
		if err != nil {
			return p, err
		}
		if p.addedAfter, err = parseTimestamp(v); err != nil {
			return p, badRequest("bad added_after", "%v", err)
		}
	}
	if _, ok := vals["limit"]; ok {
		v, err := one("limit")
		if err != nil {
			return p, err
		}
		if p.limit, err = parseLimit(v); err != nil {
			return p, badRequest("bad limit", "%v", err)
		}
	}
	if _, ok := vals["next"]; ok {
		v, err := one("next")
		if err != nil {
			return p, err
		}
		if v == "" || len(v) > maxNextLen {
			return p, badRequest("bad next", "next must be a token this server gave, not %d bytes", len(v))
		}
		p.next = v
	}
	if ep == epObjects || ep == epManifest {
		if p.ids, err = list("match[id]", checkSTIXID); err != nil {
			return p, err
		}
		if p.types, err = list("match[type]", checkType); err != nil {
			return p, err
		}
	}
	if ep != epVersions {
		p.versionText, err = list("match[version]", func(s string) error {
			switch s {
			case "first", "last", "all":
				return nil
			}
			_, err := parseTimestamp(s)
			return err
		})
		if err != nil {
			return p, err
		}
		for _, s := range p.versionText {
			switch s {
			case "first":
				p.versions.First = true
			case "last":
				p.versions.Last = true
			case "all":
				p.versions.All = true
			default:
				t, _ := parseTimestamp(s)
				p.versions.At = append(p.versions.At, t)
			}
		}
	}
	if p.specVersions, err = list("match[spec_version]", checkSpecVersion); err != nil {
		return p, err
	}
	if ep == epVersions {
		p.versions.All = true
	}
	return p, nil
}

// parseLimit reads a positive integer; values too large for an int count
// as very large (the server caps them).
func parseLimit(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("limit %q is not a positive integer", clip(s))
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 1 << 30, nil // all digits: only too large
	}
	if n < 1 {
		return 0, fmt.Errorf("limit %d: use 1 or more", n)
	}
	return n, nil
}

// parseTimestamp reads an RFC 3339 timestamp such as
// 2020-03-14T18:00:00.000Z.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) > 64 {
		return time.Time{}, errors.New("timestamp too long")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a timestamp such as 2020-03-14T18:00:00.000Z (a '+' in a URL must be written %%2B)", clip(s))
	}
	return t.UTC(), nil
}

// fmtAdded formats a date_added: UTC, microseconds.
func fmtAdded(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// stixTimestamp formats a version as STIX does: milliseconds, or as many
// digits as the time needs.
func stixTimestamp(t time.Time) string {
	t = t.UTC()
	switch ns := t.Nanosecond(); {
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

// checkType checks a STIX type name: 3 to 250 lower-case letters, digits
// and hyphens.
func checkType(s string) error {
	if len(s) < 3 || len(s) > 250 {
		return fmt.Errorf("type %q: STIX types have 3 to 250 characters", clip(s))
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("type %q has %q: only a-z, 0-9 and '-'", clip(s), c)
		}
	}
	return nil
}

// checkSTIXID checks a STIX id: type--UUID.
func checkSTIXID(s string) error {
	typ, u, ok := strings.Cut(s, "--")
	if !ok {
		return fmt.Errorf("%q is not a STIX id (type--uuid)", clip(s))
	}
	if err := checkType(typ); err != nil {
		return err
	}
	if len(u) != 36 {
		return fmt.Errorf("%q does not end in a UUID", clip(s))
	}
	for i := 0; i < 36; i++ {
		c := u[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return fmt.Errorf("%q does not end in a UUID", clip(s))
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return fmt.Errorf("%q does not end in a UUID", clip(s))
		}
	}
	return nil
}

func validSTIXID(s string) bool { return checkSTIXID(s) == nil }

// stixType returns the type part of a STIX id.
func stixType(id string) string {
	t, _, _ := strings.Cut(id, "--")
	return t
}

func checkSpecVersion(s string) error {
	if s == "" || len(s) > 8 || strings.Trim(s, "0123456789.") != "" {
		return fmt.Errorf("%q is not a STIX version such as 2.1", clip(s))
	}
	return nil
}

// validCollectionID checks a collection id for use in a URL path.
func validCollectionID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0) {
			return false
		}
	}
	return s != "." && s != ".."
}

// clip shortens s for an error message and quotes nothing itself.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// fingerprint binds a next token to the request it continues: endpoint,
// collection, object, principal and filters (not the limit, which a
// client may change between pages).
func (p *params) fingerprint(ep endpoint, principal, collection, object string) [32]byte {
	h := sha256.New()
	field := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("ward-taxii-next-1")
	field(string(ep))
	field(principal)
	field(collection)
	field(object)
	if !p.addedAfter.IsZero() {
		field(p.addedAfter.Truncate(time.Microsecond).Format(time.RFC3339Nano))
	} else {
		field("")
	}
	for _, l := range [][]string{p.ids, p.types, p.specVersions, p.versionText} {
		s := slices.Clone(l)
		slices.Sort(s)
		field(strconv.Itoa(len(s)))
		for _, v := range s {
			field(v)
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Next tokens: base64url of
//
//	1 | added seconds (8) | added nanoseconds (4) | version seconds (8) |
//	version nanoseconds (4) | id length (2) | id | tag (12)
//
// where tag is the first 12 bytes of SHA-256(fingerprint | the rest). The
// tag makes a token fail on another request or after any change; it is a
// checksum, not a secret: a forged token only moves a client within what
// its principal may read anyway.
const nextTagLen = 12

func encodeNext(c Cursor, fp [32]byte) string {
	b := make([]byte, 0, 1+24+2+len(c.ID)+nextTagLen)
	b = append(b, 1)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Added.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(c.Added.Nanosecond()))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Version.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(c.Version.Nanosecond()))
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.ID)))
	b = append(b, c.ID...)
	b = append(b, nextTag(b, fp)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func nextTag(payload []byte, fp [32]byte) []byte {
	h := sha256.New()
	h.Write(fp[:])
	h.Write(payload)
	return h.Sum(nil)[:nextTagLen]
}

var errBadNext = &requestError{status: http.StatusBadRequest, title: "bad next",
	desc: "next is not a token this server gave for this request: repeat the request with the same filters, or start again without next"}

func decodeNext(tok string, fp [32]byte) (Cursor, error) {
	var c Cursor
	if len(tok) > maxNextLen {
		return c, errBadNext
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 1+24+2+nextTagLen || b[0] != 1 {
		return c, errBadNext
	}
	payload, tag := b[:len(b)-nextTagLen], b[len(b)-nextTagLen:]
	if !bytes.Equal(tag, nextTag(payload, fp)) {
		return c, errBadNext
	}
	idLen := int(binary.BigEndian.Uint16(payload[25:27]))
	if len(payload) != 27+idLen {
		return c, errBadNext
	}
	addedNs, verNs := binary.BigEndian.Uint32(payload[9:13]), binary.BigEndian.Uint32(payload[21:25])
	if addedNs >= 1e9 || verNs >= 1e9 {
		return c, errBadNext
	}
	c.Added = time.Unix(int64(binary.BigEndian.Uint64(payload[1:9])), int64(addedNs)).UTC()
	c.Version = time.Unix(int64(binary.BigEndian.Uint64(payload[13:21])), int64(verNs)).UTC()
	c.ID = string(payload[27:])
	if !validSTIXID(c.ID) {
		return Cursor{}, errBadNext
	}
	return c, nil
}
