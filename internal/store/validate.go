package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bounds on what the store accepts. Everything stored comes, one way or
// another, from hostile input (certificates, web pages, mail), so every
// size and count is bounded and an error names the field and the limit.
const (
	MaxOrgLen        = 128
	MaxDomainLen     = 253
	MaxBrandLen      = 128
	MaxSourceLen     = 512 // a source is named like "ct https://log.example/path/"
	MaxRefLen        = 1024
	MaxListItems     = 64    // reasons and techniques
	MaxListItemLen   = 512   // bytes per reason or technique
	MaxScore         = 100   // scores are 0..MaxScore
	MaxBatch         = 10000 // matches per RecordMatches
	MaxCursorLen     = 64 << 10
	MaxSinks         = 32
	MaxSinkLen       = 64
	MaxDataLen       = 1 << 20 // evidence document
	MaxPayloadLen    = 64 << 10
	MaxAuthorLen     = 128
	MaxNoteLen       = 16 << 10
	MaxErrorLen      = 2048 // delivery last_error, truncated beyond
	MaxWorkerLen     = 128
	MaxQueryLimit    = 10000 // DueForCheck, PendingDeliveries, ClaimDeliveries
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// checkText rejects a string that is too long or not UTF-8 (PostgreSQL
// refuses invalid UTF-8 and NUL bytes; SQLite would store them, and the two
// back ends must agree).
func checkText(field, v string, max int, required bool) error {
	if required && v == "" {
		return invalidf("%s is empty: it is required", field)
	}
	if len(v) > max {
		return invalidf("%s is %d bytes long: the limit is %d", field, len(v), max)
	}
	if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
		return invalidf("%s %.40q is not valid UTF-8 text without NUL bytes", field, v)
	}
	return nil
}

// normDomain lower-cases a DNS name and drops one trailing dot.
func normDomain(v string) string {
	return strings.TrimSuffix(strings.ToLower(v), ".")
}

// checkName accepts DNS names in their ASCII form: letters, digits, '-',
// '_', '.', and '*' for wildcard certificate names when wildcard is set.
func checkName(field, v string, wildcard bool) error {
	if v == "" {
		return invalidf("%s is empty: it is required", field)
	}
	if len(v) > MaxDomainLen {
		return invalidf("%s is %d bytes long: a DNS name has at most %d", field, len(v), MaxDomainLen)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		case c == '*' && wildcard:
		default:
			return invalidf("%s %.80q has the byte %q: give the ASCII (punycode) form of the name", field, v, c)
		}
	}
	return nil
}

func checkList(field string, l []string) error {
	if len(l) > MaxListItems {
		return invalidf("%s has %d items: the limit is %d", field, len(l), MaxListItems)
	}
	for i, v := range l {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), v, MaxListItemLen, false); err != nil {
			return err
		}
	}
	return nil
}

// cutList keeps at most MaxListItems items of l, each cut to MaxListItemLen
// bytes of UTF-8 without NUL bytes.
func cutList(l []string) []string {
	if len(l) > MaxListItems {
		l = l[:MaxListItems]
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = cutText(v, MaxListItemLen)
	}
	return out
}

func checkScore(field string, v int) error {
	if v < 0 || v > MaxScore {
		return invalidf("%s is %d: scores are 0..%d", field, v, MaxScore)
	}
	return nil
}

func checkJSON(field string, v json.RawMessage, max int) error {
	if len(v) > max {
		return invalidf("%s is %d bytes long: the limit is %d", field, len(v), max)
	}
	if len(v) > 0 && !json.Valid(v) {
		return invalidf("%s is not valid JSON", field)
	}
	if strings.IndexByte(string(v), 0) >= 0 {
		return invalidf("%s holds a NUL byte", field)
	}
	return nil
}

// checkSinks rejects bad sink names and returns them without duplicates, in
// order.
func checkSinks(sinks []string) ([]string, error) {
	if len(sinks) > MaxSinks {
		return nil, invalidf("%d sinks given: the limit is %d", len(sinks), MaxSinks)
	}
	out := make([]string, 0, len(sinks))
	for i, s := range sinks {
		if err := checkText(fmt.Sprintf("sinks[%d]", i), s, MaxSinkLen, true); err != nil {
			return nil, err
		}
		dup := false
		for _, o := range out {
			dup = dup || o == s
		}
		if !dup {
			out = append(out, s)
		}
	}
	return out, nil
}

func checkLimit(field string, v int) error {
	if v < 1 || v > MaxQueryLimit {
		return invalidf("%s is %d: give 1..%d", field, v, MaxQueryLimit)
	}
	return nil
}

// checkMatch validates m and returns it normalised.
func checkMatch(i int, m Match, source string) (Match, error) {
	f := func(name string) string { return fmt.Sprintf("matches[%d].%s", i, name) }
	m.Domain = normDomain(m.Domain)
	if m.Name == "" {
		m.Name = m.Domain
	}
	m.Name = normDomain(m.Name)
	if m.Source == "" {
		m.Source = source
	}
	if err := checkText(f("org"), m.Org, MaxOrgLen, true); err != nil {
		return m, err
	}
	if err := checkName(f("domain"), m.Domain, false); err != nil {
		return m, err
	}
	if err := checkName(f("name"), m.Name, true); err != nil {
		return m, err
	}
	if err := checkText(f("brand"), m.Brand, MaxBrandLen, false); err != nil {
		return m, err
	}
	if err := checkScore(f("score"), m.Score); err != nil {
		return m, err
	}
	if err := checkList(f("reasons"), m.Reasons); err != nil {
		return m, err
	}
	if err := checkList(f("techniques"), m.Techniques); err != nil {
		return m, err
	}
	if err := checkText(f("source"), m.Source, MaxSourceLen, true); err != nil {
		return m, err
	}
	if err := checkText(f("ref"), m.Ref, MaxRefLen, false); err != nil {
		return m, err
	}
	return m, nil
}
