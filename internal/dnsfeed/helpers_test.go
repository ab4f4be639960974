package dnsfeed

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/ward-health/ward/internal/intel"
)

const (
	testOrigin = "rpz.ward.example."
	// testSecret is base64 of 32 bytes; testSecret2 another key's.
	testSecret  = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
	testSecret2 = "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMTI="
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// rpzText writes an RPZ zone blocking names with intel.WriteRPZ.
func rpzText(t testing.TB, serial uint32, names ...string) []byte {
	t.Helper()
	return rpzTextOpts(t, intel.RPZOptions{Serial: serial}, names...)
}

func rpzTextOpts(t testing.TB, o intel.RPZOptions, names ...string) []byte {
	t.Helper()
	inds := make([]intel.Indicator, 0, len(names))
	for _, n := range names {
		inds = append(inds, intel.Indicator{Type: intel.TypeDomain, Value: n})
	}
	if o.Origin == "" {
		o.Origin = testOrigin
	}
	if len(o.NS) == 0 {
		o.NS = []string{"ns1.ward.example"}
	}
	var b bytes.Buffer
	if err := intel.WriteRPZ(&b, inds, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// manyNames returns n distinct look-alike names.
func manyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("rivm-covid19-test-%06d.example", i)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for a logger used by many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start creates and runs a server on a free loopback port; it stops when
// the test ends. cfg.Addr defaults to 127.0.0.1:0, cfg.Zones to one
// testOrigin zone allowing unsigned transfers from loopback.
func start(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Zones == nil {
		cfg.Zones = []ZoneConfig{{Origin: testOrigin, AllowTransfer: loopback}}
	}
	if cfg.Logger == nil && testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// transferIn runs a zone transfer with miekg/dns's client and returns
// every record in order, the number of messages, and the first error
// (which includes a TSIG verification failure of any message).
func transferIn(t testing.TB, addr string, m *dns.Msg, keyName, secret string) ([]dns.RR, int, error) {
	t.Helper()
	tr := &dns.Transfer{DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	if keyName != "" {
		tr.TsigSecret = map[string]string{dns.Fqdn(keyName): secret}
	}
	ch, err := tr.In(m, addr)
	if err != nil {
		return nil, 0, err
	}
	var (
		rrs  []dns.RR
		msgs int
	)
	for env := range ch {
		if env.Error != nil {
			err = env.Error
			continue
		}
		msgs++
		rrs = append(rrs, env.RR...)
	}
	return rrs, msgs, err
}

func axfrMsg(origin, keyName, alg string) *dns.Msg {
	m := new(dns.Msg)
	m.SetAxfr(origin)
	if keyName != "" {
		m.SetTsig(dns.Fqdn(keyName), alg, 300, time.Now().Unix())
	}
	return m
}

func ixfrMsg(origin string, serial uint32, keyName, alg string) *dns.Msg {
	m := new(dns.Msg)
	m.SetIxfr(origin, serial, "localhost.", "hostmaster."+origin)
	if keyName != "" {
		m.SetTsig(dns.Fqdn(keyName), alg, 300, time.Now().Unix())
	}
	return m
}

// exchange sends m over net ("udp" or "tcp") and returns the first answer.
func exchange(t testing.TB, network, addr string, m *dns.Msg, keyName, secret string) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 5 * time.Second}
	if keyName != "" {
		c.TsigSecret = map[string]string{dns.Fqdn(keyName): secret}
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil && r == nil {
		t.Fatalf("%s exchange of %s: %v", network, m.Question[0].String(), err)
	}
	return r
}

// owners returns the records' "owner type" strings, sorted.
func owners(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype])
	}
	slices.Sort(out)
	return out
}

func soaSerial(t testing.TB, rr dns.RR) uint32 {
	t.Helper()
	soa, ok := rr.(*dns.SOA)
	if !ok {
		t.Fatalf("want an SOA record, got %v", rr)
	}
	return soa.Serial
}

func intelOpts(origin string, serial uint32) intel.RPZOptions {
	return intel.RPZOptions{Origin: origin, Serial: serial}
}

func slogTo(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
