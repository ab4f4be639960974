package probe

import "time"

// Signal is a named fact about a probed name that the scorer weighs. Each
// is documented in docs/probe.md.
type Signal string

// The signals, in the order Signals returns them.
const (
	SignalResolves          Signal = "resolves"           // A or AAAA record
	SignalNXDomain          Signal = "nxdomain"           // the name does not exist
	SignalWildcard          Signal = "wildcard"           // a random label under the zone resolves too
	SignalParked            Signal = "parked"             // NS or CNAME at a parking service
	SignalCanSendMail       Signal = "can_send_mail"      // MX, or SPF that lets someone send
	SignalLiveHTTP          Signal = "live_http"          // an HTTP(S) fetch ended in a 2xx/3xx page
	SignalLoginForm         Signal = "login_form"         // a form with a password field
	SignalPostsElsewhere    Signal = "posts_elsewhere"    // a login form posts to another domain
	SignalPostsOverHTTP     Signal = "posts_over_http"    // a login form posts over plain http
	SignalDownloadOffered   Signal = "download_offered"   // risky file links, attachment, non-HTML page
	SignalPageRedirect      Signal = "page_redirect"      // meta refresh or script location target
	SignalBrandMentioned    Signal = "brand_mentioned"    // a brand name or official domain in the text
	SignalSimilarToBrand    Signal = "similar_to_brand"   // SimHash similarity >= 0.8
	SignalSameFavicon       Signal = "same_favicon"       // the brand's favicon, byte for byte
	SignalSameTitle         Signal = "same_title"         // the brand's page title
	SignalSelfSigned        Signal = "self_signed"        // HTTPS certificate signed by itself
	SignalCertNameMismatch  Signal = "cert_name_mismatch" // HTTPS certificate does not cover the name
	SignalGuardRefused      Signal = "guard_refused"      // a redirect or address pointed inside
	SignalFreshRegistration Signal = "fresh_registration" // registered less than 30 days before the check
)

// SimilarThreshold is the SimHash similarity from which a page counts as
// similar to the brand's.
const SimilarThreshold = 0.8

// FreshRegistration is the age under which a registration is fresh.
const FreshRegistration = 30 * 24 * time.Hour

// Signals returns the signals the evidence shows, in a fixed order.
func (e *Evidence) Signals() []Signal {
	var out []Signal
	add := func(ok bool, s Signal) {
		if ok {
			out = append(out, s)
		}
	}
	d := &e.DNS
	add(d.Status == OutcomeOK, SignalResolves)
	add(d.Status == OutcomeNXDomain, SignalNXDomain)
	add(d.Wildcard, SignalWildcard)
	add(d.Parked, SignalParked)
	add(d.CanSendMail, SignalCanSendMail)
	add(e.Web.Final() != nil, SignalLiveHTTP)
	c := e.Content
	if c == nil {
		c = &Content{}
	}
	add(c.LoginForm, SignalLoginForm)
	add(c.PostsElsewhere, SignalPostsElsewhere)
	add(c.PostsOverHTTP, SignalPostsOverHTTP)
	add(len(c.Downloads) > 0, SignalDownloadOffered)
	add(len(c.Redirects) > 0, SignalPageRedirect)
	add(len(c.BrandMentions) > 0, SignalBrandMentioned)
	s := e.Similarity
	if s == nil {
		s = &Similarity{}
	}
	add(s.Score >= SimilarThreshold, SignalSimilarToBrand)
	add(s.SameFavicon, SignalSameFavicon)
	add(s.SameTitle, SignalSameTitle)
	var t *TLSInfo
	if e.Web.HTTPS != nil {
		t = e.Web.HTTPS.TLS
	}
	add(t != nil && t.SelfSigned, SignalSelfSigned)
	add(t != nil && t.NameMismatch, SignalCertNameMismatch)
	add((e.Web.HTTPS != nil && e.Web.HTTPS.Refused) || (e.Web.HTTP != nil && e.Web.HTTP.Refused), SignalGuardRefused)
	add(e.RDAP != nil && e.RDAP.Registered != nil && e.CheckedAt.Sub(*e.RDAP.Registered) < FreshRegistration, SignalFreshRegistration)
	return out
}
