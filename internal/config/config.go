// Package config reads and checks the configuration of ward serve: the
// organisations it protects and their brands, its sources of names, how it
// enriches and scores look-alikes, where it sends alerts and keeps its data.
//
// A configuration is one YAML file. Every field is checked when it is
// loaded; an error names the file, the line, the field and the fix.
// ${NAME} in a value is replaced by the environment variable NAME (for
// secrets: tokens, passwords, DSNs); $$ stands for a literal $.
package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/ward-health/ward/examples"
	"github.com/ward-health/ward/internal/alert"
	"github.com/ward-health/ward/internal/brand"
)

// Config is the whole configuration of ward serve.
type Config struct {
	// Organisations are the tenants: each sees only its own findings. At
	// least one.
	Organisations []Organisation `yaml:"organisations"`
	// Sources are where new names come from.
	Sources Sources `yaml:"sources"`
	// Enrichment says how look-alikes are probed.
	Enrichment Enrichment `yaml:"enrichment"`
	// Scoring turns evidence into states.
	Scoring Scoring `yaml:"scoring"`
	// Alerts are the sinks findings' state changes are sent to.
	Alerts Alerts `yaml:"alerts"`
	// Feeds says how findings become shared indicators.
	Feeds Feeds `yaml:"feeds"`
	// Storage is where findings, evidence, positions and alerts are kept.
	Storage Storage `yaml:"storage"`
	// API is the HTTP listener of the API and the metrics.
	API API `yaml:"api"`
}

// Organisation is one tenant.
type Organisation struct {
	// Name is the tenant's key: lower-case letters, digits and hyphens,
	// unique ("umc-utrecht").
	Name string `yaml:"name"`
	// DisplayName is shown in alerts and the web page; default Name.
	DisplayName string `yaml:"display_name"`
	// Tokens are the API bearer tokens of the organisation (use ${ENV}).
	// Empty: ward serve generates one at first start and keeps it in the
	// data directory.
	Tokens []string `yaml:"tokens"`
	// BrandsFile is a brands file (the look-alike engine's format, YAML or
	// one domain per line); relative to the configuration file.
	BrandsFile string `yaml:"brands_file"`
	// Brands are brands given inline, with the brands file's fields.
	Brands []BrandSpec `yaml:"brands"`
	// TrustedReceivers are the authserv-ids of the organisation's own mail
	// servers (the first word of their Authentication-Results headers,
	// e.g. mx.umc-example.nl): reported mail's SPF, DKIM and DMARC results
	// are believed from them only.
	TrustedReceivers []string `yaml:"trusted_receivers"`
	// MailLearning is the file in which ward serve keeps what the
	// organisation's analysts teach the content classifier through POST
	// /api/v1/mail/learn (the format of "ward mail learn -db"); relative
	// to the configuration file. Empty: learning is off.
	MailLearning string `yaml:"mail_learning"`
	// RPZKey names the TSIG key (under feeds.rpz.dns.keys) with which
	// the organisation's resolvers transfer its zone.
	RPZKey string `yaml:"rpz_key"`
	// OwnDomains are the organisation's own mail and web domains (for
	// mail triage: a display name naming them from outside is suspect).
	OwnDomains []string `yaml:"own_domains"`
	// Alerts names the sinks this organisation's alerts go to; empty: all.
	Alerts []string `yaml:"alerts"`

	// BrandSet is the organisation's brands, read and checked by Load.
	BrandSet *brand.Set `yaml:"-"`
}

// BrandSpec is one brand written inline, with the fields of a brands file.
type BrandSpec struct {
	Name         string   `yaml:"name"`
	Organisation string   `yaml:"organisation"`
	Domains      []string `yaml:"domains"`
	Names        []string `yaml:"names"`
	Keywords     []string `yaml:"keywords"`
	Allowlist    []string `yaml:"allowlist"`
}

// Sources are where names come from.
type Sources struct {
	CT    CT      `yaml:"ct"`
	NRD   []NRD   `yaml:"nrd"`
	Sweep []Sweep `yaml:"sweeps"`
}

