// Package intel holds ward's indicators (domains, URLs, IP addresses, e-mail
// addresses, file hashes and file names) and their exchange formats: a DNS
// RPZ zone, a STIX 2.1 bundle, a MISP feed directory, CSV and hosts files.
// It reads MISP feeds, STIX bundles and plain lists back.
//
// The package is pure: no network, no clock (callers pass "now"), no global
// mutable state. Every reader treats its input as hostile and bounds sizes,
// counts and nesting; every writer validates what it writes again, so that a
// hostile value that slipped into the store cannot inject records into a
// zone, a formula into a spreadsheet or a pattern into a STIX bundle.
package intel

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Type is the kind of an indicator.
type Type string

// The indicator types, as the store names them.
const (
	TypeDomain   Type = "domain"
	TypeURL      Type = "url"
	TypeIP       Type = "ip"
	TypeEmail    Type = "email"
	TypeSHA256   Type = "sha256"
	TypeSHA1     Type = "sha1"
	TypeMD5      Type = "md5"
	TypeFilename Type = "filename"
)

// Types lists every indicator type in the order the writers sort them.
var Types = [...]Type{TypeDomain, TypeURL, TypeIP, TypeEmail, TypeSHA256, TypeSHA1, TypeMD5, TypeFilename}

// Sources of indicators. Source is free text in Indicator; these are the
// values ward itself writes ("import" may carry a suffix naming the feed).
const (
	SourceFinding = "finding"
	SourceMail    = "mail"
	SourceImport  = "import"
	SourceManual  = "manual"
)

// TLP levels (Traffic Light Protocol 2.0), from the widest audience to the
// narrowest.
const (
	TLPClear       = "clear"
	TLPGreen       = "green"
	TLPAmber       = "amber"
	TLPAmberStrict = "amber+strict"
	TLPRed         = "red"
)

// tlpRank orders the TLP levels; unknown levels rank as red.
func tlpRank(tlp string) int {
	switch tlp {
	case TLPClear:
		return 0
	case TLPGreen:
		return 1
	case TLPAmber:
		return 2
	case TLPAmberStrict:
		return 3
	}
	return 4
}

// Scopes of an indicator.
const (
	ScopePrivate = "private" // seen only by its organisation
	ScopeShared  = "shared"  // shared with every organisation and feed
)

// Bounds on an indicator's fields.
const (
	MaxValueLen       = 2048 // bytes of Value (a URL's limit; domains are shorter)
	MaxDescriptionLen = 4096 // bytes of Description
	MaxTextLen        = 256  // bytes of Source, Org and Brand
	maxDomainLen      = 253  // text form without the trailing dot
	maxLabelLen       = 63
	maxFilenameLen    = 255
	maxEmailLocalLen  = 64
)

// Indicator is one thing to block or watch for.
type Indicator struct {
	// Type says what Value is.
	Type Type `json:"type"`
	// Value is normalised (see Parse): lower-case ASCII domains (punycode
	// for IDN), canonical IP addresses, lower-case hex hashes, URLs parsed
	// and written again.
	Value string `json:"value"`
	// FirstSeen and LastSeen bound when it was observed; zero: unknown.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Source says where it came from: SourceFinding, SourceMail,
	// SourceImport (optionally "import <feed>") or SourceManual.
	Source string `json:"source,omitempty"`
	// Confidence is 0 (a guess) to 100 (certain).
	Confidence int `json:"confidence"`
	// TLP is one of the TLP constants; "" counts as amber when exported
	// (the cautious reading of an unmarked indicator).
	TLP string `json:"tlp,omitempty"`
	// ValidUntil is when it expires; zero: never.
	ValidUntil time.Time `json:"valid_until,omitzero"`
	// Scope is ScopePrivate or ScopeShared.
	Scope string `json:"scope,omitempty"`
	// Org is the organisation that owns it.
	Org string `json:"org,omitempty"`
	// Brand is the brand it imitates or targets, if any.
	Brand string `json:"brand,omitempty"`
	// Description says why it is an indicator, for people.
	Description string `json:"description,omitempty"`
	// Updated is when this version of the indicator was recorded (STIX
	// "modified", a TAXII version); zero: LastSeen, else FirstSeen.
	Updated time.Time `json:"updated,omitzero"`
	// Revoked marks an indicator withdrawn (a dismissed finding, a manual
	// removal). Feeds that carry history (STIX, TAXII, MISP) publish it as
	// revoked so that consumers stop blocking it; the others leave it out.
	Revoked bool `json:"revoked,omitempty"`
}

