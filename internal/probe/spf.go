package probe

import (
	"strconv"
	"strings"
)

// maxSPFTerms bounds the terms read from one SPF record; RFC 7208 records
// rarely have more than 20.
const maxSPFTerms = 64

// SPF is an SPF record (RFC 7208) read enough to say whether it lets
// anyone send mail for the name. It is not evaluated: includes and
// redirects are named, not followed.
type SPF struct {
	// Record is the record as published (at most 4096 bytes).
	Record string `json:"record"`
	// All is the "all" mechanism with its qualifier ("-all", "~all",
	// "?all", "+all"), or "" when the record has none.
	All string `json:"all,omitempty"`
	// Mechanisms are the other mechanisms with their qualifier, as
	// written ("+ip4:192.0.2.0/24", "+include:_spf.example.net"), in
	// order, at most 64.
	Mechanisms []string `json:"mechanisms,omitempty"`
	// Redirect is the redirect= modifier's domain, if any.
	Redirect string `json:"redirect,omitempty"`
	// AuthorisesSenders is false only when the policy lets no host send:
	// every mechanism fails ("v=spf1 -all") and there is no redirect, or
	// the record is invalid.
	AuthorisesSenders bool `json:"authorises_senders"`
	// Invalid says why the record is a permerror; "" when it parses.
	Invalid string `json:"invalid,omitempty"`
}

// isSPF reports whether a TXT record is an SPF record: "v=spf1" followed by
// a space or the end (RFC 7208 section 4.5), case-insensitive.
func isSPF(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

// spfMechanisms are the mechanism names of RFC 7208 section 5.
var spfMechanisms = map[string]bool{
	"all": true, "include": true, "a": true, "mx": true, "ptr": true,
	"ip4": true, "ip6": true, "exists": true,
}

// ParseSPF reads an SPF record. It never fails: a record it cannot read
// comes back with Invalid set and AuthorisesSenders false.
func ParseSPF(record string) *SPF {
	s := &SPF{Record: truncate(record, maxTXTLen)}
	if !isSPF(s.Record) {
		s.Invalid = `does not start with "v=spf1"`
		return s
	}
	fields := strings.Fields(s.Record[6:])
	if len(fields) > maxSPFTerms {
		s.Invalid = "more than " + strconv.Itoa(maxSPFTerms) + " terms"
		return s
	}
	allows := false
	for _, term := range fields {
		lower := strings.ToLower(term)
		// Modifiers: name=value.
		if eq := strings.IndexByte(lower, '='); eq > 0 && !strings.ContainsAny(lower[:eq], ":/") {
			switch lower[:eq] {
			case "redirect":
				if s.Redirect != "" {
					s.Invalid = "redirect= given twice"
					return s
				}
				s.Redirect = lower[eq+1:]
				allows = true
			case "exp":
			default:
				// Unknown modifiers are ignored (section 6).
			}
			continue
		}
		qual := byte('+')
		if strings.IndexByte("+-~?", lower[0]) >= 0 {
			qual, lower = lower[0], lower[1:]
		}
		name := lower
		if i := strings.IndexAny(name, ":/"); i >= 0 {
			name = name[:i]
		}
		if !spfMechanisms[name] {
			s.Invalid = "unknown mechanism " + strconv.Quote(truncate(term, 64))
			return s
		}
		if name == "all" {
			if lower != "all" {
				s.Invalid = `"all" takes no argument`
				return s
			}
			s.All = string(qual) + "all"
			if qual != '-' {
				allows = true
			}
			break // terms after "all" are never reached (section 5.1)
		}
		s.Mechanisms = append(s.Mechanisms, string(qual)+lower)
		if qual != '-' {
			allows = true
		}
	}
	if s.All == "" && s.Redirect == "" {
		// No "all": the default result is neutral, nobody is refused.
		allows = true
	}
	s.AuthorisesSenders = allows
	return s
}

// DMARC is a DMARC record (RFC 7489) read for its policy.
type DMARC struct {
	// Domain is where the record was found ("_dmarc.example.org").
	Domain string `json:"domain,omitempty"`
	// Record is the record as published (at most 4096 bytes).
	Record string `json:"record"`
	// Policy is the p= tag: "none", "quarantine" or "reject"; "" when
	// the record is invalid.
	Policy string `json:"policy,omitempty"`
	// SubdomainPolicy is the sp= tag, "" when absent.
	SubdomainPolicy string `json:"subdomain_policy,omitempty"`
	// Percent is the pct= tag, 100 when absent.
	Percent int `json:"percent"`
	// ReportURIs are the rua= addresses, at most 16.
	ReportURIs []string `json:"report_uris,omitempty"`
	// Invalid says why the record is unusable; "" when it parses.
	Invalid string `json:"invalid,omitempty"`
}

// isDMARC reports whether a TXT record starts with the DMARC version tag.
func isDMARC(txt string) bool {
	t := strings.TrimLeft(txt, " \t")
	if len(t) < 1 || (t[0] != 'v' && t[0] != 'V') {
		return false
	}
	t = strings.TrimLeft(t[1:], " \t")
	if !strings.HasPrefix(t, "=") {
		return false
	}
	t = strings.TrimLeft(t[1:], " \t")
	return len(t) >= 6 && strings.EqualFold(t[:6], "DMARC1") && (len(t) == 6 || strings.IndexByte(" \t;", t[6]) >= 0)
}

// ParseDMARC reads a DMARC record. It never fails: a record it cannot read
// comes back with Invalid set and no Policy.
func ParseDMARC(record string) *DMARC {
	d := &DMARC{Record: truncate(record, maxTXTLen), Percent: 100}
	if !isDMARC(d.Record) {
		d.Invalid = `does not start with "v=DMARC1"`
		return d
	}
	tags := strings.Split(d.Record, ";")
	if len(tags) > maxSPFTerms {
		d.Invalid = "more than " + strconv.Itoa(maxSPFTerms) + " tags"
		return d
	}
	policy := ""
	for i, tag := range tags {
		k, v, ok := strings.Cut(tag, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok {
			if k == "" {
				continue
			}
			d.Invalid = "tag without value: " + strconv.Quote(truncate(k, 64))
			return d
		}
		if i == 0 {
			continue // v=DMARC1, checked above
		}
		switch k {
		case "p":
			policy = strings.ToLower(v)
		case "sp":
			d.SubdomainPolicy = strings.ToLower(v)
			if !validDMARCPolicy(d.SubdomainPolicy) {
				d.SubdomainPolicy = ""
			}
		case "pct":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 100 {
				d.Invalid = "pct= is not a number from 0 to 100"
				return d
			}
			d.Percent = n
		case "rua":
			for u := range strings.SplitSeq(v, ",") {
				if u = strings.TrimSpace(u); u != "" && len(d.ReportURIs) < 16 {
					d.ReportURIs = append(d.ReportURIs, truncate(u, 256))
				}
			}
		}
	}
	switch {
	case validDMARCPolicy(policy):
		d.Policy = policy
	case policy == "" && len(d.ReportURIs) > 0:
		// Section 6.6.3: a record with rua= but no valid p= is p=none.
		d.Policy = "none"
	case policy == "":
		d.Invalid = "no p= tag"
	default:
		d.Invalid = "p= is " + strconv.Quote(truncate(policy, 32)) + ", not none, quarantine or reject"
	}
	return d
}

func validDMARCPolicy(p string) bool {
	return p == "none" || p == "quarantine" || p == "reject"
}
