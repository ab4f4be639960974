package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/ward-health/ward/internal/probe"
	"github.com/ward-health/ward/internal/store"
)

// Thresholds are the scores at which a finding turns suspicious and
// malicious.
type Thresholds struct {
	Suspicious, Malicious int
}

// weight is what one probe signal adds to a finding's score, and how it
// is said.
type weight struct {
	sig    probe.Signal
	points int
	reason string
}

// SignalListed is the engine's own signal: an indicator feed (an import,
// an analyst, another organisation's finding) lists the name.
const SignalListed probe.Signal = "listed"

// weights are the signals that raise a score, strongest evidence first.
// They are documented in docs/serve.md.
var weights = []weight{
	{probe.SignalLoginForm, 25, "the page asks for a password"},
	{SignalListed, 25, "an indicator feed lists it"},
	{probe.SignalPostsElsewhere, 15, "its login form posts to another domain"},
	{probe.SignalDownloadOffered, 20, "the page offers a download"},
	{probe.SignalSimilarToBrand, 20, "the page looks like the brand's own"},
	{probe.SignalSameFavicon, 15, "it shows the brand's favicon"},
	{probe.SignalSameTitle, 10, "its title is the brand's"},
	{probe.SignalBrandMentioned, 10, "the page names the brand"},
	{probe.SignalLiveHTTP, 10, "a web site answers"},
	{probe.SignalResolves, 10, "the name resolves"},
	{probe.SignalCanSendMail, 10, "it can send mail (MX or SPF)"},
	{probe.SignalFreshRegistration, 10, "registered in the last 30 days"},
	{probe.SignalPostsOverHTTP, 5, "its login form posts over plain http"},
	{probe.SignalPageRedirect, 5, "the page redirects elsewhere"},
	{probe.SignalSelfSigned, 5, "its HTTPS certificate is self-signed"},
	{probe.SignalCertNameMismatch, 5, "its HTTPS certificate is for another name"},
}

// Score turns a finding's match score and the signals of its latest check
// into a score (0 to 100), a state and the reasons, strongest first.
//
// The match score (how closely the name imitates the brand, 0 to 100)
// gives half the points; each signal adds its weight. A name that does
// not resolve, a parked one without a login form or download, or one with
// neither a web site nor mail, stays "watching" whatever its name: the name alone is not an attack yet, and
// re-checks will see it turn live. A wildcard zone's answers prove
// nothing, so resolving counts only without one.
func Score(matchScore int, sigs []probe.Signal, th Thresholds) (score int, state store.State, reasons []string) {
	has := func(s probe.Signal) bool { return slices.Contains(sigs, s) }
	score = matchScore / 2
	reasons = append(reasons, fmt.Sprintf("the name imitates the brand (match score %d)", matchScore))
	for _, w := range weights {
		if !has(w.sig) {
			continue
		}
		if w.sig == probe.SignalResolves && has(probe.SignalWildcard) {
			continue
		}
		score += w.points
		reasons = append(reasons, w.reason)
	}
	score = min(score, 100)
	dangerous := has(probe.SignalLoginForm) || has(probe.SignalDownloadOffered)
	switch {
	case has(probe.SignalNXDomain) || !has(probe.SignalResolves):
		reasons = append(reasons, "not live: the name does not resolve")
		return min(score, th.Suspicious-1), store.StateWatching, reasons
	case has(probe.SignalParked) && !dangerous:
		reasons = append(reasons, "parked: a parking service holds it")
		return min(score, th.Suspicious-1), store.StateWatching, reasons
	case !has(probe.SignalLiveHTTP) && !has(probe.SignalCanSendMail) && !dangerous:
		reasons = append(reasons, "not live yet: no web site and no mail")
		return min(score, th.Suspicious-1), store.StateWatching, reasons
	case score >= th.Malicious:
		return score, store.StateMalicious, reasons
	case score >= th.Suspicious:
		return score, store.StateSuspicious, reasons
	}
	return score, store.StateWatching, reasons
}

// nextCheck returns when a finding is checked again: first after base,
// then twice as long after each check that left the state as it was, up
// to limit.
func nextCheck(now time.Time, f store.Finding, changed bool, base, limit time.Duration) time.Time {
	iv := base
	if !changed && !f.LastChecked.IsZero() && f.NextCheck.After(f.LastChecked) {
		iv = min(2*f.NextCheck.Sub(f.LastChecked), limit)
	}
	return now.Add(max(iv, base))
}
