package dnsfeed

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// notice is one NOTIFY a fake secondary received.
type notice struct {
	serial uint32
	signed bool // carried a TSIG record that verified
	tsig   bool // carried a TSIG record
}

// fakeSecondary listens on loopback UDP, records each NOTIFY, and leaves
// the first ignore of them unanswered. secret, if set, is the key
// "ward-rpz." it verifies and signs with.
func fakeSecondary(t *testing.T, ignore int, secret string) (string, <-chan notice) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan notice, 100)
	var (
		mu   sync.Mutex
		seen int
	)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.Opcode != dns.OpcodeNotify || len(r.Question) != 1 {
			return
		}
		n := notice{tsig: r.IsTsig() != nil}
		n.signed = n.tsig && w.TsigStatus() == nil
		if len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok {
				n.serial = soa.Serial
			}
		}
		got <- n
		mu.Lock()
		seen++
		skip := seen <= ignore
		mu.Unlock()
		if skip {
			return
		}
		m := new(dns.Msg)
		m.SetReply(r)
		if n.tsig {
			m.SetTsig("ward-rpz.", dns.HmacSHA256, 300, time.Now().Unix())
		}
		w.WriteMsg(m)
	})}
	if secret != "" {
		srv.TsigSecret = map[string]string{"ward-rpz.": secret}
	}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String(), got
}

func next(t *testing.T, ch <-chan notice) notice {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no NOTIFY reached the secondary")
	}
	return notice{}
}

func TestNotifyRetriedUntilAnswered(t *testing.T) {
	addr, got := fakeSecondary(t, 2, "")
	s := start(t, Config{NotifyInterval: 20 * time.Millisecond, NotifyAttempts: 5,
		Zones: []ZoneConfig{{Origin: testOrigin, Notify: []string{addr}}}})
	if err := s.SetZone(testOrigin, rpzText(t, 2020031201, "evil.example")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // two unanswered, then answered
		if n := next(t, got); n.serial != 2020031201 || n.tsig {
			t.Errorf("NOTIFY %d: %+v, want unsigned with serial 2020031201", i, n)
		}
	}
	// A new serial is announced too.
	if err := s.SetZone(testOrigin, rpzText(t, 2020031202, "evil.example", "evil2.example")); err != nil {
		t.Fatal(err)
	}
	if n := next(t, got); n.serial != 2020031202 {
		t.Errorf("after the second zone: NOTIFY for serial %d, want 2020031202", n.serial)
	}
}

func TestNotifySigned(t *testing.T) {
	addr, got := fakeSecondary(t, 0, testSecret)
	s := start(t, Config{Keys: []Key{{Name: "ward-rpz", Secret: testSecret}},
		Zones: []ZoneConfig{{Origin: testOrigin, RequireTSIG: true, Keys: []string{"ward-rpz"}, Notify: []string{addr}, NotifyKey: "ward-rpz"}}})
	if err := s.SetZone(testOrigin, rpzText(t, 7, "evil.example")); err != nil {
		t.Fatal(err)
	}
	if n := next(t, got); !n.signed || n.serial != 7 {
		t.Errorf("NOTIFY %+v, want one signed with ward-rpz for serial 7", n)
	}
}

func TestNotifyBeforeRun(t *testing.T) {
	// A zone loaded before Run is announced when Run starts, so that a
	// restarted ward tells its secondaries to check.
	addr, got := fakeSecondary(t, 0, "")
	s, err := New(Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: testOrigin, Notify: []string{addr}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetZone(testOrigin, rpzText(t, 3, "evil.example")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	if n := next(t, got); n.serial != 3 {
		t.Errorf("NOTIFY for serial %d, want 3", n.serial)
	}
}