// Errors of Parse, Guess and Validate, wrapped with the offending value.
var (
	ErrEmpty       = errors.New("empty value")
	ErrTooLong     = errors.New("value too long")
	ErrUnknownType = errors.New("unknown indicator type")
	ErrInvalid     = errors.New("invalid indicator")
)

// Parse normalises value as an indicator of type typ and returns it with
// only Type and Value set. Common defanging ("hxxp://", "[.]", "(.)",
// "[@]") is undone first. The error names what is wrong and, where there is
// one, the fix.
func Parse(typ Type, value string) (Indicator, error) {
	if len(value) > MaxValueLen {
		return Indicator{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(value), MaxValueLen)
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return Indicator{}, ErrEmpty
	}
	if !utf8.ValidString(v) {
		return Indicator{}, fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalid, v)
	}
	var (
		norm string
		err  error
	)
	switch typ {
	case TypeDomain:
		norm, err = normDomain(refang(v))
	case TypeURL:
		norm, err = normURL(refang(v))
	case TypeIP:
		norm, err = normIP(refang(v))
	case TypeEmail:
		norm, err = normEmail(refang(v))
	case TypeSHA256:
		norm, err = normHex(v, 64)
	case TypeSHA1:
		norm, err = normHex(v, 40)
	case TypeMD5:
		norm, err = normHex(v, 32)
	case TypeFilename:
		norm, err = normFilename(v)
	default:
		return Indicator{}, fmt.Errorf("%w %q: use one of %v", ErrUnknownType, string(typ), Types)
	}
	if err != nil {
		return Indicator{}, err
	}
	return Indicator{Type: typ, Value: norm}, nil
}

// Guess detects the type of value and parses it: 32, 40 or 64 hex digits are
// an MD5, SHA-1 or SHA-256 hash; anything with "://" is a URL; an "@"
// without "/" an e-mail address; then an IP address; a name whose last label
// is a common file extension that is not a top-level domain ("invoice.exe",
// "lure.vbs") a file name; else a domain name.
func Guess(value string) (Indicator, error) {
	v := strings.TrimSpace(value)
	if len(v) > MaxValueLen {
		return Indicator{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(v), MaxValueLen)
	}
	if v == "" {
		return Indicator{}, ErrEmpty
	}
	if isHex(v) {
		switch len(v) {
		case 32:
			return Parse(TypeMD5, v)
		case 40:
			return Parse(TypeSHA1, v)
		case 64:
			return Parse(TypeSHA256, v)
		}
	}
	r := refang(v)
	switch {
	case strings.Contains(r, "://"):
		return Parse(TypeURL, v)
	case strings.Contains(r, "@") && !strings.Contains(r, "/"):
		return Parse(TypeEmail, v)
	}
	if _, err := normIP(r); err == nil {
		return Parse(TypeIP, v)
	}
	if i := strings.LastIndexByte(r, '.'); i > 0 && fileExtensions[strings.ToLower(r[i+1:])] {
		return Parse(TypeFilename, v)
	}
	return Parse(TypeDomain, v)
}

// fileExtensions are extensions of files that mail lures carry and that are
// not top-level domains (".zip" and ".mov" are, so they are not here).
var fileExtensions = map[string]bool{
	"exe": true, "dll": true, "scr": true, "com_": true, "bat": true, "cmd": true, "vbs": true, "vbe": true,
	"js": true, "jse": true, "wsf": true, "hta": true, "ps1": true, "lnk": true, "iso": true, "img": true,
	"msi": true, "jar": true, "doc": true, "docm": true, "docx": true, "xls": true, "xlsm": true, "xlsx": true,
	"ppt": true, "pptm": true, "rtf": true, "pdf": true, "rar": true, "7z": true, "gz": true, "html": true,
	"htm": true, "one": true, "vhd": true, "cab": true,
}

// defang maps the usual defanged spellings back; built once (a Replacer
// is costly to build and safe for concurrent use).
var defang = strings.NewReplacer("[.]", ".", "(.)", ".", "[dot]", ".", "[@]", "@", "[at]", "@", "[:]", ":")

// refang undoes the usual defanging of shared indicators.
func refang(s string) string {
	if !strings.ContainsAny(s, "[(x") {
		return s
	}
	if strings.ContainsAny(s, "[(") {
		s = defang.Replace(s)
	}
	for _, p := range [...]struct{ from, to string }{{"hxxps://", "https://"}, {"hxxp://", "http://"}, {"hXXps://", "https://"}, {"hXXp://", "http://"}} {
		if strings.HasPrefix(s, p.from) {
			s = p.to + s[len(p.from):]
		}
	}
	return s
}

