package alert

import (
	"context"
	"crypto/tls"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// smtpConfig is a sink config for the fake server f.
func smtpConfig(t *testing.T, f *fakeSMTP) SMTPConfig {
	_, pool := testCert(t)
	// The fake server makes its own certificate; trust that one.
	pool.AddCert(f.cert.Leaf)
	return SMTPConfig{
		Addr:      f.addr(),
		From:      "ward <ward@hospital.example>",
		To:        []string{"soc@hospital.example", "Security Officer <ciso@hospital.example>"},
		Username:  "ward",
		Password:  "pw",
		TLSConfig: &tls.Config{RootCAs: pool},
		HELO:      "ward.test",
		Timeout:   5 * time.Second,
	}
}

func newSMTP(t *testing.T, cfg SMTPConfig) Sink {
	t.Helper()
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readMail parses a delivered message and decodes its text body.
func readMail(t *testing.T, data string) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("delivered message does not parse: %v\n%s", err, data)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return m, string(body)
}

func TestSMTPDelivers(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "PLAIN LOGIN", user: "ward", pass: "pw"})
	s := newSMTP(t, smtpConfig(t, f))
	if err := s.Send(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	got := f.session(t)
	if !got.tls || !got.authOK || slices.Contains(got.authTLS, false) {
		t.Errorf("tls=%v authOK=%v authTLS=%v: want a login over TLS", got.tls, got.authOK, got.authTLS)
	}
	if got.from != "FROM:<ward@hospital.example> BODY=8BITMIME" {
		t.Errorf("MAIL %q", got.from)
	}
	if want := []string{"TO:<soc@hospital.example>", "TO:<ciso@hospital.example>"}; !slices.Equal(got.rcpts, want) {
		t.Errorf("RCPT %q, want %q", got.rcpts, want)
	}
	golden(t, "mail-plain.eml", []byte(got.data))
	m, body := readMail(t, got.data)
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
	for k, want := range map[string]string{
		"Message-Id":                "<f123-s3@ward>",
		"Date":                      "Sat, 14 Mar 2026 09:26:53 +0000",
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
		"X-Ward-Alert-Id":           "f123-s3",
	} {
		if v := m.Header.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if subj != "[ward] rivm-coronatest.nl imitates RIVM: malicious" {
		t.Errorf("Subject %q", subj)
	}
	for _, want := range []string{"suspicious → malicious", "- login form posting to another domain", "https://ward.example.org/findings/f123"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

// TestSMTPHeaderInjection sends a title built to add a Bcc header and
// checks that the message has no header the sink did not write.
func TestSMTPHeaderInjection(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "PLAIN", user: "ward", pass: "pw"})
	s := newSMTP(t, smtpConfig(t, f))
	a := hostileAlert()
	a.ID = "f9-s1\r\nBcc: x@evil.test"
	a.Severity = "high\r\nBcc: y@evil.test"
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	got := f.session(t)
	m, _ := readMail(t, got.data)
	if len(m.Header["Bcc"]) != 0 {
		t.Fatalf("injected Bcc header: %q", m.Header["Bcc"])
	}
	for line := range strings.SplitSeq(got.data[:strings.Index(got.data, "\r\n\r\n")], "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc") {
			t.Errorf("header line %q", line)
		}
		if len(line) > 998 {
			t.Errorf("header line of %d bytes", len(line))
		}
	}
	if len(got.rcpts) != 2 {
		t.Errorf("recipients %q: the title added one", got.rcpts)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subj, "{{DATE(2026-01-01T00:00:00Z)}}  Bcc: victim@example.org") {
		t.Errorf("Subject %q: the title's text should stay, on one line", subj)
	}
	if id := m.Header.Get("Message-Id"); strings.ContainsAny(id, " \r\n:") || !strings.HasSuffix(id, "@ward>") {
		t.Errorf("Message-ID %q", id)
	}
}

