// Package mail triages suspicious mail that staff report: it parses a
// message (RFC 5322 and MIME, leniently and within limits), looks at sender
// authentication, display names, look-alike sender and link domains, links,
// the HTML body, health and payment lures, known indicators and the
// attachments (through internal/mail/attach), and judges the message
// malicious, phishing, suspicious or clean with the reasons why.
//
// Everything in a message is treated as hostile: every size, depth, count
// and the time spent on one message are bounded, and a message that reaches
// a bound is judged at least suspicious with a reason that says which bound.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/ward-health/ward/examples"
	"github.com/ward-health/ward/internal/brand"
	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail/attach"
	"github.com/ward-health/ward/internal/mail/bayes"
	"github.com/ward-health/ward/internal/mail/finding"
)

// Resolver looks up DNS TXT records; the analyzer uses it to fetch DKIM
// public keys. *net.Resolver satisfies it.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// ResolverAt returns a Resolver that asks the DNS server at addr
// (host:port) instead of the system's.
func ResolverAt(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// Limits bound the work done on one message. Zero fields take the values
// of DefaultLimits.
type Limits struct {
	// MaxSize is the largest raw message analysed, in bytes; a larger one
	// is judged suspicious unread. Default 64 MiB.
	MaxSize int64
	// MaxDepth is the deepest MIME nesting walked (multipart in multipart,
	// or a forwarded message/rfc822 part). Default 10.
	MaxDepth int
	// MaxParts is the number of MIME parts walked in one message, nested
	// messages included. Default 500.
	MaxParts int
	// MaxDecoded is the total of decoded bytes (after base64,
	// quoted-printable and charset conversion) kept from all parts, in
	// bytes. Default 128 MiB.
	MaxDecoded int64
	// MaxLinks is the number of links examined in one message. Default
	// 1000.
	MaxLinks int
	// MaxHTMLTokens is the number of HTML tokens read from one HTML part.
	// Default 200000.
	MaxHTMLTokens int
	// MaxDKIMSignatures is the number of DKIM signatures verified.
	// Default 5.
	MaxDKIMSignatures int
	// MaxPictures is the number of pictures of one message (image
	// attachments, images inside PDFs, data: images in the HTML) searched
	// for QR codes. Default 16; negative: none.
	MaxPictures int
	// Timeout is the time allowed for one message, attachment analysis
	// and DNS look-ups included. Default 10 s.
	Timeout time.Duration
	// Attach bounds the analysis of each attachment; zero fields take
	// attach.DefaultLimits.
	Attach attach.Limits
}

// DefaultLimits returns the limits used for zero fields of Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxSize:           64 << 20,
		MaxDepth:          10,
		MaxParts:          500,
		MaxDecoded:        128 << 20,
		MaxLinks:          1000,
		MaxHTMLTokens:     200000,
		MaxDKIMSignatures: 5,
		MaxPictures:       16,
		Timeout:           10 * time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxSize == 0 {
		l.MaxSize = d.MaxSize
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxParts == 0 {
		l.MaxParts = d.MaxParts
	}
	if l.MaxDecoded == 0 {
		l.MaxDecoded = d.MaxDecoded
	}
	if l.MaxLinks == 0 {
		l.MaxLinks = d.MaxLinks
	}
	if l.MaxHTMLTokens == 0 {
		l.MaxHTMLTokens = d.MaxHTMLTokens
	}
	if l.MaxDKIMSignatures == 0 {
		l.MaxDKIMSignatures = d.MaxDKIMSignatures
	}
	if l.MaxPictures == 0 {
		l.MaxPictures = d.MaxPictures
	}
	if l.Timeout == 0 {
		l.Timeout = d.Timeout
	}
	return l
}

// Config configures an Analyzer. The zero Config is usable: it protects the
// built-in health brand set, believes no Authentication-Results header,
// verifies no DKIM signature and knows no indicators.
type Config struct {
	// Brands are the protected brands, used for display-name checks and,
	// when Matcher is nil, to build the look-alike matcher. Nil means the
	// documented health brand set (examples/brands-health.yaml).
	Brands *brand.Set
	// Matcher finds look-alike sender and link domains. Nil means a
	// matcher built from Brands.
	Matcher *lookalike.Matcher
	// TrustedReceivers are the authserv-ids (the first word of an
	// Authentication-Results header, e.g. "mx.hospital.nl") whose results
	// are believed. Headers from any other id are ignored, since a sender
	// can write any header it likes. Empty means none is believed.
	TrustedReceivers []string
	// Resolver, when set, is used to verify DKIM signatures. Nil means
	// DKIM signatures are not verified (and no reason says so).
	Resolver Resolver
	// IOCs are known indicators matched against the message's URLs,
	// domains, IPs and attachment hashes. Nil means none.
	IOCs *IOCSet
	// OwnDomains are the recipient organisation's own domains (e.g.
	// "mijnziekenhuis.nl"); an outside sender naming them in its display
	// name is an impersonation signal. Empty means none.
	OwnDomains []string
	// OwnNames are the recipient organisation's names as staff would see
	// them in a display name (e.g. "Mijn Ziekenhuis"). Empty means none.
	OwnNames []string
	// Limits bound the work per message; zero fields take DefaultLimits.
	Limits Limits
	// Now returns the current time, for DKIM signature expiry. Nil means
	// time.Now.
	Now func() time.Time
	// Bayes is the content classifier behind the bayes_spam signal. Nil
	// means the built-in model (bayes.Default), trained on the
	// SpamAssassin public corpus.
	Bayes *bayes.Model
	// NoBayes turns the bayes_spam signal off, whatever Bayes says.
	NoBayes bool
}

// Analyzer judges messages. It is safe for concurrent use by several
// goroutines once built.
type Analyzer struct {
	brands     *brand.Set
	matcher    *lookalike.Matcher
	trusted    map[string]bool
	resolver   Resolver
	iocs       *IOCSet
	ownDomains []string
	ownNames   []string
	lim        Limits
	now        func() time.Time
	bayes      *bayes.Model // nil: no bayes_spam signal
	names      []brandName
	// knownGood are the domains of the protected brands, the recipient's
	// organisation and the commonly imitated organisations; protected
	// leaves the common ones out.
	knownGood, protected map[string]bool
}

// WithIOCs returns an Analyzer like a that matches the indicators of s
// instead of its own: a daemon builds an Analyzer once and swaps in the
// indicators it currently knows, cheaply, per message.
func (a *Analyzer) WithIOCs(s *IOCSet) *Analyzer {
	b := *a
	b.iocs = s
	return &b
}

// WithBayes returns an Analyzer like a that classifies with m, unless a
// was built with NoBayes: a site's learning (bayes.Learning) swapped in as
// its analysts teach it.
func (a *Analyzer) WithBayes(m *bayes.Model) *Analyzer {
	b := *a
	if a.bayes != nil && m != nil {
		b.bayes = m
	}
	return &b
}

// NewAnalyzer checks cfg and returns an Analyzer. The error names the field
// at fault and how to fix it.
func NewAnalyzer(cfg Config) (*Analyzer, error) {
	l := cfg.Limits
	if l.MaxSize < 0 || l.MaxDepth < 0 || l.MaxParts < 0 || l.MaxDecoded < 0 || l.MaxLinks < 0 ||
		l.MaxHTMLTokens < 0 || l.MaxDKIMSignatures < 0 || l.Timeout < 0 {
		return nil, errors.New("mail: Config.Limits: a limit is negative; use 0 for the default or a positive bound")
	}
	a := &Analyzer{
		brands:   cfg.Brands,
		matcher:  cfg.Matcher,
		trusted:  map[string]bool{},
		resolver: cfg.Resolver,
		iocs:     cfg.IOCs,
		lim:      l.withDefaults(),
		now:      cfg.Now,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.brands == nil {
		set, err := brand.Parse("built-in brands-health.yaml", examples.HealthBrands)
		if err != nil {
			return nil, fmt.Errorf("mail: loading the built-in brand set: %w", err)
		}
		a.brands = set
	}
	if a.matcher == nil {
		m, err := lookalike.NewMatcher(a.brands)
		if err != nil {
			return nil, fmt.Errorf("mail: building the look-alike matcher from Config.Brands: %w", err)
		}
		a.matcher = m
	}
	if !cfg.NoBayes {
		a.bayes = cfg.Bayes
		if a.bayes == nil {
			m, err := bayes.Default()
			if err != nil {
				return nil, fmt.Errorf("mail: loading the built-in Bayes model: %w", err)
			}
			a.bayes = m
		}
	}
	for _, id := range cfg.TrustedReceivers {
		id = strings.ToLower(strings.TrimSpace(id))
		if id == "" {
			return nil, errors.New("mail: Config.TrustedReceivers: empty authserv-id; give the id your receiving server writes first in Authentication-Results, e.g. mx.hospital.nl")
		}
		a.trusted[id] = true
	}
	for _, d := range cfg.OwnDomains {
		n, err := brand.NormalizeDomain(d)
		if err != nil {
			return nil, fmt.Errorf("mail: Config.OwnDomains: %v", err)
		}
		a.ownDomains = append(a.ownDomains, n)
	}
	for _, n := range cfg.OwnNames {
		if n = strings.TrimSpace(n); n != "" {
			a.ownNames = append(a.ownNames, n)
		}
	}
	a.names = brandNames(a.brands, a.ownDomains, a.ownNames)
	a.knownGood, a.protected = map[string]bool{}, map[string]bool{}
	for _, bn := range a.names {
		for _, d := range bn.domains {
			a.knownGood[d] = true
			if !bn.common {
				a.protected[d] = true
			}
		}
	}
	return a, nil
}

// Verdict is the judgement on one message.
type Verdict string

// The verdicts, from worst to best. See Decide for the policy.
const (
	Malicious  Verdict = "malicious"  // delivers malware
	Phishing   Verdict = "phishing"   // credential theft or impersonation
	Suspicious Verdict = "suspicious" // weaker combinations, or an analysis limit was reached
	Clean      Verdict = "clean"      // nothing worth an analyst's time
)

// Rank orders verdicts: Clean 0, Suspicious 1, Phishing 2, Malicious 3;
// unknown values rank -1.
func (v Verdict) Rank() int {
	switch v {
	case Clean:
		return 0
	case Suspicious:
		return 1
	case Phishing:
		return 2
	case Malicious:
		return 3
	}
	return -1
}

// ParseVerdict returns the verdict named s, or an error that lists the
// valid names.
func ParseVerdict(s string) (Verdict, error) {
	v := Verdict(strings.ToLower(strings.TrimSpace(s)))
	if v.Rank() < 0 {
		return "", fmt.Errorf("unknown verdict %q: use malicious, phishing, suspicious or clean", s)
	}
	return v, nil
}

// IOCs are the indicators taken from a message, each list sorted and
// without duplicates.
type IOCs struct {
	URLs    []string `json:"urls"`
	Domains []string `json:"domains"`
	IPs     []string `json:"ips"`
	Emails  []string `json:"emails"`
	Hashes  []string `json:"hashes"`
}

// Attachment is what was found in one attachment: the report of
// internal/mail/attach, with the findings of archive members folded in.
type Attachment struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Size     int64             `json:"size"`
	SHA256   string            `json:"sha256"`
	Findings []finding.Finding `json:"findings"`
}

// Result is the judgement on one message, in the shape "ward mail analyze
// -jsonl" prints.
type Result struct {
	File        string            `json:"file"`
	MessageID   string            `json:"message_id"`
	Subject     string            `json:"subject"`
	From        string            `json:"from"`
	Verdict     Verdict           `json:"verdict"`
	Score       int               `json:"score"`
	Reasons     []finding.Finding `json:"reasons"`
	IOCs        IOCs              `json:"iocs"`
	Attachments []Attachment      `json:"attachments"`
	// Errors are structural problems met and stepped over (broken MIME,
	// unknown charsets, undecodable parts).
	Errors []string `json:"errors"`
}
