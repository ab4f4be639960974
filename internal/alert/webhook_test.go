package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// sampleAlert is a finding as the engine would raise it.
func sampleAlert() Alert {
	return Alert{
		ID:       "f123-s3",
		Org:      "RIVM",
		Kind:     "finding",
		Title:    "rivm-coronatest.nl imitates RIVM: malicious",
		Severity: "high",
		State:    "malicious",
		Previous: "suspicious",
		Subject:  "rivm-coronatest.nl",
		Brand:    "RIVM",
		Score:    87,
		Reasons:  []string{"contains the brand label rivm", "login form posting to another domain", "certificate issued 2 hours ago"},
		Link:     "https://ward.example.org/findings/f123",
		Time:     time.Date(2026, 3, 14, 9, 26, 53, 123456000, time.UTC),
		Details:  map[string]any{"ips": []string{"192.0.2.7"}},
	}
}

// hostileAlert carries what an attacker controls: a title and subject
// built to inject mentions, links, headers and card functions.
func hostileAlert() Alert {
	a := sampleAlert()
	a.ID = "f9-s1"
	a.Title = "<!channel> <http://evil.test|click> & @all [x](http://evil.test) ![i](http://evil.test/p.png) {{DATE(2026-01-01T00:00:00Z)}}\r\nBcc: victim@example.org"
	a.Subject = "xn--rvm-coronatest-8kb.nl\"]\\ <@U123>"
	a.Reasons = []string{"*bold* _it_ `code` <b>html</b>", "line\nbreak\u202egnp.exe"}
	return a
}

// captured is one request a test server received.
type captured struct {
	header http.Header
	body   []byte
}

// captureServer answers every request with status and records it. The
// handler never calls t.Fatal: tests read the channel.
func captureServer(t *testing.T, status int, header map[string]string) (*httptest.Server, <-chan captured) {
	t.Helper()
	got := make(chan captured, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- captured{header: r.Header.Clone(), body: body}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "invalid_payload")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n got: %s\nwant: %s", name, got, want)
	}
}

func indentJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, b)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestWebhookFormats(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatSlack, FormatMattermost, FormatTeams} {
		t.Run(format, func(t *testing.T) {
			srv, got := captureServer(t, http.StatusOK, nil)
			s, err := NewWebhook(WebhookConfig{
				Format:  format,
				URL:     srv.URL + "/hooks/T000/B000/secret",
				Headers: map[string]string{"Authorization": "Bearer t0ken"},
				Secret:  "s3cret",
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), sampleAlert()); err != nil {
				t.Fatal(err)
			}
			req := <-got
			golden(t, "webhook-"+format+".json", indentJSON(t, req.body))
			for k, want := range map[string]string{
				"Idempotency-Key": "f123-s3",
				"X-Ward-Alert-Id": "f123-s3",
				"Authorization":   "Bearer t0ken",
				"Content-Type":    "application/json; charset=utf-8",
			} {
				if v := req.header.Get(k); v != want {
					t.Errorf("header %s = %q, want %q", k, v, want)
				}
			}
			m := hmac.New(sha256.New, []byte("s3cret"))
			m.Write(req.body)
			if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); req.header.Get("X-Ward-Signature") != want {
				t.Errorf("X-Ward-Signature = %q, want %q", req.header.Get("X-Ward-Signature"), want)
			}
			if strings.Contains(s.Name(), "secret") {
				t.Errorf("sink name %q reveals the URL's secret path", s.Name())
			}
		})
	}
}

func TestWebhookNoSignatureWithoutSecret(t *testing.T) {
	srv, got := captureServer(t, http.StatusOK, nil)
	s, err := NewWebhook(WebhookConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sampleAlert()); err != nil {
		t.Fatal(err)
	}
	if sig := (<-got).header.Get("X-Ward-Signature"); sig != "" {
		t.Errorf("signature %q sent without a secret", sig)
	}
}

