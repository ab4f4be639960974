package mail

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/lookalike"
)

// Bounds on an indicator file.
const (
	maxIOCLine  = 4096
	maxIOCCount = 1_000_000
)

// IOCSet is a set of known indicators: URLs, domains, IP addresses and
// file hashes (MD5, SHA-1, SHA-256). It is read-only once loaded and safe
// for concurrent use.
type IOCSet struct {
	urls    map[string]bool
	domains map[string]bool
	ips     map[string]bool
	hashes  map[string]bool
}

// Len returns the number of indicators in the set.
func (s *IOCSet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.urls) + len(s.domains) + len(s.ips) + len(s.hashes)
}

// ReadIOCs reads indicators, one per line: a URL (with a scheme), a domain,
// an IPv4 or IPv6 address, or an MD5/SHA-1/SHA-256 hash in hex. Blank lines
// and lines starting with # are skipped; a line may carry a comment after
// whitespace ("evil.example  # campaign 12"). name is used in errors.
func ReadIOCs(name string, r io.Reader) (*IOCSet, error) {
	s := &IOCSet{urls: map[string]bool{}, domains: map[string]bool{}, ips: map[string]bool{}, hashes: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxIOCLine)
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if s.Len() >= maxIOCCount {
			return nil, fmt.Errorf("%s:%d: more than %d indicators; split the file", name, line, maxIOCCount)
		}
		if err := s.add(f[0]); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w (lines are limited to %d bytes)", name, line+1, err, maxIOCLine)
	}
	return s, nil
}

// LoadIOCs reads indicators from path: a MISP feed directory, a STIX 2.1
// bundle or a MISP event (JSON files), or a plain list (see ReadIOCs).
// Of feed indicators, URLs, domains, IP addresses and hashes are kept;
// revoked and expired ones are left out.
func LoadIOCs(path string) (*IOCSet, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening indicators: %w", err)
	}
	if fi.IsDir() {
		res, err := intel.ReadMISPFeed(os.DirFS(path))
		if err != nil {
			return nil, fmt.Errorf("%s: reading it as a MISP feed directory: %w", path, err)
		}
		return IOCsFrom(res.Indicators, time.Now()), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening indicators: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(4096)
	if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		var res intel.Result
		if bytes.Contains(head, []byte(`"Event"`)) {
			res, err = intel.ReadMISPEvent(br)
		} else {
			res, err = intel.ReadSTIXBundle(br)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w (JSON indicator files must be a STIX 2.1 bundle or a MISP event)", path, err)
		}
		return IOCsFrom(res.Indicators, time.Now()), nil
	}
	return ReadIOCs(path, br)
}

// NewIOCSet returns an empty set; fill it with Add.
func NewIOCSet() *IOCSet {
	return &IOCSet{urls: map[string]bool{}, domains: map[string]bool{}, ips: map[string]bool{}, hashes: map[string]bool{}}
}

// Add adds one indicator: a URL, domain, IP address or hash. A set must
// not be changed once an Analyzer uses it.
func (s *IOCSet) Add(v string) error { return s.add(v) }

// IOCsFrom returns the set of the URLs, domains, IP addresses and hashes
// among feed indicators that are neither revoked nor expired at now.
func IOCsFrom(inds []intel.Indicator, now time.Time) *IOCSet {
	s := NewIOCSet()
	for _, in := range inds {
		if in.Revoked || !in.ValidUntil.IsZero() && !in.ValidUntil.After(now) {
			continue
		}
		switch in.Type {
		case intel.TypeURL, intel.TypeDomain, intel.TypeIP, intel.TypeSHA256, intel.TypeSHA1, intel.TypeMD5:
			_ = s.add(in.Value) // normalised by the feed reader; a value add refuses is one it cannot match
		}
	}
	return s
}

func (s *IOCSet) add(v string) error {
	low := strings.ToLower(v)
	if isHex(low) && (len(low) == 32 || len(low) == 40 || len(low) == 64) {
		s.hashes[low] = true
		return nil
	}
	if a, err := netip.ParseAddr(strings.Trim(low, "[]")); err == nil {
		s.ips[a.String()] = true
		return nil
	}
	if strings.Contains(low, "://") {
		s.urls[normalizeURL(v)] = true
		return nil
	}
	h, err := lookalike.ParseHost(low)
	if err != nil {
		return fmt.Errorf("%q is not a URL, domain, IP address or hash: %v", truncate(v, 80), err)
	}
	s.domains[h.ASCII] = true
	return nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// normalizeURL lower-cases the scheme and host and drops a trailing slash,
// so that indicators and links compare equal.
func normalizeURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return strings.TrimSuffix(u, "/")
	}
	rest := u[i+3:]
	j := strings.IndexAny(rest, "/?#")
	if j < 0 {
		j = len(rest)
	}
	return strings.TrimSuffix(strings.ToLower(u[:i+3+j])+rest[j:], "/")
}

// matchURL reports whether the URL is known.
func (s *IOCSet) matchURL(u string) bool { return s != nil && s.urls[normalizeURL(u)] }

// matchHost reports the known domain that host is or is under, or "".
func (s *IOCSet) matchHost(host string) string {
	if s == nil || host == "" {
		return ""
	}
	for h := host; ; {
		if s.domains[h] {
			return h
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			return ""
		}
		h = h[i+1:]
	}
}

func (s *IOCSet) matchIP(ip string) bool { return s != nil && s.ips[ip] }

func (s *IOCSet) matchHash(h string) bool { return s != nil && s.hashes[strings.ToLower(h)] }
