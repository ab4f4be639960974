package lookalike

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// MaxInputLen bounds one input line (a domain, URL or email address).
// Longer inputs are rejected before any parsing.
const MaxInputLen = 4096

// Errors returned by ParseHost. They are wrapped with the offending input.
var (
	ErrEmpty    = errors.New("empty input")
	ErrTooLong  = errors.New("input too long")
	ErrIP       = errors.New("an IP address, not a domain name")
	ErrInvalid  = errors.New("not a valid domain name")
	ErrNoSuffix = errors.New("a single label, not a domain name")
)

// Host is a normalised domain name taken from an input.
type Host struct {
	// ASCII is the lower-case ASCII form (punycode for IDN labels), without
	// a trailing dot or leading "*.".
	ASCII string
	// Unicode is the display form; equal to ASCII when there is no IDN
	// label.
	Unicode string
}

// IDN reports whether the name has internationalised labels.
func (h Host) IDN() bool { return h.ASCII != h.Unicode }

// ParseHost takes the host out of a domain name, URL or email address and
// normalises it. It never panics, whatever the input.
func ParseHost(input string) (Host, error) {
	if len(input) > MaxInputLen {
		return Host{}, fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLong, len(input), MaxInputLen)
	}
	// Fast path: a bare lower-case ASCII name, as CT and lists mostly give.
	if h, err := checkASCII(input); err != errNotLDH {
		return h, err
	}
	s := strings.TrimSpace(input)
	if s == "" {
		return Host{}, ErrEmpty
	}
	s = hostPart(s)
	if s == "" {
		return Host{}, ErrEmpty
	}
	s = strings.TrimSuffix(s, ".")
	for strings.HasPrefix(s, "*.") {
		s = s[2:]
	}
	if isASCIILowerLDH(s) {
		return checkASCII(s)
	}
	if !utf8.ValidString(s) {
		return Host{}, fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	if strings.HasPrefix(s, "[") {
		return Host{}, ErrIP
	}
	// Mixed case or non-ASCII: map and validate through IDNA (UTS #46).
	a, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return Host{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return checkASCII(a)
}

// hostPart strips scheme, user info, path, query, fragment and port.
func hostPart(s string) string {
	if i := strings.Index(s, "://"); i >= 0 && i < 32 {
		s = s[i+3:]
		if j := strings.IndexAny(s, "/?#\\"); j >= 0 {
			s = s[:j]
		}
		if j := strings.LastIndexByte(s, '@'); j >= 0 {
			s = s[j+1:]
		}
	} else {
		if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
			s = s[7:]
		}
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
		if j := strings.LastIndexByte(s, '@'); j >= 0 {
			s = s[j+1:]
		}
		s = strings.Trim(s, "<>\"' ")
	}
	if strings.HasPrefix(s, "[") {
		return s
	}
	if j := strings.LastIndexByte(s, ':'); j >= 0 && strings.Count(s, ":") == 1 {
		s = s[:j]
	}
	return s
}

var ldh = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['-'], t['.'], t['_'] = true, true, true
	return t
}()

// isASCIILowerLDH reports whether s has only a-z, 0-9, '-', '_' and '.'.
func isASCIILowerLDH(s string) bool {
	for i := 0; i < len(s); i++ {
		if !ldh[s[i]] {
			return false
		}
	}
	return true
}

// errNotLDH tells ParseHost's fast path to take the slow one.
var errNotLDH = errors.New("not lower-case LDH")

// checkASCII validates a lower-case ASCII name, after dropping one trailing
// dot and leading "*." labels, and decodes its punycode labels for the
// display form. It returns errNotLDH, and nothing else, when s has a byte
// other than a-z, 0-9, '-', '_' or '.'.
func checkASCII(s string) (Host, error) {
	s = strings.TrimSuffix(s, ".")
	for strings.HasPrefix(s, "*.") {
		s = s[2:]
	}
	// One pass checks the bytes and the labels. A bad byte wins over a bad
	// label: the slow path may map it away (upper case, full-width dots).
	var labelErr error
	idn := false
	start, labels := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			if c := s[i]; c != '.' {
				if !ldh[c] {
					return Host{}, errNotLDH
				}
				continue
			}
		}
		l := s[start:i]
		start = i + 1
		labels++
		if labelErr != nil {
			continue
		}
		switch {
		case len(l) == 0:
			labelErr = fmt.Errorf("%w: empty label", ErrInvalid)
		case len(l) > 63:
			labelErr = fmt.Errorf("%w: label longer than 63 octets", ErrInvalid)
		case l[0] == '-' || l[len(l)-1] == '-':
			labelErr = fmt.Errorf("%w: label %q starts or ends with a hyphen", ErrInvalid, l)
		case len(l) >= 4 && l[:4] == "xn--":
			idn = true
		}
	}
	switch {
	case len(s) > 253:
		return Host{}, fmt.Errorf("%w: longer than 253 octets", ErrInvalid)
	case s == "":
		return Host{}, ErrEmpty
	case labelErr != nil:
		return Host{}, labelErr
	}
	if labels == 1 {
		return Host{}, ErrNoSuffix
	}
	if last := s[strings.LastIndexByte(s, '.')+1:]; allDigits(last) {
		if _, err := netip.ParseAddr(s); err == nil {
			return Host{}, ErrIP
		}
		return Host{}, fmt.Errorf("%w: the last label %q is numeric", ErrInvalid, last)
	}
	h := Host{ASCII: s, Unicode: s}
	if idn {
		u, err := idna.Lookup.ToUnicode(s)
		if err != nil {
			return Host{}, fmt.Errorf("%w: bad punycode: %v", ErrInvalid, err)
		}
		h.Unicode = u
	}
	return h, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