// CT configures Certificate Transparency following.
type CT struct {
	// Enabled turns CT following on; default true.
	Enabled *bool `yaml:"enabled"`
	// LogList is a Chrome v3 log list file or URL; "" is the list built
	// into ward; "none" follows only Logs.
	LogList string `yaml:"log_list"`
	// Logs are extra logs to follow besides the list's.
	Logs []CTLog `yaml:"logs"`
	// Start is where a log never followed before begins: "now" (default)
	// or "start" (its first entry: hours of backlog on real logs).
	Start string `yaml:"start"`
	// Poll is how often a caught-up log is asked for news; default 1s,
	// at least 100ms.
	Poll time.Duration `yaml:"poll"`
	// Concurrency is the requests in flight per log; default 4, 1 to 64.
	Concurrency int `yaml:"concurrency"`
}

// On reports whether CT following is enabled.
func (c CT) On() bool { return c.Enabled == nil || *c.Enabled }

// CTLog is one log given by hand.
type CTLog struct {
	URL  string `yaml:"url"`
	Key  string `yaml:"key"`  // base64 DER public key
	Type string `yaml:"type"` // "rfc6962" (default) or "static"
}

// NRD is a newly-registered-domain list polled on a schedule: one domain
// per line, # comments, gzip allowed.
type NRD struct {
	// Name identifies the list in findings' observations; default the
	// file or URL.
	Name string `yaml:"name"`
	// URL (http or https) or File; exactly one.
	URL  string `yaml:"url"`
	File string `yaml:"file"`
	// Every is the polling interval; default 1h, at least 1m.
	Every time.Duration `yaml:"every"`
}

// Sweep generates look-alikes of every brand and resolves them.
type Sweep struct {
	// Every is the interval between sweeps; default 24h, at least 1h.
	Every time.Duration `yaml:"every"`
	// Fuzzers are the generators to use (ward lookalikes -h lists them);
	// empty: ward's default set.
	Fuzzers []string `yaml:"fuzzers"`
	// TLDs for tld-swap; empty: ward's default list.
	TLDs []string `yaml:"tlds"`
}

// Enrichment says how look-alikes are probed.
type Enrichment struct {
	// Resolvers are DNS servers, "host:port"; empty: /etc/resolv.conf's.
	Resolvers []string `yaml:"resolvers"`
	// Concurrency is the probes in flight; default 8, 1 to 256.
	Concurrency int `yaml:"concurrency"`
	// RateLimit is the probes started per second, all together; default
	// 5, at most 1000.
	RateLimit float64 `yaml:"rate_limit"`
	// Timeout bounds each DNS query and each HTTP fetch; default 15s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxBody is the bytes read of each web response; default 2 MiB,
	// 1 KiB to 64 MiB.
	MaxBody int64 `yaml:"max_body"`
	// AllowPrivateTargets lets probes reach loopback, private, link-local
	// and cloud-metadata addresses. Default false: a look-alike that
	// resolves to 10.0.0.1 is not fetched. Only for tests.
	AllowPrivateTargets bool `yaml:"allow_private_targets"`
	// Browser takes screenshots with a headless Chromium when one is
	// installed; default false.
	Browser bool `yaml:"browser"`
	// RDAPBase is an RDAP server's base URL for registration data; ""
	// turns RDAP off.
	RDAPBase string `yaml:"rdap_base"`
}

// Scoring turns a finding's evidence into a state.
type Scoring struct {
	// Suspicious and Malicious are the score thresholds of those states,
	// 0 to 100, Suspicious < Malicious; defaults 50 and 80.
	Suspicious int `yaml:"suspicious"`
	Malicious  int `yaml:"malicious"`
	// Recheck is the first interval between checks of a finding; it
	// doubles after each check that changes nothing, up to RecheckMax.
	// Defaults 1h and 168h (a week).
	Recheck    time.Duration `yaml:"recheck"`
	RecheckMax time.Duration `yaml:"recheck_max"`
}

// Alerts holds the alert sinks.
type Alerts struct {
	// Sinks are the destinations, each with a unique name; their fields
	// are alert.Config's (see examples/ward.yaml and docs/alerts.md).
	Sinks []alert.Config `yaml:"sinks"`
}

