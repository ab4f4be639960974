package probe

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/ward-health/ward/internal/lookalike"
)

// Outcomes of one DNS query, kept distinct because they mean different
// things to an analyst: a name that does not exist (nxdomain) is not a
// name whose server is broken (servfail) or refuses us (refused).
const (
	OutcomeOK       = "ok"       // the name has records of the asked type
	OutcomeNXDomain = "nxdomain" // the name does not exist
	OutcomeServFail = "servfail" // the server failed to answer (broken zone, DNSSEC)
	OutcomeRefused  = "refused"  // the server refused the query
	OutcomeTimeout  = "timeout"  // no answer within DNSTimeout from any server
	OutcomeNoData   = "nodata"   // the name exists but has no record of the type
	OutcomeError    = "error"    // anything else: bad reply, network error, other rcode
)

// Query is the outcome of one DNS question.
type Query struct {
	// Name is the name asked, without the trailing dot.
	Name string `json:"name"`
	// Type is the record type asked ("A", "MX", ...).
	Type string `json:"type"`
	// Outcome is one of the Outcome constants.
	Outcome string `json:"outcome"`
	// Server is the server whose answer was used.
	Server string `json:"server,omitempty"`
	// TCP is set when the UDP answer was truncated and TCP was used.
	TCP bool `json:"tcp,omitempty"`
	// Error describes an "error" or "timeout" outcome.
	Error string `json:"error,omitempty"`
}

// MX is one mail exchanger.
type MX struct {
	Host       string `json:"host"`
	Preference uint16 `json:"preference"`
}

// DNSResult is what DNS says about a name.
type DNSResult struct {
	// Name is the name probed, lower case, without the trailing dot.
	Name string `json:"name"`
	// Registrable is its registrable domain by the Public Suffix List
	// ("rivm-test.co.uk" for "www.rivm-test.co.uk"); "" when none.
	Registrable string `json:"registrable,omitempty"`
	// Status sums up whether the name resolves: "ok" when it has an A or
	// AAAA record, else the outcome of the A query.
	Status string `json:"status"`
	// A and AAAA are the addresses, at the end of the CNAME chain.
	A    []string `json:"a,omitempty"`
	AAAA []string `json:"aaaa,omitempty"`
	// CNAME is the chain of aliases followed from Name, in order.
	CNAME []string `json:"cname,omitempty"`
	// NS are the name servers of Name, or of Registrable when Name has
	// none of its own.
	NS []string `json:"ns,omitempty"`
	// MX are the mail exchangers, by preference.
	MX []MX `json:"mx,omitempty"`
	// NullMX is set when the only MX is "0 ." (RFC 7505): no mail.
	NullMX bool `json:"null_mx,omitempty"`
	// TXT are the TXT records of Name, each at most 4096 bytes.
	TXT []string `json:"txt,omitempty"`
	// SPF is the parsed SPF record of Name; nil when there is none.
	SPF *SPF `json:"spf,omitempty"`
	// DMARC is the parsed DMARC record of Name or of its organisational
	// (registrable) domain; nil when there is none.
	DMARC *DMARC `json:"dmarc,omitempty"`
	// CanSendMail is set when the name can plausibly send mail: it has a
	// (non-null) MX, or an SPF policy that is not "-all" alone.
	CanSendMail bool `json:"can_send_mail"`
	// Wildcard is set when a random label under Registrable resolves: the
	// zone answers for every name, so resolving proves little.
	Wildcard bool `json:"wildcard"`
	// WildcardAddrs are the addresses the random label resolved to.
	WildcardAddrs []string `json:"wildcard_addrs,omitempty"`
	// Parked is set when a name server or CNAME target lies under a
	// parking service's suffix; ParkedBy names the suffix.
	Parked   bool   `json:"parked"`
	ParkedBy string `json:"parked_by,omitempty"`
	// Queries lists every question asked and its outcome.
	Queries []Query `json:"queries"`
}