// domainProfile maps Unicode names to their ASCII (punycode) form as lookups
// do, without STD3 rules so that underscores (real in DNS) pass; ward checks
// the characters itself afterwards.
var domainProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false), idna.Transitional(false))

// normDomain returns the lower-case ASCII form of a domain name.
func normDomain(s string) (string, error) {
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#") {
		return "", fmt.Errorf("%w: %q is a URL, not a domain name: use type url", ErrInvalid, s)
	}
	if strings.Contains(s, "@") {
		return "", fmt.Errorf("%w: %q is an e-mail address, not a domain name: use type email", ErrInvalid, s)
	}
	if strings.HasPrefix(s, "*.") {
		return "", fmt.Errorf("%w: %q has a wildcard: give the name without \"*.\" (it covers its subdomains)", ErrInvalid, s)
	}
	s = strings.TrimSuffix(s, ".")
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return "", fmt.Errorf("%w: %q is an IP address: use type ip", ErrInvalid, s)
	}
	a := strings.ToLower(s)
	if !isASCII(a) {
		var err error
		a, err = domainProfile.ToASCII(s)
		if err != nil {
			return "", fmt.Errorf("%w: %q is not a valid internationalised domain name: %v", ErrInvalid, s, err)
		}
		a = strings.ToLower(a)
	}
	if err := checkDomain(a); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalid, s, err)
	}
	return a, nil
}

// checkDomain checks a lower-case ASCII name without trailing dot: at least
// two labels of 1 to 63 letters, digits, hyphens and underscores, no label
// starting or ending with a hyphen, 253 bytes in all, a last label that is
// not all digits. Everything RPZ and hosts writers emit passes it, which is
// what keeps hostile values from breaking out of a record.
func checkDomain(a string) error {
	if a == "" {
		return ErrEmpty
	}
	if len(a) > maxDomainLen {
		return fmt.Errorf("%d bytes, limit %d", len(a), maxDomainLen)
	}
	labels := 0
	for label := range strings.SplitSeq(a, ".") {
		labels++
		if label == "" {
			return errors.New("empty label (two dots in a row, or a leading dot)")
		}
		if len(label) > maxLabelLen {
			return fmt.Errorf("label of %d bytes, limit %d", len(label), maxLabelLen)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("label %q has character %q: only letters, digits, '-' and '_' are allowed", label, c)
			}
		}
	}
	if labels < 2 {
		return errors.New("a single label: give a full name such as example.org (ward never blocks a whole top-level domain)")
	}
	last := a[strings.LastIndexByte(a, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		return errors.New("the last label is numeric, which no top-level domain is")
	}
	return nil
}

// normURL parses a URL and writes it again: lower-case scheme, normalised
// host (domain or IP), no default port, no fragment, "/" for an empty path.
func normURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a URL: %v", ErrInvalid, s, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https", "ftp":
	case "":
		return "", fmt.Errorf("%w: %q has no scheme: write it as http://... or use type domain", ErrInvalid, s)
	default:
		return "", fmt.Errorf("%w: %q has scheme %q: only http, https and ftp URLs are indicators", ErrInvalid, s, u.Scheme)
	}
	if u.Opaque != "" {
		return "", fmt.Errorf("%w: %q has no host: write it as %s://host/path", ErrInvalid, s, u.Scheme)
	}
	h := u.Hostname()
	if h == "" {
		return "", fmt.Errorf("%w: %q has no host", ErrInvalid, s)
	}
	var host string
	if ip, err := normIP(h); err == nil {
		host = ip
		if strings.Contains(ip, ":") {
			host = "[" + ip + "]"
		}
	} else {
		d, err := normDomain(h)
		if err != nil {
			return "", fmt.Errorf("%w: the host of %q: %v", ErrInvalid, s, err)
		}
		host = d
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || len(port) > 5 || n < 1 || n > 65535 {
			return "", fmt.Errorf("%w: %q has port %q, outside 1-65535", ErrInvalid, s, port)
		}
		port = strconv.Itoa(n)
		if u.Scheme == "http" && n == 80 || u.Scheme == "https" && n == 443 || u.Scheme == "ftp" && n == 21 {
			port = ""
		}
	}
	if port != "" {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	out := u.String()
	if len(out) > MaxValueLen {
		return "", fmt.Errorf("%w: %d bytes once normalised, limit %d", ErrTooLong, len(out), MaxValueLen)
	}
	for _, r := range out {
		if r < 0x21 || r == 0x7f {
			return "", fmt.Errorf("%w: %q has a control character or space", ErrInvalid, s)
		}
	}
	return out, nil
}