// Feeds says how findings become indicators for the feeds (RPZ, STIX,
// MISP, CSV, hosts).
type Feeds struct {
	// AutoIndicators makes every finding that turns malicious (by a check
	// or an analyst's confirmation) an indicator, removed again when an
	// analyst dismisses the finding; default true.
	AutoIndicators *bool `yaml:"auto_indicators"`
	// Scope of those indicators: "shared" (default: every organisation of
	// this ward blocks them) or "private".
	Scope string `yaml:"scope"`
	// TLP of those indicators: clear, green (default), amber,
	// amber+strict or red.
	TLP string `yaml:"tlp"`
	// ValidFor is how long such an indicator lasts after its finding was
	// last found malicious; default 2160h (90 days).
	ValidFor time.Duration `yaml:"valid_for"`
	// MailVerdicts are the verdicts of mail submitted to the API whose
	// indicators (link URLs, attachment hashes, the sender) are recorded;
	// default [malicious, phishing]; [] turns it off.
	MailVerdicts []string `yaml:"mail_verdicts"`
	// ExportTLP is the narrowest TLP the feeds carry: clear, green, amber
	// (default) or amber+strict. Red indicators are never exported.
	ExportTLP string `yaml:"export_tlp"`
	// Warninglist holds names never exported or blocked.
	Warninglist Warninglist `yaml:"warninglist"`
	// RPZ is the DNS response policy zone.
	RPZ RPZ `yaml:"rpz"`
	// Imports are feeds of others that ward reads on a schedule.
	Imports []Import `yaml:"imports"`
}

// Warninglist configures the names ward never exports or blocks, on top of
// the built-in list and every organisation's official brand domains.
type Warninglist struct {
	// TopLists are files of popular benign domains (Tranco or Umbrella
	// exports: "rank,domain" or one domain per line), relative to the
	// configuration file.
	TopLists []string `yaml:"top_lists"`
	// TopN is how many lines of each top list are read; default 10000.
	TopN int `yaml:"top_n"`
	// Domains are more names never blocked, each with its subdomains.
	Domains []string `yaml:"domains"`
}

// RPZ configures the response policy zones: one per organisation, named
// ORG.ORIGIN, served over HTTP (/feeds/rpz) and, with dns.listen, by zone
// transfer.
type RPZ struct {
	// Origin is the parent of the zones' names; default rpz.ward.invalid.
	Origin string `yaml:"origin"`
	// WalledGarden is a host name blocked names are sent to (a page that
	// tells staff why); empty: blocked names answer NXDOMAIN.
	WalledGarden string `yaml:"walled_garden"`
	// Passthru are names resolvers must answer normally whatever other
	// policy zones say.
	Passthru []string `yaml:"passthru"`
	// TTL of the records; default 5m.
	TTL time.Duration `yaml:"ttl"`
	// DNS serves the zones by AXFR and IXFR.
	DNS RPZDNS `yaml:"dns"`
	// BlockPage is the page ward serves at the walled garden's address.
	BlockPage BlockPage `yaml:"block_page"`
}

// BlockPage is the page blocked names lead to when walled_garden points
// at ward: whatever name was asked for, it tells staff it was blocked and
// why.
type BlockPage struct {
	// Listen is its HTTP address, e.g. 0.0.0.0:80; empty: no page.
	Listen string `yaml:"listen"`
	// Org is the organisation whose indicators explain the block; default:
	// the only organisation (required when there are several).
	Org string `yaml:"org"`
	// Title names who blocks, e.g. "UMC Example IT security".
	Title string `yaml:"title"`
	// Contact says how staff reach the security team.
	Contact string `yaml:"contact"`
}

// RPZDNS configures the zone-transfer server.
type RPZDNS struct {
	// Listen is the UDP and TCP address, e.g. 0.0.0.0:5353; empty: no
	// DNS server.
	Listen string `yaml:"listen"`
	// Keys are TSIG keys; an organisation's rpz_key names the one its
	// resolvers sign with.
	Keys []TSIGKey `yaml:"keys"`
	// AllowUnsigned are address prefixes that may transfer without TSIG,
	// e.g. [127.0.0.1/32]; default none.
	AllowUnsigned []string `yaml:"allow_unsigned"`
	// Notify are resolvers (host:port) told of every new serial.
	Notify []string `yaml:"notify"`
}

// TSIGKey is a shared secret for signed zone transfers.
type TSIGKey struct {
	// Name as the resolver's configuration names it, e.g. ward-rpz.
	Name string `yaml:"name"`
	// Algorithm: hmac-sha256 (default), hmac-sha512 or hmac-sha1.
	Algorithm string `yaml:"algorithm"`
	// Secret in base64 (use ${ENV}), e.g. from `tsig-keygen`.
	Secret string `yaml:"secret"`
}