// TestSMTPEncodedWordInTitle checks that a title holding an encoded-word
// reaches the reader as the text it is, not decoded.
func TestSMTPEncodedWordInTitle(t *testing.T) {
	v := encodeHeader("Subject", "=?utf-8?q?Your_bank?= says hi")
	h, err := mail.ReadMessage(strings.NewReader(v + "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := new(mime.WordDecoder).DecodeHeader(h.Header.Get("Subject"))
	if got != "=?utf-8?q?Your_bank?= says hi" {
		t.Errorf("decoded subject %q", got)
	}
}

func TestSMTPLoginAuth(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "LOGIN", user: "ward", pass: "pw"})
	if err := newSMTP(t, smtpConfig(t, f)).Send(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	if got := f.session(t); !got.authOK || got.data == "" {
		t.Errorf("authOK=%v, delivered=%v", got.authOK, got.data != "")
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{implicitTLS: true, authMechs: "PLAIN", user: "ward", pass: "pw"})
	cfg := smtpConfig(t, f)
	cfg.ImplicitTLS = true
	if err := newSMTP(t, cfg).Send(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	if got := f.session(t); !got.tls || !got.authOK || got.data == "" || slices.Contains(got.cmds, "STARTTLS") {
		t.Errorf("session %+v", got)
	}
}

// TestSMTPNoPasswordInClear: with STARTTLS opportunistic and a server
// that does not offer it, the sink must fail rather than log in in clear,
// even when the server advertises AUTH.
func TestSMTPNoPasswordInClear(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{authMechs: "PLAIN LOGIN", authInClear: true, user: "ward", pass: "pw"})
	cfg := smtpConfig(t, f)
	cfg.StartTLS = StartTLSOpportunistic
	err := newSMTP(t, cfg).Send(context.Background(), sampleAlert())
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("Send = %v, want a permanent refusal to log in without TLS", err)
	}
	got := f.session(t)
	if slices.Contains(got.cmds, "AUTH") || slices.Contains(got.cmds, "MAIL") {
		t.Errorf("commands %q: AUTH or MAIL sent without TLS", got.cmds)
	}
}

func TestSMTPStartTLSRequired(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{})
	cfg := smtpConfig(t, f)
	cfg.Username, cfg.Password = "", ""
	err := newSMTP(t, cfg).Send(context.Background(), sampleAlert())
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send = %v, want a permanent error about STARTTLS", err)
	}
	if got := f.session(t); slices.Contains(got.cmds, "MAIL") {
		t.Errorf("commands %q: mail sent in clear", got.cmds)
	}
}

func TestSMTPOpportunisticAndNone(t *testing.T) {
	tests := []struct {
		mode    string
		offer   bool
		wantTLS bool
	}{
		{StartTLSOpportunistic, false, false},
		{StartTLSOpportunistic, true, true},
		{StartTLSNone, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			f := startSMTP(t, &fakeSMTP{offerStartTLS: tt.offer})
			cfg := smtpConfig(t, f)
			cfg.Username, cfg.Password, cfg.StartTLS = "", "", tt.mode
			if err := newSMTP(t, cfg).Send(context.Background(), sampleAlert()); err != nil {
				t.Fatal(err)
			}
			if got := f.session(t); got.tls != tt.wantTLS || got.data == "" {
				t.Errorf("tls=%v delivered=%v, want tls=%v", got.tls, got.data != "", tt.wantTLS)
			}
		})
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "PLAIN", user: "ward", pass: "pw"})
	cfg := smtpConfig(t, f)
	cfg.TLSConfig = nil // system roots do not know the test CA
	err := newSMTP(t, cfg).Send(context.Background(), sampleAlert())
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("Send = %v, want a permanent certificate error naming ca_file", err)
	}
	if got := f.session(t); slices.Contains(got.cmds, "AUTH") {
		t.Error("logged in over an unverified connection")
	}
}

func TestSMTPReplies(t *testing.T) {
	tests := []struct {
		name      string
		replies   map[string]string
		permanent bool
		wantData  bool
	}{
		{"greeting 554", map[string]string{"GREETING": "554 5.3.2 go away"}, true, false},
		{"greeting 421", map[string]string{"GREETING": "421 4.3.2 busy"}, false, false},
		{"auth 535", map[string]string{"AUTH": "535 5.7.8 bad credentials"}, true, false},
		{"auth 454", map[string]string{"AUTH": "454 4.7.0 try later"}, false, false},
		{"mail 451", map[string]string{"MAIL": "451 4.3.0 try later"}, false, false},
		{"rcpt 550", map[string]string{"RCPT": "550 5.1.1 no such user"}, true, false},
		{"rcpt 450", map[string]string{"RCPT": "450 4.2.1 mailbox busy"}, false, false},
		{"data 554", map[string]string{"DATA": "554 5.5.1 no valid recipients"}, true, false},
		{"end 451", map[string]string{"END": "451 4.3.0 queue full"}, false, true},
		{"end 552", map[string]string{"END": "552 5.3.4 too big"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "PLAIN", user: "ward", pass: "pw", replies: tt.replies})
			err := newSMTP(t, smtpConfig(t, f)).Send(context.Background(), sampleAlert())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tt.permanent)
			}
			if got := f.session(t); (got.data != "") != tt.wantData {
				t.Errorf("message sent = %v, want %v (commands %q)", got.data != "", tt.wantData, got.cmds)
			}
		})
	}
}

