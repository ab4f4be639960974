package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/mail"
	"github.com/ward-health/ward/internal/mail/bayes"
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
	// learnPath is organisations[].mail_learning ("": learning is off);
	// learning is what the organisation's analysts taught, and model the
	// built-in model with it (nil: the built-in model).
	learnPath string
	learning  *bayes.Learning
	model     *bayes.Model
	// learnStat is the file as last read, learnChecked when it was last
	// looked at (see refreshLearning).
	learnStat    fileStat
	learnChecked time.Time
}

// ErrLearningOff is returned by LearnMail for an organisation without
// organisations[].mail_learning.
var ErrLearningOff = errors.New("mail learning is off for this organisation: set organisations[].mail_learning in the configuration")

// LearnReport says what teaching the classifier one message did.
type LearnReport struct {
	Org string `json:"org"`
	// Outcome is "learned", "relearned" (moved from the other class),
	// "already known", "no words", "forgotten" or "not learned" (forget
	// of a message never learned).
	Outcome string `json:"outcome"`
	// Spam, Ham and Words are what the organisation's learning holds now.
	Spam  int `json:"spam"`
	Ham   int `json:"ham"`
	Words int `json:"words"`
}

// openLearning reads the organisation's learning file, if it has one, and
// builds its model.
func (o *org) openLearning(path string) error {
	o.mail.learnPath = path
	if path == "" {
		return nil
	}
	o.mail.learnStat = statOf(path)
	l, err := bayes.ReadLearningFile(path)
	if err != nil {
		return fmt.Errorf("organisation %s: mail_learning: %w", o.name, err)
	}
	return o.setLearning(l)
}

// setLearning makes l the organisation's learning and rebuilds its model.
// The caller holds o.mail.mu or has o to itself.
func (o *org) setLearning(l *bayes.Learning) error {
	o.mail.learning, o.mail.model = l, nil
	if s, h, _ := l.Size(); s+h == 0 {
		return nil
	}
	base, err := bayes.Default()
	if err != nil {
		return err
	}
	m, err := l.Model(base)
	if err != nil {
		return fmt.Errorf("organisation %s: building the learned model: %w", o.name, err)
	}
	o.mail.model = m
	return nil
}

// LearnMail teaches the organisation's content classifier one reported
// message, as an analyst judged it: as "spam" (phishing, scam or bulk
// mail), as "ham" (legitimate), or "forget" it. The learning file is
// rewritten whole before LearnMail returns, and the next message judged
// for the organisation is classified with it.
func (e *Engine) LearnMail(ctx context.Context, orgName, as string, raw []byte) (LearnReport, error) {
	o := e.byName[orgName]
	if o == nil {
		return LearnReport{}, fmt.Errorf("no organisation %q", orgName)
	}
	if as != "spam" && as != "ham" && as != "forget" {
		return LearnReport{}, fmt.Errorf("learn the message as spam, ham or forget, not %q", as)
	}
	if o.mail.learnPath == "" {
		return LearnReport{}, ErrLearningOff
	}
	toks := bayes.Tokens(mail.ClassifierInput(ctx, raw))
	var outcome string
	// The file is the truth: read it under its lock, teach, write it back,
	// so that lessons given meanwhile by "ward mail learn" are kept.
	l, err := bayes.UpdateLearningFile(o.mail.learnPath, learnWait, func(l *bayes.Learning) (bool, error) {
		if as == "forget" {
			outcome = "not learned"
			if l.Forget(toks) {
				outcome = "forgotten"
			}
			return outcome == "forgotten", nil
		}
		got, err := l.Learn(toks, as == "spam")
		outcome = got.String()
		return err == nil && (got == bayes.Learned || got == bayes.Relearned), err
	})
	if err != nil {
		if errors.Is(err, bayes.ErrBusy) {
			return LearnReport{}, fmt.Errorf("%w: %v", ErrLearningBusy, err)
		}
		return LearnReport{}, err
	}
	o.mail.mu.Lock()
	defer o.mail.mu.Unlock()
	if err := o.setLearning(l); err != nil {
		return LearnReport{}, err
	}
	o.mail.learnStat, o.mail.learnChecked = statOf(o.mail.learnPath), e.now()
	if outcome == "learned" || outcome == "relearned" || outcome == "forgotten" {
		e.stats.add(&e.stats.MailLearned, 1)
	}
	s, h, n := l.Size()
	return LearnReport{Org: o.name, Outcome: outcome, Spam: s, Ham: h, Words: n}, nil
}

// learnWait is how long a lesson waits for the learning file's lock
// (held by "ward mail learn" while it reads its messages).
const learnWait = 5 * time.Second

// learnCheck is how often the daemon looks whether the learning file was
// changed by someone else ("ward mail learn") to read it again.
const learnCheck = 10 * time.Second

// ErrLearningBusy is returned by LearnMail when the learning file stays
// locked by another process.
var ErrLearningBusy = errors.New("the learning file is busy")

// fileStat is what tells that a file changed.
type fileStat struct {
	mod  time.Time
	size int64
}

func statOf(path string) fileStat {
	st, err := os.Stat(path)
	if err != nil {
		return fileStat{}
	}
	return fileStat{st.ModTime(), st.Size()}
}

// refreshLearning reads the organisation's learning file again when it
// changed since it was last read (checked every learnCheck). The caller
// holds o.mail.mu. A file that cannot be read now is left for the next
// check: the learning in memory stays.
func (e *Engine) refreshLearning(o *org) {
	if o.mail.learnPath == "" || e.now().Sub(o.mail.learnChecked) < learnCheck {
		return
	}
	o.mail.learnChecked = e.now()
	st := statOf(o.mail.learnPath)
	if st == o.mail.learnStat {
		return
	}
	l, err := bayes.ReadLearningFile(o.mail.learnPath)
	if err != nil {
		e.log.Warn("mail learning: the file changed but cannot be read; keeping the learning in memory", "org", o.name, "err", err)
		return
	}
	if err := o.setLearning(l); err != nil {
		e.log.Warn("mail learning: the file changed but gives no model; keeping the learning in memory", "org", o.name, "err", err)
		return
	}
	o.mail.learnStat = st
	e.log.Info("mail learning: read the file again after a change", "org", o.name)
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
	e.refreshLearning(o)
	return o.mail.analyzer.WithIOCs(o.mail.iocs).WithBayes(o.mail.model), nil
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