// Import is a feed of others read on a schedule.
type Import struct {
	// Name identifies it in logs, metrics and the indicators' source.
	Name string `yaml:"name"`
	// URL is an http(s) URL or a local path.
	URL string `yaml:"url"`
	// Format: misp (a MISP feed directory), stix (a bundle), taxii (a
	// TAXII 2.1 server) or list (one indicator per line).
	Format string `yaml:"format"`
	// Collection is the TAXII collection's id or title.
	Collection string `yaml:"collection"`
	// APIRoot is the TAXII API root URL; default: from discovery.
	APIRoot string `yaml:"api_root"`
	// Token is sent as a bearer token; Username and Password as basic
	// authentication (use ${ENV}).
	Token    string `yaml:"token"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Headers are extra request headers.
	Headers map[string]string `yaml:"headers"`
	// Every is how often it is read; default 1h.
	Every time.Duration `yaml:"every"`
	// Org, when set, keeps the indicators private to that organisation;
	// empty: every organisation uses them.
	Org string `yaml:"org"`
	// TLP given to indicators the feed does not mark; default amber.
	TLP string `yaml:"tlp"`
	// Reshare puts the imported indicators in ward's own feeds too;
	// default false: they serve mail triage and scoring only.
	Reshare bool `yaml:"reshare"`
	// MaxBytes bounds one download; default and most 64 MiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxIndicators bounds one read; default 1000000.
	MaxIndicators int `yaml:"max_indicators"`
	// Timeout of one read; default 2m.
	Timeout time.Duration `yaml:"timeout"`
}

// Auto reports whether findings become indicators.
func (f Feeds) Auto() bool { return f.AutoIndicators == nil || *f.AutoIndicators }

// Storage is where ward keeps its data.
type Storage struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// Path is the SQLite database file; default ./ward-data/ward.db,
	// relative to the working directory.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string (use ${ENV} for it).
	DSN string `yaml:"dsn"`
}

// API is the HTTP listener.
type API struct {
	// Listen is the address; default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
}

// Default returns the configuration ward serve runs on without a file: a
// demo organisation protecting the built-in health brand set, SQLite
// under ./ward-data/, the built-in CT log list, API and metrics on
// 127.0.0.1:8080.
func Default() *Config {
	set, err := brand.Parse("built-in brands-health.yaml", examples.HealthBrands)
	if err != nil {
		panic("config: the built-in brand set does not parse: " + err.Error())
	}
	c := &Config{Organisations: []Organisation{{Name: "demo", DisplayName: "Demo (health brand set)", BrandSet: set}}}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	ct := &c.Sources.CT
	if ct.Start == "" {
		ct.Start = "now"
	}
	if ct.Poll == 0 {
		ct.Poll = time.Second
	}
	if ct.Concurrency == 0 {
		ct.Concurrency = 4
	}
	for i := range c.Sources.NRD {
		n := &c.Sources.NRD[i]
		if n.Every == 0 {
			n.Every = time.Hour
		}
		if n.Name == "" {
			n.Name = n.URL + n.File
		}
	}
	for i := range c.Sources.Sweep {
		if c.Sources.Sweep[i].Every == 0 {
			c.Sources.Sweep[i].Every = 24 * time.Hour
		}
	}
	e := &c.Enrichment
	if e.Concurrency == 0 {
		e.Concurrency = 8
	}
	if e.RateLimit == 0 {
		e.RateLimit = 5
	}
	if e.Timeout == 0 {
		e.Timeout = 15 * time.Second
	}
	if e.MaxBody == 0 {
		e.MaxBody = 2 << 20
	}
	s := &c.Scoring
	if s.Suspicious == 0 {
		s.Suspicious = 50
	}
	if s.Malicious == 0 {
		s.Malicious = 80
	}
	if s.Recheck == 0 {
		s.Recheck = time.Hour
	}
	if s.RecheckMax == 0 {
		s.RecheckMax = 168 * time.Hour
	}
	if c.Feeds.Scope == "" {
		c.Feeds.Scope = "shared"
	}
	if c.Feeds.TLP == "" {
		c.Feeds.TLP = "green"
	}
	if c.Feeds.ValidFor == 0 {
		c.Feeds.ValidFor = 90 * 24 * time.Hour
	}
	fd := &c.Feeds
	if fd.MailVerdicts == nil {
		fd.MailVerdicts = []string{"malicious", "phishing"}
	}
	if fd.ExportTLP == "" {
		fd.ExportTLP = "amber"
	}
	if fd.Warninglist.TopN == 0 {
		fd.Warninglist.TopN = 10000
	}
	if fd.RPZ.Origin == "" {
		fd.RPZ.Origin = "rpz.ward.invalid"
	}
	if fd.RPZ.TTL == 0 {
		fd.RPZ.TTL = 5 * time.Minute
	}
	for i := range fd.RPZ.DNS.Keys {
		if fd.RPZ.DNS.Keys[i].Algorithm == "" {
			fd.RPZ.DNS.Keys[i].Algorithm = "hmac-sha256"
		}
	}
	for i := range fd.Imports {
		im := &fd.Imports[i]
		if im.Every == 0 {
			im.Every = time.Hour
		}
		if im.TLP == "" {
			im.TLP = "amber"
		}
		if im.MaxBytes == 0 {
			im.MaxBytes = 64 << 20
		}
		if im.MaxIndicators == 0 {
			im.MaxIndicators = 1_000_000
		}
		if im.Timeout == 0 {
			im.Timeout = 2 * time.Minute
		}
	}
	if c.Storage.Driver == "" {
		c.Storage.Driver = "sqlite"
	}
	if c.Storage.Driver == "sqlite" && c.Storage.Path == "" {
		c.Storage.Path = "ward-data/ward.db"
	}
	if c.API.Listen == "" {
		c.API.Listen = "127.0.0.1:8080"
	}
}

// keyName is a TSIG key name: a domain name of lower-case labels.
var keyName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?){0,5}$`)

