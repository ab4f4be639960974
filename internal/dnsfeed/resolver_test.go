package dnsfeed

// Integration tests against real resolvers: Unbound and BIND pull ward's
// zones by transfer from a Server on loopback and apply them to queries
// they forward to a small fake "internet" (a miekg/dns server). They skip
// when the binaries are missing, unless WARD_REQUIRE_RESOLVERS=1.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/ward-health/ward/internal/intel"
)

// findBinary returns the path of a resolver binary, or skips the test
// (fails it when WARD_REQUIRE_RESOLVERS=1).
func findBinary(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := filepath.Join("/usr/sbin", name); fileExists(p) {
		return p
	}
	if os.Getenv("WARD_REQUIRE_RESOLVERS") == "1" {
		t.Fatalf("%s is not installed and WARD_REQUIRE_RESOLVERS=1: apt-get install unbound bind9", name)
	}
	t.Skipf("%s is not installed (apt-get install unbound bind9); set WARD_REQUIRE_RESOLVERS=1 to fail instead", name)
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// freePort returns a loopback port free for both UDP and TCP at the time
// of the call.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

// internet is the fake upstream: it answers A queries for the names in
// addrs (and their subdomains' exact entries only), NXDOMAIN otherwise.
var internet = map[string]string{
	"allowed.example.":        "192.0.2.10",
	"evil.example.":           "192.0.2.66",
	"www.evil.example.":       "192.0.2.66",
	"partner.example.":        "192.0.2.20",
	"rivm-coronatest.example": "192.0.2.67",
	"late.example.":           "192.0.2.68",
	"phish.example.":          "192.0.2.69",
	"login.phish.example.":    "192.0.2.69",
	"late-phish.example.":     "192.0.2.70",
	"walled.ward.example.":    "192.0.2.99",
}

// startInternet runs the fake upstream on loopback (UDP and TCP) and
// returns its port.
func startInternet(t *testing.T) int {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative, m.RecursionAvailable = true, true
		if len(r.Question) == 1 {
			q := r.Question[0]
			addr, ok := internet[strings.ToLower(q.Name)]
			switch {
			case !ok:
				m.Rcode = dns.RcodeNameError
			case q.Qtype == dns.TypeA:
				rr, _ := dns.NewRR(fmt.Sprintf("%s 60 IN A %s", q.Name, addr))
				m.Answer = append(m.Answer, rr)
			}
			if len(m.Answer) == 0 {
				soa, _ := dns.NewRR("example. 60 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60")
				m.Ns = append(m.Ns, soa)
			}
		}
		w.WriteMsg(m)
	})
	var servers []*dns.Server
	for range 20 {
		port := freePort(t)
		pc, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			pc.Close()
			continue
		}
		servers = []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}}
		for _, s := range servers {
			go s.ActivateAndServe()
		}
		t.Cleanup(func() {
			for _, s := range servers {
				s.Shutdown()
			}
		})
		return port
	}
	t.Fatal("no port for the fake internet")
	return 0
}

// runDaemon starts a resolver in the foreground and stops it when the
// test ends, logging its output if the test failed.
func runDaemon(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, name, args...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() || testing.Verbose() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// resolve asks the resolver at port for name's A records.
func resolve(port int, name string) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, fmt.Sprintf("127.0.0.1:%d", port))
	return r, err
}

// eventually polls check until it returns "" or 15 seconds pass (resolvers
// transfer and reload in the background).
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s", what, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectNX waits until name answers NXDOMAIN.
func expectNX(t *testing.T, port int, name string) {
	t.Helper()
	eventually(t, name+" should be blocked (NXDOMAIN)", func() string {
		r, err := resolve(port, name)
		if err != nil {
			return err.Error()
		}
		if r.Rcode != dns.RcodeNameError {
			return fmt.Sprintf("rcode %s, answers %v", dns.RcodeToString[r.Rcode], r.Answer)
		}
		return ""
	})
}