// TestSMTPHostileServer checks the bounds against a server that never
// stops talking and one that never speaks.
func TestSMTPHostileServer(t *testing.T) {
	t.Run("endless greeting", func(t *testing.T) {
		f := startSMTP(t, &fakeSMTP{greeting: "220-" + strings.Repeat("x", 2<<20)})
		err := newSMTP(t, smtpConfig(t, f)).Send(context.Background(), sampleAlert())
		if err == nil || IsPermanent(err) {
			t.Fatalf("Send = %v, want a retryable error", err)
		}
		f.session(t)
	})
	t.Run("silent", func(t *testing.T) {
		f := startSMTP(t, &fakeSMTP{silent: true})
		cfg := smtpConfig(t, f)
		cfg.Timeout = 100 * time.Millisecond
		err := newSMTP(t, cfg).Send(context.Background(), sampleAlert())
		if err == nil || IsPermanent(err) {
			t.Fatalf("Send = %v, want a retryable timeout", err)
		}
	})
}

func TestSMTPHTML(t *testing.T) {
	f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "PLAIN", user: "ward", pass: "pw"})
	cfg := smtpConfig(t, f)
	cfg.HTML = true
	if err := newSMTP(t, cfg).Send(context.Background(), hostileAlert()); err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(strings.NewReader(f.session(t).data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, p.Header.Get("Content-Type"))
		body, _ := io.ReadAll(quotedprintable.NewReader(p))
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			if strings.Contains(string(body), "<b>html</b>") {
				t.Errorf("HTML part holds the reason's markup unescaped")
			}
			if !strings.Contains(string(body), "&lt;b&gt;html&lt;/b&gt;") {
				t.Errorf("HTML part lost the escaped reason:\n%s", body)
			}
		}
	}
	if !slices.Equal(types, []string{"text/plain; charset=utf-8", "text/html; charset=utf-8"}) {
		t.Errorf("parts %q", types)
	}
}

func TestSMTPConfigErrors(t *testing.T) {
	ok := SMTPConfig{Addr: "smtp.example.org:587", From: "ward@example.org", To: []string{"soc@example.org"}}
	tests := []struct {
		edit func(*SMTPConfig)
		want string
	}{
		{func(c *SMTPConfig) { c.Addr = "smtp.example.org" }, "addr"},
		{func(c *SMTPConfig) { c.From = "not an address" }, "from"},
		{func(c *SMTPConfig) { c.From = "wärd@example.org" }, "ASCII"},
		{func(c *SMTPConfig) { c.To = nil }, "to is empty"},
		{func(c *SMTPConfig) { c.To = []string{"ok@example.org", "x\r\nBcc: y@z"} }, "to[1]"},
		{func(c *SMTPConfig) { c.StartTLS = "maybe" }, "starttls"},
		{func(c *SMTPConfig) { c.StartTLS = StartTLSNone }, "loopback"},
		{func(c *SMTPConfig) { c.ImplicitTLS, c.StartTLS = true, StartTLSOpportunistic }, "implicit_tls"},
		{func(c *SMTPConfig) { c.Addr, c.StartTLS, c.Username = "127.0.0.1:25", StartTLSNone, "u" }, "only over TLS"},
		{func(c *SMTPConfig) { c.CAFile = "testdata/nonexistent.pem" }, "ca_file"},
		{func(c *SMTPConfig) { c.Timeout = -1 }, "timeout"},
	}
	for _, tt := range tests {
		cfg := ok
		tt.edit(&cfg)
		_, err := NewSMTP(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSMTP(%+v) = %v, want an error containing %q", cfg, err, tt.want)
		}
	}
	if _, err := NewSMTP(ok); err != nil {
		t.Errorf("NewSMTP(%+v) = %v", ok, err)
	}
}

func TestFoldHeader(t *testing.T) {
	long := strings.Repeat("lorem ipsum ", 30)
	h := encodeHeader("Subject", long)
	for line := range strings.SplitSeq(strings.TrimSuffix(h, "\r\n"), "\r\n") {
		if len(line) > maxHeaderLine {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	m, err := mail.ReadMessage(strings.NewReader(h + "\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Subject"); got != strings.TrimSpace(long) {
		t.Errorf("unfolded %q", got)
	}
}

// TestSMTPNoGoroutineLeft checks that deliveries, failed and cancelled
// ones included, leave no goroutine behind once the server is gone.
func TestSMTPNoGoroutineLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("sends", func(t *testing.T) {
		f := startSMTP(t, &fakeSMTP{offerStartTLS: true, authMechs: "PLAIN", user: "ward", pass: "pw"})
		s := newSMTP(t, smtpConfig(t, f))
		for i := range 10 {
			ctx, cancel := context.WithCancel(context.Background())
			if i%3 == 0 {
				cancel() // a delivery abandoned before it starts
			}
			_ = s.Send(ctx, sampleAlert())
			cancel()
		}
		silent := startSMTP(t, &fakeSMTP{silent: true})
		cfg := smtpConfig(t, silent)
		cfg.Timeout = 50 * time.Millisecond
		_ = newSMTP(t, cfg).Send(context.Background(), sampleAlert())
	})
	// Goroutines of the finished servers take a moment to return.
	for range 200 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Errorf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
}