var slug = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// check validates the configuration after defaults; fieldErr reports a
// problem at a field path, e.g. "organisations[0].name".
func (c *Config) check(fieldErr func(path, msg string)) {
	if len(c.Organisations) == 0 {
		fieldErr("organisations", "no organisation: add one with a name and brands")
	}
	orgs := map[string]bool{}
	sinks := map[string]bool{}
	for i, k := range c.Alerts.Sinks {
		p := fmt.Sprintf("alerts.sinks[%d]", i)
		checkName(p+".name", k.Name, "", "give each sink its own name", sinks, fieldErr)
		if err := k.Validate(); err != nil {
			fieldErr(p, err.Error())
		}
	}
	for i, o := range c.Organisations {
		p := fmt.Sprintf("organisations[%d]", i)
		checkName(p+".name", o.Name, ", e.g. umc-utrecht", "organisation names must be unique", orgs, fieldErr)
		for j, t := range o.Tokens {
			if len(t) < 16 {
				fieldErr(fmt.Sprintf("%s.tokens[%d]", p, j), "shorter than 16 characters: use a long random token, e.g. from `openssl rand -hex 32`")
			}
		}
		for j, r := range o.TrustedReceivers {
			if r == "" || len(r) > 253 || strings.ContainsAny(r, " \t;") {
				fieldErr(fmt.Sprintf("%s.trusted_receivers[%d]", p, j), fmt.Sprintf("%q is not an authserv-id: give the first word of your mail server's Authentication-Results, e.g. mx.umc-example.nl", r))
			}
		}
		for j, d := range o.OwnDomains {
			if _, err := brand.NormalizeDomain(d); err != nil {
				fieldErr(fmt.Sprintf("%s.own_domains[%d]", p, j), err.Error())
			}
		}
		for j, s := range o.Alerts {
			if !sinks[s] {
				fieldErr(fmt.Sprintf("%s.alerts[%d]", p, j), fmt.Sprintf("no sink named %q under alerts.sinks", s))
			}
		}
	}
	ct := c.Sources.CT
	if ct.Start != "now" && ct.Start != "start" {
		fieldErr("sources.ct.start", fmt.Sprintf("%q: use now or start", ct.Start))
	}
	if ct.Poll < 100*time.Millisecond {
		fieldErr("sources.ct.poll", fmt.Sprintf("%v is too short: at least 100ms", ct.Poll))
	}
	if ct.Concurrency < 1 || ct.Concurrency > 64 {
		fieldErr("sources.ct.concurrency", fmt.Sprintf("%d is out of range: 1 to 64", ct.Concurrency))
	}
	if ct.LogList != "" && strings.Contains(ct.LogList, "://") {
		checkURL("sources.ct.log_list", ct.LogList, fieldErr)
	}
	for i, l := range ct.Logs {
		p := fmt.Sprintf("sources.ct.logs[%d]", i)
		checkURL(p+".url", l.URL, fieldErr)
		if l.Key == "" {
			fieldErr(p+".key", "missing: give the log's public key, base64 DER")
		}
		if l.Type != "" && l.Type != "rfc6962" && l.Type != "static" {
			fieldErr(p+".type", fmt.Sprintf("%q: use rfc6962 or static", l.Type))
		}
	}
	for i, n := range c.Sources.NRD {
		p := fmt.Sprintf("sources.nrd[%d]", i)
		switch {
		case (n.URL == "") == (n.File == ""):
			fieldErr(p, "give exactly one of url and file")
		case n.URL != "":
			checkURL(p+".url", n.URL, fieldErr)
		}
		if n.Every < time.Minute {
			fieldErr(p+".every", fmt.Sprintf("%v is too short: at least 1m", n.Every))
		}
	}
	for i, s := range c.Sources.Sweep {
		if s.Every < time.Hour {
			fieldErr(fmt.Sprintf("sources.sweeps[%d].every", i), fmt.Sprintf("%v is too short: at least 1h", s.Every))
		}
	}
	e := c.Enrichment
	for i, r := range e.Resolvers {
		if _, _, err := net.SplitHostPort(r); err != nil {
			fieldErr(fmt.Sprintf("enrichment.resolvers[%d]", i), fmt.Sprintf("%q is not host:port, e.g. 9.9.9.9:53", r))
		}
	}
	if e.Concurrency < 1 || e.Concurrency > 256 {
		fieldErr("enrichment.concurrency", fmt.Sprintf("%d is out of range: 1 to 256", e.Concurrency))
	}
	if e.RateLimit <= 0 || e.RateLimit > 1000 {
		fieldErr("enrichment.rate_limit", fmt.Sprintf("%v is out of range: more than 0, at most 1000 probes a second", e.RateLimit))
	}
	if e.Timeout < time.Second || e.Timeout > 5*time.Minute {
		fieldErr("enrichment.timeout", fmt.Sprintf("%v is out of range: 1s to 5m", e.Timeout))
	}
	if e.MaxBody < 1<<10 || e.MaxBody > 64<<20 {
		fieldErr("enrichment.max_body", fmt.Sprintf("%d bytes is out of range: 1024 to 67108864", e.MaxBody))
	}
	if e.RDAPBase != "" {
		checkURL("enrichment.rdap_base", e.RDAPBase, fieldErr)
	}
	s := c.Scoring
	if s.Suspicious < 1 || s.Malicious > 100 || s.Suspicious >= s.Malicious {
		fieldErr("scoring", fmt.Sprintf("suspicious %d and malicious %d: need 1 ≤ suspicious < malicious ≤ 100", s.Suspicious, s.Malicious))
	}
	if s.Recheck < time.Minute || s.RecheckMax < s.Recheck {
		fieldErr("scoring.recheck", fmt.Sprintf("recheck %v and recheck_max %v: need at least 1m, and recheck_max ≥ recheck", s.Recheck, s.RecheckMax))
	}
	if c.Feeds.Scope != "shared" && c.Feeds.Scope != "private" {
		fieldErr("feeds.scope", fmt.Sprintf("%q: use shared or private", c.Feeds.Scope))
	}
	checkTLP("feeds.tlp", c.Feeds.TLP, fieldErr)
	if c.Feeds.ValidFor < time.Hour {
		fieldErr("feeds.valid_for", fmt.Sprintf("%v is too short: at least 1h", c.Feeds.ValidFor))
	}
	c.checkFeeds(orgs, fieldErr)
	switch c.Storage.Driver {
	case "sqlite":
		if c.Storage.Path == "" {
			fieldErr("storage.path", "missing: give the SQLite file, e.g. ward-data/ward.db")
		}
	case "postgres":
		if c.Storage.DSN == "" {
			fieldErr("storage.dsn", "missing: give the PostgreSQL connection string, e.g. dsn: ${WARD_POSTGRES_DSN}")
		}
	default:
		fieldErr("storage.driver", fmt.Sprintf("%q: use sqlite or postgres", c.Storage.Driver))
	}
	if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
		fieldErr("api.listen", fmt.Sprintf("%q is not host:port, e.g. 127.0.0.1:8080", c.API.Listen))
	}
}

