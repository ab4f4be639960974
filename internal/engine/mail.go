package engine

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/mail"
	"github.com/ward-health/ward/internal/store"
)

// mailIOCRefresh is how long an organisation's set of known indicators
// serves mail analysis before it is read again from the store.
const mailIOCRefresh = time.Minute

// maxMailIndicators bounds the indicators one message records.
const maxMailIndicators = 200

// mailState is the per-organisation mail analysis state: the analyzer,
// built once, and the indicators it matches, refreshed from the store.
type mailState struct {
	mu       sync.Mutex
	analyzer *mail.Analyzer
	iocs     *mail.IOCSet
	iocsAt   time.Time
}

// MailReport is the judgement on one submitted message and what it
// added to the feeds.
type MailReport struct {
	mail.Result
	// Recorded are the indicators recorded from it (its verdict is one of
	// feeds.mail_verdicts).
	Recorded []store.Indicator `json:"recorded"`
}

// AnalyzeMail judges a message reported by the organisation's staff with
// the organisation's brands and own domains and every indicator it sees
// (imports included), and records the message's indicators when its
// verdict is one of feeds.mail_verdicts: the URLs of its links whose host
// imitates a brand or is a bare address, the SHA-256 of attachments with
// findings, and sender addresses and domains that imitate a brand. Nothing
// on the warninglist is recorded.
func (e *Engine) AnalyzeMail(ctx context.Context, orgName, name string, raw []byte) (MailReport, error) {
	o := e.byName[orgName]
	if o == nil {
		return MailReport{}, fmt.Errorf("no organisation %q", orgName)
	}
	a, err := e.mailAnalyzer(ctx, o)
	if err != nil {
		return MailReport{}, err
	}
	rep := MailReport{Result: a.Analyze(ctx, name, raw)}
	e.stats.add(&e.stats.MailAnalysed, 1)
	if !slices.Contains(e.cfg.Feeds.MailVerdicts, string(rep.Verdict)) {
		return rep, nil
	}
	inds := e.mailIndicators(o, rep.Result)
	if len(inds) == 0 {
		return rep, nil
	}
	if _, _, err := e.st.UpsertIndicators(ctx, inds); err != nil {
		return rep, fmt.Errorf("recording the indicators of the message: %w", err)
	}
	rep.Recorded = inds
	e.stats.add(&e.stats.MailIndicators, int64(len(inds)))
	return rep, nil
}

// mailAnalyzer returns the organisation's analyzer with its current
// indicators.
func (e *Engine) mailAnalyzer(ctx context.Context, o *org) (*mail.Analyzer, error) {
	o.mail.mu.Lock()
	defer o.mail.mu.Unlock()
	if o.mail.analyzer == nil {
		var own, trusted []string
		for _, oc := range e.cfg.Organisations {
			if oc.Name == o.name {
				own, trusted = oc.OwnDomains, oc.TrustedReceivers
			}
		}
		a, err := mail.NewAnalyzer(mail.Config{Brands: o.brands, Matcher: o.matcher, OwnDomains: own, OwnNames: []string{o.display},
			TrustedReceivers: trusted, Resolver: e.dkimResolver()})
		if err != nil {
			return nil, fmt.Errorf("organisation %s: building the mail analyzer: %w", o.name, err)
		}
		o.mail.analyzer = a
	}
	if o.mail.iocs == nil || e.now().Sub(o.mail.iocsAt) > mailIOCRefresh {
		set, err := e.knownIndicators(ctx, o.name)
		if err != nil {
			return nil, err
		}
		o.mail.iocs, o.mail.iocsAt = set, e.now()
	}
	return o.mail.analyzer.WithIOCs(o.mail.iocs), nil
}

// dkimResolver returns the resolver DKIM keys are looked up with: the
// first of enrichment.resolvers, else the system's.
func (e *Engine) dkimResolver() mail.Resolver {
	rs := e.cfg.Enrichment.Resolvers
	if len(rs) == 0 {
		return net.DefaultResolver
	}
	return mail.ResolverAt(rs[0])
}

// knownIndicators reads every standing indicator the organisation sees.
func (e *Engine) knownIndicators(ctx context.Context, org string) (*mail.IOCSet, error) {
	now := e.now()
	var all []intel.Indicator
	for in, err := range store.AllIndicators(ctx, e.st, store.IndicatorFilter{Org: org, Now: now}) {
		if err != nil {
			return nil, fmt.Errorf("reading the indicators mail is matched against: %w", err)
		}
		all = append(all, in.Intel())
	}
	return mail.IOCsFrom(all, now), nil
}

// mailIndicators picks what a judged message adds to the feeds.
func (e *Engine) mailIndicators(o *org, r mail.Result) []store.Indicator {
	fc := e.cfg.Feeds
	now := e.now()
	desc := fmt.Sprintf("reported mail judged %s: %q", r.Verdict, clipRunes(r.Subject, 120))
	var out []store.Indicator
	seen := map[string]bool{}
	add := func(x intel.Indicator, err error, brand string, confidence int) {
		if err != nil || seen[string(x.Type)+" "+x.Value] || len(out) >= maxMailIndicators || e.warn.Contains(x) {
			return
		}
		seen[string(x.Type)+" "+x.Value] = true
		out = append(out, store.Indicator{Org: o.name, Scope: fc.Scope, Type: string(x.Type), Value: x.Value,
			Source: intel.SourceMail, Confidence: confidence, TLP: fc.TLP, Brand: brand, Description: desc,
			LastSeen: now, ValidUntil: now.Add(fc.ValidFor)})
	}
	for _, at := range r.Attachments {
		if len(at.Findings) > 0 && at.SHA256 != "" {
			x, err := intel.Parse(intel.TypeSHA256, at.SHA256)
			add(x, err, "", 80)
		}
	}
	// Links count only when their host imitates a brand or is a bare
	// address: a phishing mail also links to real sites (the brand's own,
	// a partner's, a victim's), and recording those would let anyone who
	// sends a phishing mail get a real site blocked.
	for _, u := range r.IOCs.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Hostname() == "" {
			continue
		}
		brand := ""
		if _, err := netip.ParseAddr(pu.Hostname()); err != nil {
			m, matched, _ := o.matcher.Match(pu.Hostname())
			if !matched {
				continue
			}
			brand = m.Brand
		}
		x, err := intel.Parse(intel.TypeURL, u)
		add(x, err, brand, 60)
	}
	// Sender addresses and domains count only when they imitate a brand:
	// a From address can be forged to any real one.
	for _, em := range r.IOCs.Emails {
		_, dom, ok := strings.Cut(em, "@")
		if !ok {
			continue
		}
		m, matched, _ := o.matcher.Match(dom)
		if !matched {
			continue
		}
		x, err := intel.Parse(intel.TypeEmail, em)
		add(x, err, m.Brand, 70)
		d, err := intel.Parse(intel.TypeDomain, dom)
		add(d, err, m.Brand, 70)
	}
	return out
}

// clipRunes shortens s to at most n runes.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