// Addrs returns the A and AAAA addresses as netip values, IPv4 first.
func (r DNSResult) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, s := range slices.Concat(r.A, r.AAAA) {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// normalizeName lower-cases name and strips a trailing dot; ok is false
// when it is not a plausible DNS name.
func normalizeName(name string) (string, bool) {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	if name == "" || len(name) > maxNameLen {
		return "", false
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return "", false
	}
	for _, l := range strings.Split(name, ".") {
		if l == "" {
			return "", false
		}
	}
	return name, true
}

// DNS asks the configured servers about name: A, AAAA (with the CNAME
// chain), NS, MX, TXT (SPF), DMARC, and a random label under the
// registrable domain to detect wildcards. It never fails: each query's
// outcome is recorded in Queries.
func (p *Prober) DNS(ctx context.Context, name string) DNSResult {
	n, ok := normalizeName(name)
	res := DNSResult{Name: n, Status: OutcomeError}
	if !ok {
		res.Name = truncate(name, maxNameLen)
		res.Queries = []Query{{Name: res.Name, Type: "A", Outcome: OutcomeError, Error: "not a valid DNS name"}}
		return res
	}
	res.Registrable = lookalike.Registrable(n)
	zone := res.Registrable
	if zone == "" {
		zone = n
	}
	wildName := randomLabel() + "." + zone

	type lookup struct {
		name  string
		qtype uint16
		q     Query
		rrs   []dns.RR
		chain []string
	}
	jobs := []*lookup{
		{name: n, qtype: dns.TypeA},
		{name: n, qtype: dns.TypeAAAA},
		{name: n, qtype: dns.TypeNS},
		{name: n, qtype: dns.TypeMX},
		{name: n, qtype: dns.TypeTXT},
		{name: "_dmarc." + n, qtype: dns.TypeTXT},
		{name: wildName, qtype: dns.TypeA},
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.rrs, j.chain, j.q = p.lookup(ctx, j.name, j.qtype) })
	}
	wg.Wait()
	a, aaaa, ns, mx, txt, dmarc, wild := jobs[0], jobs[1], jobs[2], jobs[3], jobs[4], jobs[5], jobs[6]
	for _, j := range jobs {
		res.Queries = append(res.Queries, j.q)
	}

	res.CNAME = a.chain
	if len(res.CNAME) == 0 {
		res.CNAME = aaaa.chain
	}
	res.A = addrStrings(a.rrs)
	res.AAAA = addrStrings(aaaa.rrs)
	switch {
	case len(res.A)+len(res.AAAA) > 0:
		res.Status = OutcomeOK
	case a.q.Outcome == OutcomeNoData && aaaa.q.Outcome != OutcomeNoData:
		res.Status = aaaa.q.Outcome
	default:
		res.Status = a.q.Outcome
	}

	res.NS = nsHosts(ns.rrs)
	if len(res.NS) == 0 && res.Registrable != "" && res.Registrable != n {
		rrs, _, q := p.lookup(ctx, res.Registrable, dns.TypeNS)
		res.Queries = append(res.Queries, q)
		res.NS = nsHosts(rrs)
	}

	for _, rr := range mx.rrs {
		if m, ok := rr.(*dns.MX); ok && len(res.MX) < maxRecords {
			res.MX = append(res.MX, MX{Host: trimDot(m.Mx), Preference: m.Preference})
		}
	}
	slices.SortStableFunc(res.MX, func(x, y MX) int { return int(x.Preference) - int(y.Preference) })
	res.NullMX = len(res.MX) == 1 && res.MX[0].Host == ""

	res.TXT = txtStrings(txt.rrs)
	var spfs []string
	for _, t := range res.TXT {
		if isSPF(t) {
			spfs = append(spfs, t)
		}
	}
	if len(spfs) > 0 {
		res.SPF = ParseSPF(spfs[0])
		if len(spfs) > 1 {
			res.SPF.Invalid = "more than one SPF record (RFC 7208 section 4.5: permerror)"
			res.SPF.AuthorisesSenders = false
		}
	}

	res.DMARC = firstDMARC(txtStrings(dmarc.rrs), "_dmarc."+n)
	if res.DMARC == nil && res.Registrable != "" && res.Registrable != n {
		rrs, _, q := p.lookup(ctx, "_dmarc."+res.Registrable, dns.TypeTXT)
		res.Queries = append(res.Queries, q)
		res.DMARC = firstDMARC(txtStrings(rrs), "_dmarc."+res.Registrable)
	}

	res.CanSendMail = (len(res.MX) > 0 && !res.NullMX) || (res.SPF != nil && res.SPF.AuthorisesSenders)

	res.WildcardAddrs = addrStrings(wild.rrs)
	res.Wildcard = len(res.WildcardAddrs) > 0 || len(wild.chain) > 0

	for _, h := range slices.Concat(res.NS, res.CNAME) {
		if s := p.parkingSuffix(h); s != "" {
			res.Parked, res.ParkedBy = true, s
			break
		}
	}
	p.log.DebugContext(ctx, "probe dns", "name", n, "status", res.Status, "a", len(res.A), "aaaa", len(res.AAAA), "wildcard", res.Wildcard, "parked", res.Parked)
	return res
}

// parkingSuffix returns the parking suffix host lies under, or "".
func (p *Prober) parkingSuffix(host string) string {
	host = strings.ToLower(host)
	for _, s := range p.parking {
		if host == s || strings.HasSuffix(host, "."+s) {
			return s
		}
	}
	return ""
}

func firstDMARC(txts []string, at string) *DMARC {
	for _, t := range txts {
		if isDMARC(t) {
			d := ParseDMARC(t)
			d.Domain = at
			return d
		}
	}
	return nil
}

// randomLabel returns 16 random lower-case letters and digits.
func randomLabel() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [16]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

func trimDot(s string) string { return strings.ToLower(strings.TrimSuffix(s, ".")) }

func addrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		var ip net.IP
		switch r := rr.(type) {
		case *dns.A:
			ip = r.A
		case *dns.AAAA:
			ip = r.AAAA
		default:
			continue
		}
		a, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if s := a.String(); !slices.Contains(out, s) && len(out) < maxRecords {
			out = append(out, s)
		}
	}
	return out
}

func nsHosts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if r, ok := rr.(*dns.NS); ok && len(out) < maxRecords {
			out = append(out, trimDot(r.Ns))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func txtStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if r, ok := rr.(*dns.TXT); ok && len(out) < maxRecords {
			out = append(out, truncate(strings.Join(r.Txt, ""), maxTXTLen))
		}
	}
	return out
}

// lookup asks for name/qtype, follows the CNAME chain (within the answer,
// and by a new query when a server stops at an alias) and returns the
// records of qtype owned by the end of the chain.
func (p *Prober) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, []string, Query) {
	var chain []string
	cur := name
	var q Query
	for range maxCNAMEChain + 1 {
		var msg *dns.Msg
		msg, q = p.exchange(ctx, cur, qtype)
		q.Name = name
		if msg == nil {
			return nil, chain, q
		}
		cur, chain = followAliases(msg, cur, chain)
		var rrs []dns.RR
		for _, rr := range msg.Answer {
			if rr.Header().Rrtype == qtype && strings.EqualFold(trimDot(rr.Header().Name), cur) && len(rrs) < maxRecords {
				rrs = append(rrs, rr)
			}
		}
		if len(rrs) > 0 {
			q.Outcome = OutcomeOK
			return rrs, chain, q
		}
		if q.Outcome == OutcomeOK {
			q.Outcome = OutcomeNoData
		}
		if q.Outcome != OutcomeNoData || len(chain) == 0 || len(chain) >= maxCNAMEChain || !aliasNeedsFollow(msg, cur) {
			return nil, chain, q
		}
	}
	return nil, chain, q
}

// followAliases follows the CNAME records of the answer from cur, adding
// each target to chain once, and returns the end of the chain.
func followAliases(msg *dns.Msg, cur string, chain []string) (string, []string) {
	for len(chain) < maxCNAMEChain {
		next := ""
		for _, rr := range msg.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(trimDot(c.Hdr.Name), cur) {
				next = trimDot(c.Target)
				break
			}
		}
		if next == "" || slices.Contains(chain, next) {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return cur, chain
}

// aliasNeedsFollow reports whether the answer ends at an alias target that
// it says nothing about (no record at all owned by target).
func aliasNeedsFollow(msg *dns.Msg, target string) bool {
	for _, rr := range msg.Answer {
		if strings.EqualFold(trimDot(rr.Header().Name), target) {
			return false
		}
	}
	return true
}

// exchange sends one question to the servers in turn. It moves to the
// next server on a timeout, network error, SERVFAIL or REFUSED, and keeps
// the last outcome when all fail.
func (p *Prober) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, Query) {
	q := Query{Name: name, Type: dns.TypeToString[qtype], Outcome: OutcomeError}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(1232, false)
	for _, server := range p.resolvers {
		if ctx.Err() != nil {
			q.Outcome, q.Error = OutcomeTimeout, ctx.Err().Error()
			return nil, q
		}
		q.Server, q.TCP, q.Error = server, false, ""
		r, err := p.exchangeOne(ctx, m, server, "udp")
		if err == nil && r.Truncated {
			q.TCP = true
			r, err = p.exchangeOne(ctx, m, server, "tcp")
		}
		if err != nil {
			q.Outcome, q.Error = errOutcome(err), truncate(err.Error(), 200)
			continue
		}
		if len(r.Question) != 1 || !strings.EqualFold(r.Question[0].Name, m.Question[0].Name) || r.Question[0].Qtype != qtype {
			q.Outcome, q.Error = OutcomeError, "reply does not match the question"
			continue
		}
		switch r.Rcode {
		case dns.RcodeSuccess:
			q.Outcome = OutcomeOK
			return r, q
		case dns.RcodeNameError:
			q.Outcome = OutcomeNXDomain
			return r, q
		case dns.RcodeServerFailure:
			q.Outcome = OutcomeServFail
		case dns.RcodeRefused:
			q.Outcome = OutcomeRefused
		default:
			q.Outcome, q.Error = OutcomeError, "rcode "+dns.RcodeToString[r.Rcode]
		}
	}
	return nil, q
}

// exchangeOne performs one exchange, closing the connection when ctx ends
// so that a cancelled probe does not wait for DNSTimeout.
func (p *Prober) exchangeOne(ctx context.Context, m *dns.Msg, server, network string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DNSTimeout)
	defer cancel()
	c := &dns.Client{Net: network, Timeout: p.cfg.DNSTimeout, UDPSize: 1232}
	conn, err := c.DialContext(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	r, _, err := c.ExchangeWithConnContext(ctx, m, conn)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return r, err
}

func errOutcome(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return OutcomeTimeout
	}
	if errors.Is(err, context.Canceled) {
		return OutcomeTimeout
	}
	return OutcomeError
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