// TestWebhookHostile checks that a hostile title, subject and reasons
// cannot mention anyone, make links, or run card functions.
func TestWebhookHostile(t *testing.T) {
	tests := []struct {
		format string
		check  func(t *testing.T, body []byte)
	}{
		{FormatSlack, func(t *testing.T, body []byte) {
			var m slackMessage
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			texts := []string{m.Text, m.Attachments[0].Title, m.Attachments[0].Text, m.Attachments[0].Fallback}
			for _, f := range m.Attachments[0].Fields {
				texts = append(texts, f.Value)
			}
			for _, s := range texts {
				if strings.ContainsAny(s, "<>") {
					t.Errorf("Slack text %q holds a raw < or >: a link or mention", s)
				}
				if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
					t.Errorf("Slack text %q holds a raw &", s)
				}
			}
			if !strings.Contains(m.Text, "&lt;!channel&gt;") {
				t.Errorf("Slack text %q lost the escaped <!channel>", m.Text)
			}
			if m.UnfurlLinks || m.UnfurlMedia {
				t.Error("Slack link previews are on: Slack would fetch the phishing page")
			}
		}},
		{FormatMattermost, func(t *testing.T, body []byte) {
			var m slackMessage
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"@all", "](", "![", "<!"} {
				if strings.Contains(m.Text, bad) || strings.Contains(m.Attachments[0].Text, bad) {
					t.Errorf("Mattermost text holds %q unescaped: %q", bad, m.Text)
				}
			}
			if !strings.Contains(m.Text, `\[x\]\(http\://evil.test\)`) {
				t.Errorf("Mattermost text %q: link syntax not escaped", m.Text)
			}
		}},
		{FormatTeams, func(t *testing.T, body []byte) {
			if bytes.Contains(body, []byte("{{DATE")) {
				t.Errorf("Teams card holds a live {{DATE}} function: %s", body)
			}
			var m teamsMessage
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			for _, b := range m.Attachments[0].Content.Body {
				if b.Type != "RichTextBlock" {
					t.Errorf("card block %q: outside text must go in TextRuns, which Teams does not read as Markdown", b.Type)
				}
				for _, r := range b.Inlines {
					if strings.ContainsAny(r.Text, "\r\n\u202e") {
						t.Errorf("card text %q holds a line break or bidi override", r.Text)
					}
				}
			}
		}},
		{FormatJSON, func(t *testing.T, body []byte) {
			var a Alert
			if err := json.Unmarshal(body, &a); err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(a.Title, "\r\n") {
				t.Errorf("JSON title %q holds a line break", a.Title)
			}
			if !strings.Contains(a.Title, "<!channel> <http://evil.test|click>") {
				t.Errorf("JSON title %q: the generic format must carry the text as it is", a.Title)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			srv, got := captureServer(t, http.StatusOK, nil)
			s, err := NewWebhook(WebhookConfig{Format: tt.format, URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), hostileAlert()); err != nil {
				t.Fatal(err)
			}
			tt.check(t, (<-got).body)
		})
	}
}

func TestWebhookStatus(t *testing.T) {
	tests := []struct {
		status     int
		header     map[string]string
		wantErr    bool
		permanent  bool
		retryAfter time.Duration // 0: none
	}{
		{status: 200},
		{status: 204},
		{status: 400, wantErr: true, permanent: true},
		{status: 401, wantErr: true, permanent: true},
		{status: 404, wantErr: true, permanent: true},
		{status: 410, wantErr: true, permanent: true},
		{status: 408, wantErr: true},
		{status: 425, wantErr: true},
		{status: 429, wantErr: true},
		{status: 429, header: map[string]string{"Retry-After": "7"}, wantErr: true, retryAfter: 7 * time.Second},
		{status: 429, header: map[string]string{"Retry-After": "999999"}, wantErr: true, retryAfter: maxRetryAfter},
		{status: 503, header: map[string]string{"Retry-After": "Sat, 14 Mar 2026 09:27:23 GMT"}, wantErr: true, retryAfter: 30 * time.Second},
		{status: 500, wantErr: true},
		{status: 502, wantErr: true},
		{status: 302, header: map[string]string{"Location": "http://10.0.0.1/admin"}, wantErr: true, permanent: true},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv, got := captureServer(t, tt.status, tt.header)
			s, err := NewWebhook(WebhookConfig{URL: srv.URL + "/secret-token"})
			if err != nil {
				t.Fatal(err)
			}
			s.(*webhook).now = func() time.Time { return time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC) }
			err = s.Send(context.Background(), sampleAlert())
			<-got
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			if IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), tt.permanent)
			}
			d, ok := RetryAfter(err)
			if ok != (tt.retryAfter != 0) || d != tt.retryAfter {
				t.Errorf("RetryAfter(%v) = %v, %v; want %v", err, d, ok, tt.retryAfter)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %q reveals the URL's secret path", err)
			}
			if !strings.Contains(err.Error(), "invalid_payload") {
				t.Errorf("error %q lacks the server's explanation", err)
			}
		})
	}
}

// TestWebhookNoRedirect checks that a redirect is not followed: a hostile
// or compromised endpoint must not steer ward's POST to an internal
// address.
func TestWebhookNoRedirect(t *testing.T) {
	inner, innerGot := captureServer(t, http.StatusOK, nil)
	srv, _ := captureServer(t, http.StatusTemporaryRedirect, map[string]string{"Location": inner.URL})
	s, err := NewWebhook(WebhookConfig{URL: srv.URL, Client: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sampleAlert()); !IsPermanent(err) {
		t.Fatalf("Send after a redirect = %v, want a permanent error", err)
	}
	select {
	case <-innerGot:
		t.Fatal("the redirect was followed")
	default:
	}
}

func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	s, err := NewWebhook(WebhookConfig{URL: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), sampleAlert())
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send to a silent server = %v, want a retryable error", err)
	}
	// A cancelled context ends Send too, and is never permanent.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, sampleAlert()); !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Fatalf("Send with a cancelled context = %v", err)
	}
}