// expectA waits until name answers with addr.
func expectA(t *testing.T, port int, name, addr string) {
	t.Helper()
	eventually(t, name+" should resolve to "+addr, func() string {
		r, err := resolve(port, name)
		if err != nil {
			return err.Error()
		}
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok && a.A.String() == addr {
				return ""
			}
		}
		return fmt.Sprintf("rcode %s, answers %v", dns.RcodeToString[r.Rcode], r.Answer)
	})
}

// expectCNAME waits until name answers a CNAME to target (the walled
// garden) and logs what else the answer holds.
func expectCNAME(t *testing.T, port int, name, target string) {
	t.Helper()
	eventually(t, name+" should be sent to the walled garden "+target, func() string {
		r, err := resolve(port, name)
		if err != nil {
			return err.Error()
		}
		for _, rr := range r.Answer {
			if c, ok := rr.(*dns.CNAME); ok && c.Target == dns.Fqdn(target) {
				t.Logf("%s: %v", name, r.Answer)
				return ""
			}
		}
		return fmt.Sprintf("rcode %s, answers %v", dns.RcodeToString[r.Rcode], r.Answer)
	})
}

// policyZone writes an RPZ zone with intel.WriteRPZ.
func policyZone(t *testing.T, origin string, serial uint32, garden string, blocked ...string) []byte {
	t.Helper()
	return rpzTextOpts(t, intel.RPZOptions{Origin: origin, Serial: serial, WalledGarden: garden,
		Passthru: []string{"partner.example"}, TTL: 60, Refresh: 60, Retry: 10, NS: []string{"localhost"}}, blocked...)
}