// normIP returns the canonical text of an IP address; IPv4-mapped IPv6
// addresses become IPv4.
func normIP(s string) (string, error) {
	if strings.Contains(s, "/") {
		return "", fmt.Errorf("%w: %q is a network: ward's indicators are single addresses", ErrInvalid, s)
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", fmt.Errorf("%w: %q is not an IP address", ErrInvalid, s)
	}
	if a.Zone() != "" {
		return "", fmt.Errorf("%w: %q has a zone (%%%s): give the address alone", ErrInvalid, s, a.Zone())
	}
	return a.Unmap().String(), nil
}

// normEmail lower-cases an address and normalises its domain.
func normEmail(s string) (string, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", fmt.Errorf("%w: %q is not an e-mail address (local@domain)", ErrInvalid, s)
	}
	local, domain := strings.ToLower(s[:at]), s[at+1:]
	if len(local) > maxEmailLocalLen {
		return "", fmt.Errorf("%w: the local part of %q has %d bytes, limit %d", ErrInvalid, s, len(local), maxEmailLocalLen)
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`"(),:;<>@[\]`, r) || !unicode.IsPrint(r) {
			return "", fmt.Errorf("%w: the local part of %q has character %q: quoted local parts are not supported", ErrInvalid, s, r)
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", fmt.Errorf("%w: the local part of %q has a misplaced dot", ErrInvalid, s)
	}
	d, err := normDomain(domain)
	if err != nil {
		return "", fmt.Errorf("%w: the domain of %q: %v", ErrInvalid, s, err)
	}
	return local + "@" + d, nil
}

// normHex lower-cases a hex digest of n digits.
func normHex(s string, n int) (string, error) {
	if len(s) != n || !isHex(s) {
		return "", fmt.Errorf("%w: %q is not a hash of %d hex digits", ErrInvalid, s, n)
	}
	return strings.ToLower(s), nil
}

// normFilename checks a file name: no directory, no control characters.
func normFilename(s string) (string, error) {
	if len(s) > maxFilenameLen {
		return "", fmt.Errorf("%w: file name of %d bytes, limit %d", ErrInvalid, len(s), maxFilenameLen)
	}
	if strings.ContainsAny(s, `/\`) {
		return "", fmt.Errorf("%w: %q has a directory: give the file name alone", ErrInvalid, s)
	}
	if s == "." || s == ".." {
		return "", fmt.Errorf("%w: %q is not a file name", ErrInvalid, s)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return "", fmt.Errorf("%w: file name %q has a control or invisible character %U", ErrInvalid, s, r)
		}
	}
	return s, nil
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Validate checks every field of an indicator: a known type, a value that is
// already normalised, confidence 0-100, a known TLP and scope (or empty) and
// text fields within bounds. Writers skip indicators that fail it.
func Validate(in Indicator) error {
	p, err := Parse(in.Type, in.Value)
	if err != nil {
		return err
	}
	if p.Value != in.Value {
		return fmt.Errorf("%w: %s %q is not normalised (want %q): pass it through Parse", ErrInvalid, in.Type, in.Value, p.Value)
	}
	if in.Confidence < 0 || in.Confidence > 100 {
		return fmt.Errorf("%w: confidence %d: use 0 to 100", ErrInvalid, in.Confidence)
	}
	switch in.TLP {
	case "", TLPClear, TLPGreen, TLPAmber, TLPAmberStrict, TLPRed:
	default:
		return fmt.Errorf("%w: tlp %q: use clear, green, amber, amber+strict or red", ErrInvalid, in.TLP)
	}
	switch in.Scope {
	case "", ScopePrivate, ScopeShared:
	default:
		return fmt.Errorf("%w: scope %q: use private or shared", ErrInvalid, in.Scope)
	}
	for _, f := range [...]struct {
		name, v string
		max     int
	}{{"source", in.Source, MaxTextLen}, {"org", in.Org, MaxTextLen}, {"brand", in.Brand, MaxTextLen}, {"description", in.Description, MaxDescriptionLen}} {
		if len(f.v) > f.max {
			return fmt.Errorf("%w: %s of %d bytes, limit %d", ErrInvalid, f.name, len(f.v), f.max)
		}
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, f.name)
		}
	}
	return nil
}

// host returns the domain an indicator blocks in DNS: a domain's value, a
// URL's host when it is a name; "" otherwise.
func (in Indicator) host() string {
	switch in.Type {
	case TypeDomain:
		return in.Value
	case TypeURL:
		u, err := url.Parse(in.Value)
		if err != nil {
			return ""
		}
		h := u.Hostname()
		if checkDomain(h) != nil {
			return ""
		}
		return h
	}
	return ""
}
