package intel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"
)

// STIXOptions configures WriteSTIX. The zero value is ready to use.
type STIXOptions struct {
	// Producer names the identity that creates the objects; zero: "ward".
	Producer string
	// Now stands in for an indicator's unknown FirstSeen (valid_from and
	// created); zero: time.Now(). Pass a fixed time for reproducible output.
	Now time.Time
	// OmitObservables leaves out the cyber-observable objects (domain-name,
	// url, ...) and their relationships; zero: one per indicator.
	OmitObservables bool
}

// The TLP 2.0 marking definitions that OASIS publishes for STIX 2.1, by
// their fixed ids, and the TLP 1.0 ids of the STIX 2.1 specification that
// readers still meet.
var (
	tlpMarkingIDs = map[string]string{
		TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
		TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
		TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
		TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
		TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
	}
	tlp1MarkingIDs = map[string]string{
		"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": TLPClear, // TLP 1.0 white
		"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": TLPGreen,
		"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": TLPAmber,
		"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": TLPRed,
	}
)

// tlp2Extension is the id of the extension definition that the TLP 2.0
// marking definitions use.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// stixObject is any STIX object; fields unused by a type stay empty. Field
// order is the order of the JSON output.
type stixObject struct {
	Type              string            `json:"type"`
	SpecVersion       string            `json:"spec_version,omitempty"`
	ID                string            `json:"id"`
	CreatedByRef      string            `json:"created_by_ref,omitempty"`
	Created           string            `json:"created,omitempty"`
	Modified          string            `json:"modified,omitempty"`
	Revoked           bool              `json:"revoked,omitempty"`
	Name              string            `json:"name,omitempty"`
	Description       string            `json:"description,omitempty"`
	IdentityClass     string            `json:"identity_class,omitempty"`
	IndicatorTypes    []string          `json:"indicator_types,omitempty"`
	Pattern           string            `json:"pattern,omitempty"`
	PatternType       string            `json:"pattern_type,omitempty"`
	PatternVersion    string            `json:"pattern_version,omitempty"`
	ValidFrom         string            `json:"valid_from,omitempty"`
	ValidUntil        string            `json:"valid_until,omitempty"`
	Confidence        *int              `json:"confidence,omitempty"`
	RelationshipType  string            `json:"relationship_type,omitempty"`
	SourceRef         string            `json:"source_ref,omitempty"`
	TargetRef         string            `json:"target_ref,omitempty"`
	Value             string            `json:"value,omitempty"`
	Hashes            map[string]string `json:"hashes,omitempty"`
	Extensions        json.RawMessage   `json:"extensions,omitempty"`
	Labels            []string          `json:"labels,omitempty"`
	ObjectMarkingRefs []string          `json:"object_marking_refs,omitempty"`
}

// stixTime formats a STIX timestamp: UTC, millisecond precision.
func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// identitiesCreated is the creation time of the identity objects ward
// writes; fixed, so that an identity is the same object in every export.
var identitiesCreated = time.Date(2020, 3, 1, 0, 0, 0, 0, time.UTC)

// stixHashNames are the STIX hash algorithm names of the hash types.
var stixHashNames = map[Type]string{TypeSHA256: "SHA-256", TypeSHA1: "SHA-1", TypeMD5: "MD5"}

// stixQuote writes s as a STIX patterning string literal: in single quotes,
// with quotes and backslashes escaped.
func stixQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

// stixPattern returns the STIX pattern and observable type of an indicator.
func stixPattern(in Indicator) (pattern, scoType string) {
	switch in.Type {
	case TypeDomain:
		return "[domain-name:value = " + stixQuote(in.Value) + "]", "domain-name"
	case TypeURL:
		return "[url:value = " + stixQuote(in.Value) + "]", "url"
	case TypeIP:
		t := "ipv4-addr"
		if strings.Contains(in.Value, ":") {
			t = "ipv6-addr"
		}
		return "[" + t + ":value = " + stixQuote(in.Value) + "]", t
	case TypeEmail:
		return "[email-addr:value = " + stixQuote(in.Value) + "]", "email-addr"
	case TypeSHA256, TypeSHA1, TypeMD5:
		return "[file:hashes." + stixQuote(stixHashNames[in.Type]) + " = " + stixQuote(in.Value) + "]", "file"
	case TypeFilename:
		return "[file:name = " + stixQuote(in.Value) + "]", "file"
	}
	return "", ""
}