// checkName checks a name of lower-case letters, digits and hyphens that
// must be unique among seen, and adds it there; example follows the rule
// in the message, dup says what to do about a second use.
func checkName(path, name, example, dup string, seen map[string]bool, fieldErr func(path, msg string)) {
	switch {
	case !slug.MatchString(name):
		fieldErr(path, fmt.Sprintf("%q is not a name: use lower-case letters, digits and hyphens%s", name, example))
	case seen[name]:
		fieldErr(path, fmt.Sprintf("%q is used twice: %s", name, dup))
	}
	seen[name] = true
}

func checkTLP(path, tlp string, fieldErr func(path, msg string)) {
	switch tlp {
	case "clear", "green", "amber", "amber+strict", "red":
	default:
		fieldErr(path, fmt.Sprintf("%q: use clear, green, amber, amber+strict or red", tlp))
	}
}

func checkURL(path, s string, fieldErr func(path, msg string)) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fieldErr(path, fmt.Sprintf("%q is not an http(s) URL", s))
	}
}

func (c *Config) checkFeeds(orgs map[string]bool, fieldErr func(path, msg string)) {
	fd := c.Feeds
	for i, v := range fd.MailVerdicts {
		if v != "malicious" && v != "phishing" && v != "suspicious" {
			fieldErr(fmt.Sprintf("feeds.mail_verdicts[%d]", i), fmt.Sprintf("%q: use malicious, phishing or suspicious", v))
		}
	}
	switch fd.ExportTLP {
	case "clear", "green", "amber", "amber+strict":
	default:
		fieldErr("feeds.export_tlp", fmt.Sprintf("%q: use clear, green, amber or amber+strict (red is never exported)", fd.ExportTLP))
	}
	if fd.Warninglist.TopN < 1 || fd.Warninglist.TopN > 1_000_000 {
		fieldErr("feeds.warninglist.top_n", fmt.Sprintf("%d is out of range: 1 to 1000000", fd.Warninglist.TopN))
	}
	for i, d := range fd.Warninglist.Domains {
		if _, err := brand.NormalizeDomain(d); err != nil {
			fieldErr(fmt.Sprintf("feeds.warninglist.domains[%d]", i), err.Error())
		}
	}
	rpz := fd.RPZ
	if _, err := brand.NormalizeDomain(rpz.Origin); err != nil {
		fieldErr("feeds.rpz.origin", err.Error())
	}
	if rpz.WalledGarden != "" {
		if _, err := brand.NormalizeDomain(rpz.WalledGarden); err != nil {
			fieldErr("feeds.rpz.walled_garden", err.Error()+": give a host name, e.g. blocked.hospital.example")
		}
	}
	for i, d := range rpz.Passthru {
		if _, err := brand.NormalizeDomain(d); err != nil {
			fieldErr(fmt.Sprintf("feeds.rpz.passthru[%d]", i), err.Error())
		}
	}
	if rpz.TTL < time.Second || rpz.TTL > 24*time.Hour {
		fieldErr("feeds.rpz.ttl", fmt.Sprintf("%v is out of range: 1s to 24h", rpz.TTL))
	}
	if bp := rpz.BlockPage; bp.Listen != "" {
		if _, _, err := net.SplitHostPort(bp.Listen); err != nil {
			fieldErr("feeds.rpz.block_page.listen", fmt.Sprintf("%q is not host:port, e.g. 0.0.0.0:80", bp.Listen))
		}
		switch {
		case bp.Org == "" && len(c.Organisations) > 1:
			fieldErr("feeds.rpz.block_page.org", "missing: with several organisations, name the one whose indicators the page explains")
		case bp.Org != "" && !orgs[bp.Org]:
			fieldErr("feeds.rpz.block_page.org", fmt.Sprintf("no organisation named %q", bp.Org))
		}
		if len(bp.Title) > 200 || len(bp.Contact) > 500 {
			fieldErr("feeds.rpz.block_page", "title (200) or contact (500 characters) too long")
		}
	}
	if rpz.DNS.Listen != "" {
		if _, _, err := net.SplitHostPort(rpz.DNS.Listen); err != nil {
			fieldErr("feeds.rpz.dns.listen", fmt.Sprintf("%q is not host:port, e.g. 0.0.0.0:5353", rpz.DNS.Listen))
		}
	}
	keys := map[string]bool{}
	for i, k := range rpz.DNS.Keys {
		p := fmt.Sprintf("feeds.rpz.dns.keys[%d]", i)
		if !keyName.MatchString(k.Name) || keys[k.Name] {
			fieldErr(p+".name", fmt.Sprintf("%q: give each key its own name, a domain-name-like label such as ward-rpz", k.Name))
		}
		keys[k.Name] = true
		switch k.Algorithm {
		case "hmac-sha256", "hmac-sha512", "hmac-sha1":
		default:
			fieldErr(p+".algorithm", fmt.Sprintf("%q: use hmac-sha256, hmac-sha512 or hmac-sha1", k.Algorithm))
		}
		if b, err := base64.StdEncoding.DecodeString(k.Secret); err != nil || len(b) < 16 {
			fieldErr(p+".secret", "not base64 of at least 16 bytes: make one with `tsig-keygen` or `openssl rand -base64 32`")
		}
	}
	for i, o := range c.Organisations {
		if o.RPZKey != "" && !keys[o.RPZKey] {
			fieldErr(fmt.Sprintf("organisations[%d].rpz_key", i), fmt.Sprintf("no key named %q under feeds.rpz.dns.keys", o.RPZKey))
		}
	}
	for i, a := range rpz.DNS.AllowUnsigned {
		if _, err := netip.ParsePrefix(a); err != nil {
			fieldErr(fmt.Sprintf("feeds.rpz.dns.allow_unsigned[%d]", i), fmt.Sprintf("%q is not an address prefix, e.g. 127.0.0.1/32", a))
		}
	}
	for i, n := range rpz.DNS.Notify {
		if _, _, err := net.SplitHostPort(n); err != nil {
			fieldErr(fmt.Sprintf("feeds.rpz.dns.notify[%d]", i), fmt.Sprintf("%q is not host:port, e.g. 10.0.0.53:53", n))
		}
	}
	names := map[string]bool{}
	for i, im := range fd.Imports {
		p := fmt.Sprintf("feeds.imports[%d]", i)
		checkName(p+".name", im.Name, "", "give each import its own name", names, fieldErr)
		if im.URL == "" {
			fieldErr(p+".url", "missing: give an http(s) URL or a file path")
		} else if strings.Contains(im.URL, "://") && !strings.HasPrefix(im.URL, "file://") {
			checkURL(p+".url", im.URL, fieldErr)
		}
		switch im.Format {
		case "misp", "stix", "list":
		case "taxii":
			if im.Collection == "" {
				fieldErr(p+".collection", "missing: give the TAXII collection's id or title")
			}
		default:
			fieldErr(p+".format", fmt.Sprintf("%q: use misp, stix, taxii or list", im.Format))
		}
		if im.APIRoot != "" {
			checkURL(p+".api_root", im.APIRoot, fieldErr)
		}
		if im.Every < time.Minute {
			fieldErr(p+".every", fmt.Sprintf("%v is too short: at least 1m", im.Every))
		}
		if im.Org != "" && !orgs[im.Org] {
			fieldErr(p+".org", fmt.Sprintf("no organisation named %q", im.Org))
		}
		checkTLP(p+".tlp", im.TLP, fieldErr)
		if im.MaxBytes < 1<<10 || im.MaxBytes > 64<<20 {
			fieldErr(p+".max_bytes", fmt.Sprintf("%d is out of range: 1024 to 67108864 (64 MiB)", im.MaxBytes))
		}
		if im.MaxIndicators < 1 || im.MaxIndicators > 10_000_000 {
			fieldErr(p+".max_indicators", fmt.Sprintf("%d is out of range: 1 to 10000000", im.MaxIndicators))
		}
		if im.Timeout < time.Second || im.Timeout > time.Hour {
			fieldErr(p+".timeout", fmt.Sprintf("%v is out of range: 1s to 1h", im.Timeout))
		}
	}
}
