package probe

import (
	"context"
	"slices"
	"testing"
	"time"
)

func testProber(t testing.TB, dnsAddr string, mod func(*Config)) *Prober {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Resolvers = []string{dnsAddr}
	cfg.DNSTimeout = 500 * time.Millisecond
	cfg.FetchTimeout = 5 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDNSOutcomes(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, nil)
	tests := []struct {
		name   string
		status string
		a      []string
		aaaa   []string
		cname  []string
	}{
		{"live.test", OutcomeOK, []string{"127.0.0.1"}, []string{"::1"}, nil},
		{"LIVE.test.", OutcomeOK, []string{"127.0.0.1"}, []string{"::1"}, nil},
		{"nx.test", OutcomeNXDomain, nil, nil, nil},
		{"fail.test", OutcomeServFail, nil, nil, nil},
		{"refused.test", OutcomeRefused, nil, nil, nil},
		{"slow.test", OutcomeTimeout, nil, nil, nil},
		{"nomail.test", OutcomeOK, []string{"192.0.2.26"}, nil, nil},
		{"v6.test", OutcomeOK, nil, []string{"::1"}, nil},
		{"alias.test", OutcomeOK, []string{"127.0.0.1"}, nil, []string{"www.live.test"}},
		{"stop.test", OutcomeOK, []string{"127.0.0.1"}, nil, []string{"www.live.test"}},
		{"not a name!", OutcomeError, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.DNS(context.Background(), tt.name)
			if r.Status != tt.status {
				t.Errorf("status = %q, want %q (queries %+v)", r.Status, tt.status, r.Queries)
			}
			if !slices.Equal(r.A, tt.a) || !slices.Equal(r.AAAA, tt.aaaa) {
				t.Errorf("A %v AAAA %v, want %v %v", r.A, r.AAAA, tt.a, tt.aaaa)
			}
			if !slices.Equal(r.CNAME, tt.cname) {
				t.Errorf("CNAME %v, want %v", r.CNAME, tt.cname)
			}
		})
	}
}

func TestDNSNoDataPerQuery(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, nil)
	r := p.DNS(context.Background(), "v6.test")
	got := map[string]string{}
	for _, q := range r.Queries {
		if q.Name == "v6.test" {
			got[q.Type] = q.Outcome
		}
	}
	if got["A"] != OutcomeNoData || got["AAAA"] != OutcomeOK || got["MX"] != OutcomeNoData {
		t.Errorf("outcomes %v: want A nodata, AAAA ok, MX nodata", got)
	}
}

func TestDNSTruncatedFallsBackToTCP(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, nil)
	r := p.DNS(context.Background(), "big.test")
	if len(r.A) != 40 {
		t.Fatalf("got %d A records, want the 40 only TCP carries", len(r.A))
	}
	var tcp bool
	for _, q := range r.Queries {
		if q.Name == "big.test" && q.Type == "A" {
			tcp = q.TCP
		}
	}
	if !tcp || !slices.Contains(srv.seen(), "big.test/A/tcp") {
		t.Errorf("A query not retried over TCP: %v", srv.seen())
	}
}

func TestDNSWildcard(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, nil)
	r := p.DNS(context.Background(), "rivm-login.wild.test")
	if !r.Wildcard || !slices.Equal(r.WildcardAddrs, []string{"192.0.2.99"}) {
		t.Errorf("wild.test: Wildcard %v %v, want true [192.0.2.99]", r.Wildcard, r.WildcardAddrs)
	}
	if r.Registrable != "wild.test" {
		t.Errorf("registrable %q", r.Registrable)
	}
	// The random label is 16 characters under the registrable domain.
	var probe string
	for _, q := range srv.seen() {
		if len(q) == len("0123456789abcdef.wild.test/A/udp") && q[16:] == ".wild.test/A/udp" {
			probe = q
		}
	}
	if probe == "" {
		t.Errorf("no random-label query under wild.test: %v", srv.seen())
	}
	if r := p.DNS(context.Background(), "live.test"); r.Wildcard {
		t.Error("live.test reported as wildcard")
	}
}

func TestDNSParked(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, nil)
	r := p.DNS(context.Background(), "parked.test")
	if !r.Parked || r.ParkedBy != "sedoparking.com" {
		t.Errorf("parked.test: Parked %v by %q, want sedoparking.com", r.Parked, r.ParkedBy)
	}
	if !slices.Equal(r.NS, []string{"ns1.sedoparking.com", "ns2.sedoparking.com"}) {
		t.Errorf("NS %v", r.NS)
	}
	if r := p.DNS(context.Background(), "live.test"); r.Parked {
		t.Error("live.test reported parked")
	}
	// A custom list replaces the default.
	p2 := testProber(t, srv.addr, func(c *Config) { c.ParkingNameservers = []string{"example.net"} })
	if r := p2.DNS(context.Background(), "parked.test"); r.Parked {
		t.Error("parked with a list that does not name sedoparking.com")
	}
}

func TestDNSMail(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, nil)
	r := p.DNS(context.Background(), "mail.test")
	if !r.CanSendMail {
		t.Error("mail.test: CanSendMail false")
	}
	if len(r.MX) != 2 || r.MX[0].Host != "mx1.mail.test" || r.MX[0].Preference != 10 {
		t.Errorf("MX %v, want mx1 first", r.MX)
	}
	if r.SPF == nil || r.SPF.All != "-all" || !r.SPF.AuthorisesSenders {
		t.Errorf("SPF %+v", r.SPF)
	}
	if r.DMARC == nil || r.DMARC.Policy != "reject" || r.DMARC.Domain != "_dmarc.mail.test" {
		t.Errorf("DMARC %+v", r.DMARC)
	}

	r = p.DNS(context.Background(), "nomail.test")
	if r.CanSendMail || !r.NullMX || r.SPF == nil || r.SPF.AuthorisesSenders {
		t.Errorf("nomail.test: CanSendMail %v NullMX %v SPF %+v; want a name that cannot send", r.CanSendMail, r.NullMX, r.SPF)
	}

	// DMARC falls back to the organisational domain.
	r = p.DNS(context.Background(), "sub.org.test")
	if r.DMARC == nil || r.DMARC.Policy != "quarantine" || r.DMARC.Domain != "_dmarc.org.test" {
		t.Errorf("sub.org.test DMARC %+v, want quarantine from _dmarc.org.test", r.DMARC)
	}
}

func TestDNSFallsToNextServer(t *testing.T) {
	srv := startDNS(t)
	// Port 1 on loopback: nothing listens, the UDP exchange fails.
	p := testProber(t, srv.addr, func(c *Config) { c.Resolvers = []string{"127.0.0.1:1", srv.addr} })
	if r := p.DNS(context.Background(), "live.test"); r.Status != OutcomeOK {
		t.Errorf("status %q with a dead first server, want ok from the second", r.Status)
	}
}

func TestDNSHonoursContext(t *testing.T) {
	srv := startDNS(t)
	p := testProber(t, srv.addr, func(c *Config) { c.DNSTimeout = time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := p.DNS(ctx, "slow.test"); r.Status != OutcomeTimeout {
		t.Errorf("cancelled context: status %q, want timeout", r.Status)
	}
}
