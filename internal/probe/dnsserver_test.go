package probe

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// testZone answers for the names the tests use. Records are written in
// zone-file syntax; names not listed get NXDOMAIN, unless a special case
// below applies.
var testZone = []string{
	"live.test. 60 IN A 127.0.0.1",
	"live.test. 60 IN AAAA ::1",
	"v6.test. 60 IN AAAA ::1",
	"mapped.test. 60 IN AAAA ::ffff:127.0.0.1",
	"private.test. 60 IN A 10.0.0.1",
	"meta.test. 60 IN A 169.254.169.254",
	"alias.test. 60 IN CNAME www.live.test.",
	"www.live.test. 60 IN A 127.0.0.1",
	"stop.test. 60 IN CNAME www.live.test.", // served without the A: the client must follow
	"parked.test. 60 IN NS ns1.sedoparking.com.",
	"parked.test. 60 IN NS ns2.sedoparking.com.",
	"parked.test. 60 IN A 192.0.2.80",
	"mail.test. 60 IN A 192.0.2.25",
	"mail.test. 60 IN MX 20 mx2.mail.test.",
	"mail.test. 60 IN MX 10 mx1.mail.test.",
	"mail.test. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 include:_spf.example.net -all\"",
	"mail.test. 60 IN TXT \"google-site-verification=abc\"",
	"_dmarc.mail.test. 60 IN TXT \"v=DMARC1; p=reject; rua=mailto:d@mail.test\"",
	"nomail.test. 60 IN A 192.0.2.26",
	"nomail.test. 60 IN MX 0 .",
	"nomail.test. 60 IN TXT \"v=spf1 -all\"",
	"_dmarc.org.test. 60 IN TXT \"v=DMARC1; p=quarantine\"",
	"sub.org.test. 60 IN A 192.0.2.27",
	"wild.test. 60 IN A 192.0.2.99",
	"example.com. 60 IN A 127.0.0.1",
	"brand.test. 60 IN A 127.0.0.1",
}

// dnsServer is an in-process DNS server on 127.0.0.1 (UDP and TCP).
type dnsServer struct {
	addr    string
	rrs     map[string][]dns.RR // by lower-case owner name
	mu      sync.Mutex
	queries []string // "name/type/net"
}

func startDNS(t testing.TB) *dnsServer {
	t.Helper()
	s := &dnsServer{rrs: map[string][]dns.RR{}}
	for _, z := range testZone {
		rr, err := dns.NewRR(z)
		if err != nil {
			t.Fatalf("zone line %q: %v", z, err)
		}
		n := strings.ToLower(rr.Header().Name)
		s.rrs[n] = append(s.rrs[n], rr)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = pc.LocalAddr().String()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: s}
	tcp := &dns.Server{Listener: l, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return s
}

func (s *dnsServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func (s *dnsServer) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	netw := "udp"
	if isTCP {
		netw = "tcp"
	}
	s.mu.Lock()
	s.queries = append(s.queries, strings.TrimSuffix(name, ".")+"/"+dns.TypeToString[q.Qtype]+"/"+netw)
	s.mu.Unlock()

	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	switch {
	case name == "slow.test.":
		return // never answer: the client times out
	case name == "fail.test.":
		m.Rcode = dns.RcodeServerFailure
	case name == "refused.test.":
		m.Rcode = dns.RcodeRefused
	case name == "big.test.":
		if !isTCP {
			m.Truncated = true
			break
		}
		for i := range 40 {
			rr, _ := dns.NewRR("big.test. 60 IN A 192.0.2." + itoa(i+1))
			m.Answer = append(m.Answer, rr)
		}
	case strings.HasSuffix(name, ".wild.test.") && q.Qtype == dns.TypeA:
		rr, _ := dns.NewRR(q.Name + " 60 IN A 192.0.2.99")
		m.Answer = append(m.Answer, rr)
	case strings.HasSuffix(name, ".wild.test."):
	case strings.HasPrefix(name, "rebind") && strings.HasSuffix(name, ".test."):
		// A rebinding server: always 127.0.0.1.
		if q.Qtype == dns.TypeA {
			rr, _ := dns.NewRR(q.Name + " 60 IN A 127.0.0.1")
			m.Answer = append(m.Answer, rr)
		}
	default:
		rrs, ok := s.rrs[name]
		if !ok {
			m.Rcode = dns.RcodeNameError
			break
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		// Recursive-style: include the alias and its target's records,
		// except for stop.test, whose server stops at the alias.
		if len(m.Answer) == 0 {
			for _, rr := range rrs {
				if c, ok := rr.(*dns.CNAME); ok {
					m.Answer = append(m.Answer, c)
					if name == "stop.test." {
						break
					}
					for _, t := range s.rrs[strings.ToLower(c.Target)] {
						if t.Header().Rrtype == q.Qtype {
							m.Answer = append(m.Answer, t)
						}
					}
				}
			}
		}
	}
	w.WriteMsg(m)
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}
