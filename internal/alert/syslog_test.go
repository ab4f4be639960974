package alert

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// wantFrame is the exact RFC 5424 message of sampleAlert from a sink with
// hostname "ward-host" and the default facility local0.
func wantFrame() string {
	return "<131>1 2026-03-14T09:26:53.123456Z ward-host ward " + strconv.Itoa(os.Getpid()) + " f123-s3 " +
		`[ward@32473 id="f123-s3" org="RIVM" kind="finding" severity="high" state="malicious" previous="suspicious" subject="rivm-coronatest.nl" brand="RIVM" score="87"] ` +
		"rivm-coronatest.nl imitates RIVM: malicious Reasons: contains the brand label rivm; login form posting to another domain; certificate issued 2 hours ago"
}

func newSyslog(t *testing.T, cfg SyslogConfig) Sink {
	t.Helper()
	if cfg.Hostname == "" {
		cfg.Hostname = "ward-host"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	s, err := NewSyslog(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// udpCollector returns a loopback UDP socket and a function that reads one
// datagram from it.
func udpCollector(t *testing.T) (string, func() string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String(), func() string {
		buf := make([]byte, 65536)
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
}

// streamCollector accepts one connection on ln and returns all it sent.
func streamCollector(t *testing.T, ln net.Listener) <-chan string {
	t.Helper()
	got := make(chan string, 1)
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	return got
}

func TestSyslogUDP(t *testing.T) {
	addr, read := udpCollector(t)
	s := newSyslog(t, SyslogConfig{Network: SyslogUDP, Addr: addr})
	if err := s.Send(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != wantFrame() {
		t.Errorf("datagram\n got %q\nwant %q", got, wantFrame())
	}
}

func TestSyslogTCP(t *testing.T) {
	tests := []struct {
		framing string
		want    string
	}{
		{"", strconv.Itoa(len(wantFrame())) + " " + wantFrame()},
		{FramingNonTransparent, wantFrame() + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.framing, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			got := streamCollector(t, ln)
			s := newSyslog(t, SyslogConfig{Network: SyslogTCP, Addr: ln.Addr().String(), Framing: tt.framing})
			if err := s.Send(context.Background(), sampleAlert()); err != nil {
				t.Fatal(err)
			}
			if g := <-got; g != tt.want {
				t.Errorf("stream\n got %q\nwant %q", g, tt.want)
			}
		})
	}
}

func TestSyslogTLS(t *testing.T) {
	cert, pool := testCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	got := streamCollector(t, ln)
	s := newSyslog(t, SyslogConfig{Network: SyslogTLS, Addr: ln.Addr().String(), TLSConfig: &tls.Config{RootCAs: pool}})
	if err := s.Send(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	if g, want := <-got, strconv.Itoa(len(wantFrame()))+" "+wantFrame(); g != want {
		t.Errorf("stream\n got %q\nwant %q", g, want)
	}
}

func TestSyslogTLSUntrusted(t *testing.T) {
	cert, _ := testCert(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	streamCollector(t, ln)
	s := newSyslog(t, SyslogConfig{Network: SyslogTLS, Addr: ln.Addr().String()})
	if err := s.Send(context.Background(), sampleAlert()); err == nil || !IsPermanent(err) {
		t.Fatalf("Send to an untrusted collector = %v, want a permanent error", err)
	}
}

func TestSyslogUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newSyslog(t, SyslogConfig{Network: SyslogTCP, Addr: addr})
	if err := s.Send(context.Background(), sampleAlert()); err == nil || IsPermanent(err) {
		t.Fatalf("Send to a closed port = %v, want a retryable error", err)
	}
}

// rfc5424 is a message split back into its parts by parse5424.
type rfc5424 struct {
	pri, timestamp, hostname, appName, procID, msgID string
	params                                           map[string]string
	msg                                              string
}

var pri5424 = regexp.MustCompile(`^<(\d|[1-9]\d|1[0-8]\d|19[01])>1$`)

// parse5424 parses one message with one SD-ELEMENT as a receiver would.
func parse5424(m string) (rfc5424, error) {
	var r rfc5424
	fields := strings.SplitN(m, " ", 7)
	if len(fields) != 7 {
		return r, errors.New("fewer than 7 header fields")
	}
	if !pri5424.MatchString(fields[0]) {
		return r, fmt.Errorf("PRI and VERSION %q", fields[0])
	}
	r.pri, r.timestamp, r.hostname, r.appName, r.procID, r.msgID = fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]
	for _, f := range fields[1:6] {
		if f == "" || strings.ContainsFunc(f, func(r rune) bool { return r < 33 || r > 126 }) {
			return r, fmt.Errorf("header field %q is not PRINTUSASCII", f)
		}
	}
	if len(r.msgID) > 32 {
		return r, fmt.Errorf("MSGID of %d bytes", len(r.msgID))
	}
	rest := fields[6]
	if !strings.HasPrefix(rest, "["+sdID) {
		return r, errors.New("no ward SD-ELEMENT")
	}
	rest = rest[len(sdID)+1:]
	r.params = map[string]string{}
	for {
		if strings.HasPrefix(rest, "]") {
			rest = rest[1:]
			break
		}
		if !strings.HasPrefix(rest, " ") {
			return r, fmt.Errorf("want SP or ] at %q", rest)
		}
		name, after, ok := strings.Cut(rest[1:], "=\"")
		if !ok {
			return r, errors.New("SD-PARAM without =\"")
		}
		// The value ends at the first '"' not escaped by a backslash.
		end := -1
		for i := 0; i < len(after); i++ {
			if after[i] == '\\' {
				i++
				continue
			}
			if after[i] == '"' {
				end = i
				break
			}
		}
		if end < 0 {
			return r, errors.New("unterminated PARAM-VALUE")
		}
		v, ok := sdParamUnescape(after[:end])
		if !ok {
			return r, fmt.Errorf("PARAM-VALUE %q is badly escaped", after[:end])
		}
		if !utf8.ValidString(v) {
			return r, fmt.Errorf("PARAM-VALUE %q is not UTF-8", v)
		}
		r.params[name] = v
		rest = after[end+1:]
	}
	if rest != "" {
		if rest[0] != ' ' {
			return r, errors.New("no SP before MSG")
		}
		r.msg = strings.TrimPrefix(rest[1:], bom)
		if !utf8.ValidString(r.msg) {
			return r, errors.New("MSG is not UTF-8")
		}
	}
	return r, nil
}

func TestSyslogHostile(t *testing.T) {
	addr, read := udpCollector(t)
	s := newSyslog(t, SyslogConfig{Addr: addr})
	a := hostileAlert()
	a.ID = "f9 s1\n<13>1 forged"
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	frame := read()
	if strings.ContainsAny(frame, "\r\n") {
		t.Errorf("frame holds a line break: a collector splitting lines sees a forged message: %q", frame)
	}
	m, err := parse5424(frame)
	if err != nil {
		t.Fatalf("%v in %q", err, frame)
	}
	b, _ := a.bounded()
	if m.params["subject"] != b.Subject || m.params["id"] != b.ID {
		t.Errorf("params %q, want subject %q and id %q", m.params, b.Subject, b.ID)
	}
	if !strings.HasPrefix(m.msgID, "f9_s1_<13>1_forged.") || len(m.msgID) > 32 {
		t.Errorf("MSGID %q", m.msgID)
	}
	if !strings.HasPrefix(m.msg, b.Title) {
		t.Errorf("MSG %q does not start with the title", m.msg)
	}
}

func TestSyslogSize(t *testing.T) {
	huge := sampleAlert()
	huge.Title = strings.Repeat("ë", 5000)
	huge.Reasons = []string{strings.Repeat("r", 5000)}
	quotes := sampleAlert()
	quotes.Subject = strings.Repeat(`"]\`, 1000)
	quotes.Org, quotes.Brand, quotes.Kind = strings.Repeat(`"`, 200), strings.Repeat(`]`, 200), strings.Repeat(`\`, 200)
	for _, tt := range []struct {
		name    string
		network string
		maxSize int
		a       Alert
	}{
		{"udp huge", SyslogUDP, 0, huge},
		{"udp quotes", SyslogUDP, 0, quotes},
		{"udp small", SyslogUDP, 480, quotes},
		{"tcp huge", SyslogTCP, 0, huge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSyslog(t, SyslogConfig{Network: tt.network, Addr: "127.0.0.1:514", MaxSize: tt.maxSize}).(*syslogSink)
			b, _ := tt.a.bounded()
			msg := s.format(b)
			if len(msg) > s.maxSize {
				t.Errorf("message of %d bytes, max %d", len(msg), s.maxSize)
			}
			m, err := parse5424(string(msg))
			if err != nil {
				t.Fatalf("%v in %q", err, msg)
			}
			if m.params["id"] != "f123-s3" {
				t.Errorf("id %q", m.params["id"])
			}
			if strings.HasPrefix(tt.name, "udp huge") && !strings.HasSuffix(m.msg, ellipsis) {
				t.Errorf("cut MSG does not end with an ellipsis: %q", m.msg)
			}
		})
	}
}

func TestSyslogBOM(t *testing.T) {
	s := newSyslog(t, SyslogConfig{Addr: "127.0.0.1:514"}).(*syslogSink)
	a, _ := sampleAlert().bounded()
	if strings.Contains(string(s.format(a)), bom) {
		t.Error("BOM before an ASCII MSG")
	}
	a.Title = "rivm-coronatest.nl imite le RIVM : malveillant — ça"
	if !strings.Contains(string(s.format(a)), "] "+bom+"rivm") {
		t.Error("no BOM before a UTF-8 MSG")
	}
}

func TestSyslogFacilityAndSeverity(t *testing.T) {
	tests := []struct {
		facility, severity string
		pri                string
	}{
		{"", "critical", "<130>"},
		{"auth", "info", "<38>"},
		{"local7", "low", "<189>"},
		{"3", "medium", "<28>"},
		{"user", "bogus", "<13>"},
	}
	for _, tt := range tests {
		s := newSyslog(t, SyslogConfig{Addr: "127.0.0.1:514", Facility: tt.facility}).(*syslogSink)
		a, _ := sampleAlert().bounded()
		a.Severity = tt.severity
		if got := string(s.format(a)); !strings.HasPrefix(got, tt.pri+"1 ") {
			t.Errorf("facility %q severity %q: %q, want PRI %s", tt.facility, tt.severity, got[:10], tt.pri)
		}
	}
}

func TestSyslogConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  SyslogConfig
		want string
	}{
		{SyslogConfig{Addr: "x:514", Network: "relp"}, "network"},
		{SyslogConfig{Addr: "siem.example.org"}, "addr"},
		{SyslogConfig{Addr: "x:514", Facility: "local9"}, "facility"},
		{SyslogConfig{Addr: "x:514", Facility: "24"}, "facility"},
		{SyslogConfig{Addr: "x:514", Framing: FramingNonTransparent}, "only for network tcp"},
		{SyslogConfig{Addr: "x:514", Framing: "lf"}, "framing"},
		{SyslogConfig{Addr: "x:514", MaxSize: 4096}, "max_size"},
		{SyslogConfig{Addr: "x:514", MaxSize: 100}, "max_size"},
		{SyslogConfig{Addr: "x:514", Network: SyslogTLS, CAFile: "testdata/none.pem"}, "ca_file"},
		{SyslogConfig{Addr: "x:514", Timeout: -time.Second}, "timeout"},
	}
	for _, tt := range tests {
		_, err := NewSyslog(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSyslog(%+v) = %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
}

// TestSyslogStreamParse reads a TCP stream with octet-counting as a
// collector does, for several alerts in a row.
func TestSyslogStreamParse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	frames := make(chan string, 8)
	go func() {
		for range 3 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			n, err := r.ReadString(' ')
			if err == nil {
				size, _ := strconv.Atoi(strings.TrimSpace(n))
				buf := make([]byte, size)
				if _, err := io.ReadFull(r, buf); err == nil {
					frames <- string(buf)
				}
			}
			c.Close()
		}
		close(frames)
	}()
	s := newSyslog(t, SyslogConfig{Network: SyslogTCP, Addr: ln.Addr().String()})
	for _, a := range []Alert{sampleAlert(), hostileAlert(), sampleAlert()} {
		if err := s.Send(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for f := range frames {
		if _, err := parse5424(f); err != nil {
			t.Errorf("%v in %q", err, f)
		}
		n++
	}
	if n != 3 {
		t.Errorf("collector read %d messages, want 3", n)
	}
}
