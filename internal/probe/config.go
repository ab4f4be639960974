// Package probe enriches a look-alike domain with what is really there: DNS
// records (addresses, name servers, mail, SPF, DMARC, wildcard and parking),
// a guarded fetch of its web site over HTTP and HTTPS (redirects, TLS
// certificate), the content of the final page (title, login forms,
// downloads, script redirects, favicon hashes), its similarity with the
// brand's real site, and its RDAP registration data. It is a library; the
// daemon (internal/engine) calls it and scores the [Evidence].
//
// Everything a probed site or its DNS servers send is treated as hostile:
// every read is bounded in size, count and time, and every connection goes
// through a guard that refuses internal addresses at dial time (see
// [ClassifyAddr]), so that a look-alike cannot make ward fetch from the
// hospital's own network or a cloud metadata service.
package probe

import (
	"bufio"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config configures a [Prober]. Start from [DefaultConfig] and change what
// you need; [New] validates it.
type Config struct {
	// Resolvers are the DNS servers asked, as "host:port" with an IP
	// address host ("192.0.2.53:53", "[2001:db8::53]:53"), tried in order
	// until one answers. Queries go over UDP with EDNS0 and are retried
	// over TCP when the answer is truncated. Zero: the nameservers of
	// /etc/resolv.conf, port 53.
	Resolvers []string
	// DNSTimeout bounds one DNS exchange with one server. Zero: 3s.
	DNSTimeout time.Duration
	// FetchTimeout bounds one HTTP exchange (connect, TLS, headers and
	// body of one redirect hop). Zero: 10s.
	FetchTimeout time.Duration
	// MaxBody is the number of bytes read from one HTTP response body,
	// after gzip decoding; the rest is dropped and the fetch marked
	// truncated. Zero: 2 MiB.
	MaxBody int64
	// MaxRedirects is the number of redirects followed from one start URL.
	// Zero: 10. Negative: follow none.
	MaxRedirects int
	// AllowPrivateTargets lets fetches connect to loopback, private,
	// link-local, CGNAT, multicast, unspecified, ULA, cloud metadata and
	// the other addresses [ClassifyAddr] refuses, and to any port. Zero
	// (false): refused. Set it only for tests and labs.
	AllowPrivateTargets bool
	// UserAgent is sent with every HTTP request. Zero: a browser-like
	// string naming ward, since some phishing kits hide from bots.
	UserAgent string
	// ParkingNameservers are domain suffixes of parking services' name
	// servers (and CNAME targets); a name delegated to one of them is
	// parked. Zero: DefaultParkingNameservers.
	ParkingNameservers []string
	// RDAPBase is the base URL of an RDAP server ("https://rdap.example/"),
	// asked GET {base}/domain/{name}. Zero (""): no RDAP query. There is
	// no bootstrap download; pick the server of the TLDs you watch.
	RDAPBase string
	// HTTPPort and HTTPSPort are the ports dialled for http://name/ and
	// https://name/. Zero: 80 and 443. Other values are for tests and
	// labs; with AllowPrivateTargets false they are still subject to the
	// bad-port list.
	HTTPPort, HTTPSPort int
	// RootCAs are the roots a certificate is checked against to say
	// whether it would verify. Zero (nil): the system roots.
	RootCAs *x509.CertPool
	// Logger receives debug logs of each step. Zero (nil): discarded.
	Logger *slog.Logger
}

// DefaultParkingNameservers are the name-server suffixes of domain parking
// and for-sale services, matched on label boundaries.
var DefaultParkingNameservers = []string{
	"above.com",
	"afternic.com",
	"bodis.com",
	"dan.com",
	"dsredirection.com",
	"fabulous.com",
	"ibspark.com",
	"namebrightdns.com",
	"parkingcrew.net",
	"parklogic.com",
	"parkpage.foundationapi.com",
	"rookdns.com",
	"sedo.com",
	"sedoparking.com",
	"smartname.com",
	"undeveloped.com",
	"uniregistrymarket.link",
	"voodoo.com",
}

// Limits that are not configurable: they bound what a hostile peer can
// make the prober hold.
const (
	maxFavicon       = 100 << 10 // bytes of a favicon
	maxRDAPBody      = 1 << 20   // bytes of an RDAP response
	maxCNAMEChain    = 8         // CNAME hops followed
	maxRecords       = 64        // records kept per type
	maxTXTLen        = 4096      // bytes kept per TXT record
	maxNameLen       = 253       // bytes of a DNS name
	maxHeaderBytes   = 64 << 10  // bytes of response headers
	maxURLLen        = 2048      // bytes of a URL kept in evidence
	maxRedirectHosts = 4         // distinct redirect hosts resolved per fetch
)

// DefaultConfig returns the configuration used for zero fields.
func DefaultConfig() Config {
	return Config{
		DNSTimeout:         3 * time.Second,
		FetchTimeout:       10 * time.Second,
		MaxBody:            2 << 20,
		MaxRedirects:       10,
		UserAgent:          "Mozilla/5.0 (compatible; ward-probe/1.0; +https://github.com/ward-health/ward)",
		ParkingNameservers: DefaultParkingNameservers,
		HTTPPort:           80,
		HTTPSPort:          443,
	}
}

// Prober probes names. It is safe for concurrent use; it holds no state
// between probes besides its configuration.
type Prober struct {
	cfg       Config
	resolvers []string
	parking   []string
	log       *slog.Logger
	// testExempt is an address the guard lets through, so that tests can
	// stand a loopback server in for a public one. Never set outside tests.
	testExempt netip.AddrPort
}

// New validates cfg, fills zero fields from [DefaultConfig] and returns a
// Prober.
func New(cfg Config) (*Prober, error) {
	def := DefaultConfig()
	if cfg.DNSTimeout < 0 {
		return nil, fmt.Errorf("probe: DNSTimeout is %v: give a positive duration such as 3s, or zero for the default", cfg.DNSTimeout)
	}
	if cfg.DNSTimeout == 0 {
		cfg.DNSTimeout = def.DNSTimeout
	}
	if cfg.FetchTimeout < 0 {
		return nil, fmt.Errorf("probe: FetchTimeout is %v: give a positive duration such as 10s, or zero for the default", cfg.FetchTimeout)
	}
	if cfg.FetchTimeout == 0 {
		cfg.FetchTimeout = def.FetchTimeout
	}
	if cfg.MaxBody < 0 {
		return nil, fmt.Errorf("probe: MaxBody is %d: give a positive byte count such as %d, or zero for the default", cfg.MaxBody, def.MaxBody)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = def.MaxBody
	}
	if cfg.MaxRedirects > 100 {
		return nil, fmt.Errorf("probe: MaxRedirects is %d: browsers stop at 20; use at most 100", cfg.MaxRedirects)
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = def.MaxRedirects
	}
	if cfg.MaxRedirects < 0 {
		cfg.MaxRedirects = 0
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = def.UserAgent
	}
	if strings.ContainsAny(cfg.UserAgent, "\r\n") {
		return nil, errors.New("probe: UserAgent contains a line break: give a single-line string")
	}
	for _, pp := range []struct {
		name string
		v    *int
		def  int
	}{{"HTTPPort", &cfg.HTTPPort, def.HTTPPort}, {"HTTPSPort", &cfg.HTTPSPort, def.HTTPSPort}} {
		if *pp.v < 0 || *pp.v > 65535 {
			return nil, fmt.Errorf("probe: %s is %d: give a port from 1 to 65535, or zero for the default", pp.name, *pp.v)
		}
		if *pp.v == 0 {
			*pp.v = pp.def
		}
	}
	if cfg.RDAPBase != "" {
		if !strings.HasPrefix(cfg.RDAPBase, "https://") && !strings.HasPrefix(cfg.RDAPBase, "http://") {
			return nil, fmt.Errorf("probe: RDAPBase %q is not an http(s) URL: give e.g. https://rdap.example.net/ or leave it empty to turn RDAP off", cfg.RDAPBase)
		}
		cfg.RDAPBase = strings.TrimRight(cfg.RDAPBase, "/")
	}
	p := &Prober{cfg: cfg, log: cfg.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	servers := cfg.Resolvers
	if len(servers) == 0 {
		f, err := os.Open("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("probe: Resolvers is empty and /etc/resolv.conf cannot be read (%v): list DNS servers as \"host:port\"", err)
		}
		servers = readResolvConf(f)
		f.Close()
		if len(servers) == 0 {
			return nil, errors.New("probe: Resolvers is empty and /etc/resolv.conf names no nameserver: list DNS servers as \"host:port\"")
		}
	}
	for _, s := range servers {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("probe: Resolvers entry %q is not \"ip:port\": write e.g. \"192.0.2.53:53\" or \"[2001:db8::53]:53\"", s)
		}
		p.resolvers = append(p.resolvers, ap.String())
	}
	parking := cfg.ParkingNameservers
	if parking == nil {
		parking = DefaultParkingNameservers
	}
	for _, s := range parking {
		s = strings.Trim(strings.ToLower(strings.TrimSpace(s)), ".")
		if s == "" || strings.ContainsAny(s, " /:") {
			return nil, fmt.Errorf("probe: ParkingNameservers entry %q is not a domain suffix: write e.g. \"sedoparking.com\"", s)
		}
		p.parking = append(p.parking, s)
	}
	p.cfg.ParkingNameservers = p.parking
	return p, nil
}

// readResolvConf returns the nameservers of a resolv.conf as "ip:53".
func readResolvConf(r io.Reader) []string {
	var out []string
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		out = append(out, net.JoinHostPort(a.String(), strconv.Itoa(53)))
	}
	return out
}