func TestWebhookNoID(t *testing.T) {
	srv, _ := captureServer(t, http.StatusOK, nil)
	s, err := NewWebhook(WebhookConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	a.ID = " "
	if err := s.Send(context.Background(), a); !errors.Is(err, ErrNoID) || !IsPermanent(err) {
		t.Fatalf("Send without ID = %v, want permanent ErrNoID", err)
	}
}

func TestWebhookBounds(t *testing.T) {
	srv, got := captureServer(t, http.StatusOK, nil)
	s, err := NewWebhook(WebhookConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	a := sampleAlert()
	a.Title = strings.Repeat("é", 10000)
	a.Reasons = make([]string, 1000)
	for i := range a.Reasons {
		a.Reasons[i] = strings.Repeat("r", 5000)
	}
	a.Details = map[string]any{"blob": strings.Repeat("x", 1<<20)}
	if err := s.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	body := (<-got).body
	var out struct {
		Alert
		DetailsDropped bool `json:"details_dropped"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Title) > MaxTitleLen || !strings.HasSuffix(out.Title, ellipsis) {
		t.Errorf("title of %d bytes not cut to %d with an ellipsis", len(out.Title), MaxTitleLen)
	}
	if len(out.Reasons) != MaxReasons+1 || out.Reasons[MaxReasons] != "… and 980 more" {
		t.Errorf("got %d reasons ending %q, want %d and a count of the rest", len(out.Reasons), out.Reasons[len(out.Reasons)-1], MaxReasons+1)
	}
	if !out.DetailsDropped || out.Details != nil {
		t.Errorf("1 MiB of details sent (dropped=%v)", out.DetailsDropped)
	}
	if len(body) > maxWebhookBody {
		t.Errorf("body of %d bytes", len(body))
	}
}

func TestWebhookConcurrent(t *testing.T) {
	srv, got := captureServer(t, http.StatusOK, nil)
	s, err := NewWebhook(WebhookConfig{Format: FormatSlack, URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			a := sampleAlert()
			a.ID = "f" + strings.Repeat("1", i+1)
			errs <- s.Send(context.Background(), a)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	seen := map[string]bool{}
	for range 32 {
		seen[(<-got).header.Get("Idempotency-Key")] = true
	}
	if len(seen) != 32 {
		t.Errorf("%d distinct idempotency keys for 32 alerts", len(seen))
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  WebhookConfig
		want string
	}{
		{WebhookConfig{}, "url is empty"},
		{WebhookConfig{URL: "ftp://x.example/"}, "not an http(s) URL"},
		{WebhookConfig{URL: "http://hooks.example.org/x"}, "allow_http"},
		{WebhookConfig{URL: "https://u:p@hooks.example.org/"}, "credentials in headers"},
		{WebhookConfig{URL: "https://hooks.example.org/", Format: "discord"}, "format \"discord\""},
		{WebhookConfig{URL: "https://hooks.example.org/", Headers: map[string]string{"Bad Name": "x"}}, "valid header name"},
		{WebhookConfig{URL: "https://hooks.example.org/", Headers: map[string]string{"X-Token": "a\r\nBcc: b"}}, "control character"},
		{WebhookConfig{URL: "https://hooks.example.org/", Headers: map[string]string{"idempotency-key": "x"}}, "Idempotency-Key is set by ward"},
		{WebhookConfig{URL: "https://hooks.example.org/", Headers: map[string]string{"X-Ward-Signature": "x"}}, "set by ward"},
		{WebhookConfig{URL: "https://hooks.example.org/", Timeout: -time.Second}, "timeout"},
	}
	for _, tt := range tests {
		_, err := NewWebhook(tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewWebhook(%+v) = %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
	for _, ok := range []WebhookConfig{
		{URL: "http://127.0.0.1:8080/hook"},
		{URL: "http://[::1]/hook"},
		{URL: "http://siem.hospital.internal/hook", AllowHTTP: true},
		{URL: "https://hooks.slack.com/services/T/B/x", Format: FormatSlack},
	} {
		if _, err := NewWebhook(ok); err != nil {
			t.Errorf("NewWebhook(%+v) = %v", ok, err)
		}
	}
}

func BenchmarkWebhookBody(b *testing.B) {
	for _, format := range []string{FormatJSON, FormatSlack, FormatTeams} {
		b.Run(format, func(b *testing.B) {
			w := &webhook{format: format}
			a, _ := hostileAlert().bounded()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := w.body(a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