func TestUnbound(t *testing.T) {
	unbound := findBinary(t, "unbound")
	up := startInternet(t)
	port := freePort(t)
	const gardenZone, garden = "garden.ward.example.", "walled.ward.example"
	s := start(t, Config{Zones: []ZoneConfig{
		{Origin: testOrigin, AllowTransfer: loopback, Notify: []string{fmt.Sprintf("127.0.0.1:%d", port)}},
		{Origin: gardenZone, AllowTransfer: loopback},
	}, NotifyInterval: 200 * time.Millisecond})
	// partner.example is blocked and passed through: the passthru wins.
	if err := s.SetZone(testOrigin, policyZone(t, testOrigin, 2020031200, "", "evil.example", "partner.example")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZone(gardenZone, policyZone(t, gardenZone, 2020031200, garden, "phish.example")); err != nil {
		t.Fatal(err)
	}
	_, primaryPort, _ := net.SplitHostPort(s.Addr())
	dir := t.TempDir()
	conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "%[2]s"
	pidfile: "%[2]s/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	module-config: "respip iterator"
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	qname-minimisation: no
	so-reuseport: no
remote-control:
	control-enable: no
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@%[3]d
rpz:
	name: %[4]s
	primary: 127.0.0.1@%[5]s
	zonefile: "%[2]s/rpz.zone"
	allow-notify: 127.0.0.1
	rpz-log: yes
rpz:
	name: %[6]s
	primary: 127.0.0.1@%[5]s
	zonefile: "%[2]s/garden.zone"
	rpz-log: yes
`, port, dir, up, testOrigin, primaryPort, gardenZone)
	confPath := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	runDaemon(t, unbound, "-d", "-c", confPath)

	expectNX(t, port, "evil.example")
	expectNX(t, port, "www.evil.example")
	expectA(t, port, "allowed.example", "192.0.2.10")
	expectA(t, port, "partner.example", "192.0.2.20")
	expectCNAME(t, port, "login.phish.example", garden)

	// A new serial that blocks one more name reaches Unbound by NOTIFY
	// (its refresh is 60 s, longer than this test waits).
	if err := s.SetZone(testOrigin, policyZone(t, testOrigin, 2020031201, "", "evil.example", "partner.example", "late.example")); err != nil {
		t.Fatal(err)
	}
	expectNX(t, port, "late.example")
	expectA(t, port, "allowed.example", "192.0.2.10")
}

func TestBIND(t *testing.T) {
	named := findBinary(t, "named")
	up := startInternet(t)
	port := freePort(t)
	const (
		nxZone     = "rpz.ward.example."
		gardenZone = "garden.ward.example."
		garden     = "walled.ward.example"
	)
	target := fmt.Sprintf("127.0.0.1:%d", port)
	s := start(t, Config{
		Keys: []Key{
			{Name: "ward-rpz", Algorithm: "hmac-sha256", Secret: testSecret},
			{Name: "ward-garden", Algorithm: "hmac-sha512", Secret: testSecret2},
		},
		Zones: []ZoneConfig{
			{Origin: nxZone, RequireTSIG: true, Keys: []string{"ward-rpz"}, Notify: []string{target}, NotifyKey: "ward-rpz"},
			{Origin: gardenZone, RequireTSIG: true, Keys: []string{"ward-garden"}, Notify: []string{target}, NotifyKey: "ward-garden"},
		},
		NotifyInterval: 200 * time.Millisecond,
	})
	if err := s.SetZone(nxZone, policyZone(t, nxZone, 2020031200, "", "evil.example")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZone(gardenZone, policyZone(t, gardenZone, 2020031200, garden, "phish.example", "partner.example")); err != nil {
		t.Fatal(err)
	}
	_, primaryPort, _ := net.SplitHostPort(s.Addr())
	dir := t.TempDir()
	conf := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion yes;
	allow-query { 127.0.0.1; };
	allow-recursion { 127.0.0.1; };
	forwarders { 127.0.0.1 port %[3]d; };
	forward only;
	dnssec-validation no;
	qname-minimization off;
	notify no;
	max-cache-size 32m;
	// BIND applies a new policy-zone version at most once a minute
	// unless told otherwise.
	response-policy { zone "%[4]s" min-update-interval 0; zone "%[5]s" min-update-interval 0; };
};
controls { };
key "ward-rpz" { algorithm hmac-sha256; secret "%[6]s"; };
key "ward-garden" { algorithm hmac-sha512; secret "%[7]s"; };
zone "%[4]s" {
	type secondary;
	primaries { 127.0.0.1 port %[8]s key ward-rpz; };
	file "%[1]s/rpz.db";
	allow-notify { 127.0.0.1; };
};
zone "%[5]s" {
	type secondary;
	primaries { 127.0.0.1 port %[8]s key ward-garden; };
	file "%[1]s/garden.db";
	allow-notify { 127.0.0.1; };
};
`, dir, port, up, nxZone, gardenZone, testSecret, testSecret2, primaryPort)
	confPath := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	runDaemon(t, named, "-g", "-4", "-n", "1", "-c", confPath)

	expectNX(t, port, "evil.example")
	expectNX(t, port, "www.evil.example")
	expectA(t, port, "allowed.example", "192.0.2.10")
	expectA(t, port, "partner.example", "192.0.2.20")
	expectCNAME(t, port, "phish.example", garden)
	expectCNAME(t, port, "login.phish.example", garden)
	// The walled garden's own address follows the CNAME.
	expectA(t, port, "phish.example", "192.0.2.99")

	// New serials reach BIND by signed NOTIFY and IXFR (its refresh is
	// 60 s, longer than this test waits).
	if err := s.SetZone(nxZone, policyZone(t, nxZone, 2020031201, "", "evil.example", "late.example")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZone(gardenZone, policyZone(t, gardenZone, 2020031201, garden, "phish.example", "partner.example", "late-phish.example")); err != nil {
		t.Fatal(err)
	}
	expectNX(t, port, "late.example")
	expectA(t, port, "late-phish.example", "192.0.2.99")
	expectA(t, port, "allowed.example", "192.0.2.10")
}
