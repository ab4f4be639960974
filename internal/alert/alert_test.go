package alert

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"99999999", maxRetryAfter, true},
		{"Sat, 14 Mar 2026 09:01:00 GMT", time.Minute, true},
		{"Sat, 14 Mar 2026 08:00:00 GMT", 0, true}, // in the past: retry now
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
		{"1.5", 0, false},
		{strings.Repeat("9", 100), 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPermanent(t *testing.T) {
	base := errors.New("HTTP 404")
	p := Permanent(base)
	if !IsPermanent(p) || !errors.Is(p, base) || p.Error() != "HTTP 404" {
		t.Errorf("Permanent(%v) = %v: lost its mark or its cause", base, p)
	}
	if wrapped := fmt.Errorf("sending: %w", p); !IsPermanent(wrapped) {
		t.Error("wrapping lost the permanent mark")
	}
	if IsPermanent(base) || IsPermanent(nil) || Permanent(nil) != nil {
		t.Error("unmarked errors reported permanent")
	}
	r := &retryAfterError{err: base, after: time.Second}
	if d, ok := RetryAfter(fmt.Errorf("x: %w", r)); !ok || d != time.Second {
		t.Errorf("RetryAfter = %v, %v", d, ok)
	}
	if _, ok := RetryAfter(base); ok {
		t.Error("RetryAfter of a plain error")
	}
}

func TestBounded(t *testing.T) {
	a := Alert{
		ID:      "f1",
		Title:   "bad \xff\xfe bytes\r\nand\u202eoverride\u0085",
		Reasons: []string{"\ttabbed\x00"},
	}
	b, err := a.bounded()
	if err != nil {
		t.Fatal(err)
	}
	if b.Title != "bad \uFFFD\uFFFD bytes  and\uFFFDoverride" {
		t.Errorf("title %q", b.Title)
	}
	if b.Reasons[0] != "tabbed" {
		t.Errorf("reason %q", b.Reasons[0])
	}
	if b.Time.IsZero() || b.Time.Location() != time.UTC {
		t.Errorf("time %v: want now in UTC", b.Time)
	}
	if len(a.Reasons) != 1 || a.Reasons[0] != "\ttabbed\x00" {
		t.Error("bounded changed the caller's alert")
	}
}

func TestIDTokens(t *testing.T) {
	ascii := func(c byte) bool { return c > ' ' && c <= '~' }
	if got := idToken("f123-s3", 32, ascii); got != "f123-s3" {
		t.Errorf("a plain ID became %q", got)
	}
	seen := map[string]string{}
	for _, id := range []string{"fé", "fè", "f_", "f\x00", strings.Repeat("a", 40), strings.Repeat("a", 41)} {
		tok := idToken(id, 32, ascii)
		if len(tok) > 32 {
			t.Errorf("token %q of %d bytes", tok, len(tok))
		}
		if other, ok := seen[tok]; ok {
			t.Errorf("IDs %q and %q share the token %q: a receiver would drop one as a duplicate", id, other, tok)
		}
		seen[tok] = id
	}
	if _, err := (Alert{ID: "\x00\r\n"}).bounded(); !errors.Is(err, ErrNoID) {
		t.Errorf("an ID of control characters: %v, want ErrNoID", err)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven …"},
		{"ééééé", 8, "éé…"}, // never half a character
	}
	for _, tt := range tests {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestMessageID(t *testing.T) {
	tests := map[string]string{
		"f123-s3":        "<f123-s3@ward>",
		"a.b":            "<a_b.",
		"a b":            "<a_b.",
		".a":             "<_a.",
		"x@y>\r\nBcc: z": "<x_y___Bcc__z.",
	}
	for in, want := range tests {
		if got := messageID(in); !strings.HasPrefix(got, want) {
			t.Errorf("messageID(%q) = %q, want prefix %q", in, got, want)
		}
	}
	if messageID("a b") == messageID("a_b") {
		t.Error("IDs that differ only in a replaced character share a Message-ID")
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{Type: "webhook", Format: "slack", URL: "https://hooks.slack.com/services/T/B/x"}, ""},
		{Config{Type: "smtp", Addr: "smtp.example.org:587", From: "ward@example.org", To: []string{"soc@example.org"}}, ""},
		{Config{Type: "syslog", Network: "tls", Addr: "siem.example.org:6514", Facility: "auth"}, ""},
		{Config{}, "type is empty"},
		{Config{Type: "pagerduty"}, `type "pagerduty"`},
		{Config{Type: "webhook", Name: "soc", URL: "https://x.example/", Addr: "x:25"}, `alert sink "soc": addr is not a field of webhook sinks`},
		{Config{Type: "syslog", Addr: "x:514", From: "a@b.example"}, "from is not a field of syslog"},
		{Config{Type: "smtp", Addr: "x:587", From: "a@b.example", To: []string{"c@d.example"}, Framing: "lf"}, "framing"},
		{Config{Type: "webhook", Name: "chat", URL: "http://chat.example/"}, `alert sink "chat": webhook: url`},
		{Config{Type: "smtp", Addr: "x:587", From: "a@b.example"}, "to is empty"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.want == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v", tt.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
	client := &http.Client{Timeout: time.Second}
	s, err := NewFromConfig(Config{Type: "webhook", Name: "soc-chat", Format: "teams", URL: "https://x.example/hook"}, client)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "soc-chat" {
		t.Errorf("Name() = %q", s.Name())
	}
	if w := s.(*webhook); w.client == client || w.client.Timeout != time.Second || w.client.CheckRedirect == nil {
		t.Error("the given client is not copied with redirects off")
	}
}

func TestDefaultNames(t *testing.T) {
	w, _ := NewWebhook(WebhookConfig{Format: FormatSlack, URL: "https://hooks.slack.com/services/T0/B0/XXXX"})
	m, _ := NewSMTP(SMTPConfig{Addr: "smtp.example.org:587", From: "w@example.org", To: []string{"s@example.org"}})
	s, _ := NewSyslog(SyslogConfig{Network: SyslogTCP, Addr: "siem.example.org:514"})
	for sink, want := range map[Sink]string{w: "webhook:slack:hooks.slack.com", m: "smtp:smtp.example.org:587", s: "syslog:tcp:siem.example.org:514"} {
		if sink.Name() != want {
			t.Errorf("Name() = %q, want %q", sink.Name(), want)
		}
	}
}