// canonicalJSON encodes v as JSON without HTML escaping, close to the JSON
// Canonicalization Scheme for the flat objects used in SCO ids.
func canonicalJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // maps of strings always encode
	return strings.TrimSuffix(b.String(), "\n")
}

// Bounds on STIX input.
const maxSTIXObjects = 1_000_000

// stixIn is the subset of a STIX object that ReadSTIXBundle reads.
type stixIn struct {
	Type              string   `json:"type"`
	ID                string   `json:"id"`
	Description       string   `json:"description"`
	Pattern           string   `json:"pattern"`
	PatternType       string   `json:"pattern_type"`
	ValidFrom         string   `json:"valid_from"`
	ValidUntil        string   `json:"valid_until"`
	Modified          string   `json:"modified"`
	Confidence        *int     `json:"confidence"`
	ObjectMarkingRefs []string `json:"object_marking_refs"`
	Name              string   `json:"name"`
	IdentityClass     string   `json:"identity_class"`
	RelationshipType  string   `json:"relationship_type"`
	SourceRef         string   `json:"source_ref"`
	TargetRef         string   `json:"target_ref"`
	Revoked           bool     `json:"revoked"`
	Extensions        map[string]struct {
		TLP string `json:"tlp_2_0"`
	} `json:"extensions"`
}

// ReadSTIXBundle reads the indicators of a STIX 2.1 bundle whose patterns
// are one equality comparison of a domain name, URL, IPv4 or IPv6 address,
// e-mail address, file hash or file name ("[domain-name:value = 'x']");
// other indicators (compound patterns, other pattern languages, revoked
// ones) are skipped with a reason. It reads valid_from as FirstSeen,
// modified as LastSeen, valid_until, confidence, description, the TLP
// marking (2.0 or 1.0 ids, or a bundle's TLP 2.0 marking definitions) and
// the brand: the name of an organization identity that a relationship links
// the indicator to. Input is bounded in size, nesting and object count.
func ReadSTIXBundle(r io.Reader) (Result, error) {
	var res Result
	data, err := readAllLimited(r, "STIX bundle")
	if err != nil {
		return res, err
	}
	if err := CheckJSONDepth(data, maxJSONDepth); err != nil {
		return res, fmt.Errorf("reading STIX bundle: %w", err)
	}
	var b struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return res, fmt.Errorf("reading STIX bundle: not valid JSON: %w", err)
	}
	if b.Type != "bundle" {
		return res, fmt.Errorf("reading STIX bundle: type is %q, want \"bundle\"", clip(b.Type, 40))
	}
	if len(b.Objects) > maxSTIXObjects {
		return res, fmt.Errorf("%w: bundle has %d objects, limit %d", ErrTooBig, len(b.Objects), maxSTIXObjects)
	}
	objs := make([]stixIn, 0, len(b.Objects))
	markings := map[string]string{}
	orgs := map[string]string{}
	brandOf := map[string]string{}
	for i, raw := range b.Objects {
		var o stixIn
		if err := json.Unmarshal(raw, &o); err != nil {
			res.skip(fmt.Sprintf("object %d", i), "not a STIX object: "+err.Error())
			continue
		}
		switch o.Type {
		case "marking-definition":
			if e, ok := o.Extensions[tlp2Extension]; ok {
				if t := strings.ToLower(e.TLP); tlpRank(t) < 4 || t == TLPRed {
					markings[o.ID] = t
				}
			}
		case "identity":
			if o.IdentityClass == "organization" && o.Name != "" {
				orgs[o.ID] = o.Name
			}
		}
		objs = append(objs, o)
	}
	for _, o := range objs {
		if o.Type == "relationship" && o.RelationshipType == "related-to" {
			if name, ok := orgs[o.TargetRef]; ok {
				brandOf[o.SourceRef] = name
			}
		}
	}
	for _, o := range objs {
		if o.Type != "indicator" {
			continue
		}
		item := clip(o.ID, 80)
		if o.Revoked {
			res.skip(item, "revoked")
			continue
		}
		if o.PatternType != "" && o.PatternType != "stix" {
			res.skip(item, fmt.Sprintf("pattern type %q: only stix patterns are read", clip(o.PatternType, 40)))
			continue
		}
		typ, value, err := parseSTIXPattern(o.Pattern)
		if err != nil {
			res.skip(item, err.Error())
			continue
		}
		in, err := Parse(typ, value)
		if err != nil {
			res.skip(item, err.Error())
			continue
		}
		in.Source = SourceImport
		in.Description = clip(o.Description, MaxDescriptionLen-4)
		in.FirstSeen = parseSTIXTime(o.ValidFrom)
		in.LastSeen = parseSTIXTime(o.Modified)
		in.ValidUntil = parseSTIXTime(o.ValidUntil)
		if o.Confidence != nil && *o.Confidence >= 0 && *o.Confidence <= 100 {
			in.Confidence = *o.Confidence
		}
		for _, m := range o.ObjectMarkingRefs {
			t, ok := markings[m]
			if !ok {
				t, ok = tlp1MarkingIDs[m]
			}
			if !ok {
				for k, v := range tlpMarkingIDs {
					if v == m {
						t, ok = k, true
					}
				}
			}
			if ok && (in.TLP == "" || tlpRank(t) > tlpRank(in.TLP)) {
				in.TLP = t
			}
		}
		in.Brand = clip(brandOf[o.ID], MaxTextLen-4)
		if err := res.add(in); err != nil {
			return res, err
		}
	}
	return res, nil
}

func parseSTIXTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// parseSTIXPattern reads a pattern of one equality comparison,
// "[object:path = 'literal']", and returns the indicator type and the
// literal. Anything else is an error that says why.
func parseSTIXPattern(p string) (Type, string, error) {
	s := strings.TrimSpace(p)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return "", "", fmt.Errorf("pattern %q is not one bracketed comparison", clip(p, 80))
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	// The object path: letters, digits, "-_:." and quoted segments.
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '\'' {
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				break
			}
			i += j + 2
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_:.", c) >= 0) {
			break
		}
		i++
	}
	path := s[:i]
	rest0 := strings.TrimSpace(s[i:])
	if path == "" || !strings.HasPrefix(rest0, "=") {
		return "", "", fmt.Errorf("pattern %q is not an equality comparison", clip(p, 80))
	}
	s = rest0[1:]
	lit, rest, err := stixLiteral(strings.TrimSpace(s))
	if err != nil {
		return "", "", fmt.Errorf("pattern %q: %v", clip(p, 80), err)
	}
	if strings.TrimSpace(rest) != "" {
		return "", "", fmt.Errorf("pattern %q is not a single equality comparison", clip(p, 80))
	}
	var typ Type
	switch path {
	case "domain-name:value":
		typ = TypeDomain
	case "url:value":
		typ = TypeURL
	case "ipv4-addr:value", "ipv6-addr:value":
		typ = TypeIP
		if a, b, ok := strings.Cut(lit, "/"); ok {
			if pa, err := netip.ParseAddr(a); err == nil && (b == "32" && pa.Is4() || b == "128" && pa.Is6()) {
				lit = a
			}
		}
	case "email-addr:value", "email-message:from_ref.value", "email-message:sender_ref.value":
		typ = TypeEmail
	case "file:name":
		typ = TypeFilename
	default:
		alg, ok := strings.CutPrefix(path, "file:hashes.")
		if !ok {
			return "", "", fmt.Errorf("pattern %q compares %q, which ward does not import", clip(p, 80), clip(path, 60))
		}
		alg = strings.ToUpper(strings.ReplaceAll(strings.Trim(alg, `'"`), "-", ""))
		switch alg {
		case "SHA256":
			typ = TypeSHA256
		case "SHA1":
			typ = TypeSHA1
		case "MD5":
			typ = TypeMD5
		default:
			return "", "", fmt.Errorf("pattern %q uses hash %q, which ward does not import", clip(p, 80), clip(alg, 20))
		}
	}
	return typ, lit, nil
}

// stixLiteral reads a single-quoted string at the start of s, undoing \'
// and \\, and returns it with the rest of s.
func stixLiteral(s string) (string, string, error) {
	if s == "" || s[0] != '\'' {
		return "", "", fmt.Errorf("the value is not a quoted string")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) || s[i+1] != '\\' && s[i+1] != '\'' {
				return "", "", fmt.Errorf("bad escape in string")
			}
			b.WriteByte(s[i+1])
			i++
		case '\'':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated string")
}
