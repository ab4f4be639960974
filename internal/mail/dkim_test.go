package mail

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeDNS is an authoritative DNS server on 127.0.0.1 serving TXT records.
type fakeDNS struct {
	mu  sync.Mutex
	txt map[string]string // FQDN (lower-case, with final dot) → record
}

func (z *fakeDNS) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 && req.Question[0].Qtype == dns.TypeTXT {
		z.mu.Lock()
		rec, ok := z.txt[strings.ToLower(req.Question[0].Name)]
		z.mu.Unlock()
		if ok {
			var parts []string
			for len(rec) > 255 {
				parts, rec = append(parts, rec[:255]), rec[255:]
			}
			parts = append(parts, rec)
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: parts})
		} else {
			m.Rcode = dns.RcodeNameError
		}
	}
	w.WriteMsg(m)
}

// startDNS serves records on a loopback UDP port and returns a resolver
// that asks only that server.
func startDNS(t *testing.T, records map[string]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z := &fakeDNS{txt: map[string]string{}}
	for k, v := range records {
		z.txt[strings.ToLower(dns.Fqdn(k))] = v
	}
	srv := &dns.Server{PacketConn: pc, Handler: z}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// sign adds a relaxed/relaxed DKIM-Signature to msg (CRLF line endings).
// It follows RFC 6376 section 5 step by step, independently of the
// verifier's helpers except for the relaxed header form.
func sign(t *testing.T, msg, domain, selector string, key crypto.Signer, algo string) string {
	t.Helper()
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	// Relaxed body: trailing spaces off, runs of spaces to one, no trailing
	// empty lines, final CRLF.
	lines := strings.Split(body, "\r\n")
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		for strings.Contains(l, "  ") {
			l = strings.ReplaceAll(l, "  ", " ")
		}
		lines[i] = l
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	cbody := ""
	if len(lines) > 0 {
		cbody = strings.Join(lines, "\r\n") + "\r\n"
	}
	bh := sha256.Sum256([]byte(cbody))
	signed := []string{"From", "To", "Subject"}
	sigHdr := "DKIM-Signature: v=1; a=" + algo + "; c=relaxed/relaxed; d=" + domain + "; s=" + selector +
		"; h=" + strings.Join(signed, ":") + "; bh=" + base64.StdEncoding.EncodeToString(bh[:]) + "; b="
	fields := map[string]string{}
	for _, l := range strings.Split(head, "\r\n") {
		k, _, _ := strings.Cut(l, ":")
		fields[strings.ToLower(k)] = l + "\r\n"
	}
	h := sha256.New()
	for _, k := range signed {
		h.Write([]byte(canonHeaderRelaxed(fields[strings.ToLower(k)])))
	}
	h.Write([]byte(strings.TrimSuffix(canonHeaderRelaxed(sigHdr+"\r\n"), "\r\n")))
	digest := h.Sum(nil)
	var sig []byte
	var err error
	if algo == "ed25519-sha256" {
		sig, err = key.Sign(rand.Reader, digest, crypto.Hash(0))
	} else {
		sig, err = key.Sign(rand.Reader, digest, crypto.SHA256)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sigHdr + base64.StdEncoding.EncodeToString(sig) + "\r\n" + msg
}

func TestDKIM(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rfcKey, err := os.ReadFile("testdata/dkim/brisbane._domainkey.example.com.txt")
	if err != nil {
		t.Fatal(err)
	}
	res := startDNS(t, map[string]string{
		"sel._domainkey.rivm.nl":                "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der),
		"ed._domainkey.rivm.nl":                 "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(edPub),
		"brisbane._domainkey.example.com":       strings.TrimSpace(string(rfcKey)),
		"sel._domainkey.mailer.example.net":     "v=DKIM1; p=" + base64.StdEncoding.EncodeToString(der),
		"revoked._domainkey.rivm.nl":            "v=DKIM1; p=",
		"garbage._domainkey.rivm.nl":            "v=DKIM1; p=!!!notbase64",
		"sel._domainkey.unrelated.example.org":  "v=DKIM1; p=" + base64.StdEncoding.EncodeToString(der),
		"sel2._domainkey.unrelated.example.org": "v=DKIM1; p=" + base64.StdEncoding.EncodeToString(der),
	})
	a := newTestAnalyzer(t, Config{Resolver: res, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }})
	base := "From: RIVM <info@rivm.nl>\r\nTo: staff@hospital.nl\r\nSubject: Vaccinatie  update\r\n\r\nBeste collega,  \r\n\r\nzie rivm.nl\r\n\r\n"
	rfc, err := os.ReadFile("testdata/dkim/rfc6376-example.eml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		raw       string
		wantValid bool
		detail    string // part of the dkim_invalid detail
		// unaligned: nothing authenticates the From domain.
		unaligned bool
	}{
		{"rsa pass", sign(t, base, "rivm.nl", "sel", rsaKey, "rsa-sha256"), true, "", false},
		{"ed25519 pass", sign(t, base, "rivm.nl", "ed", edKey, "ed25519-sha256"), true, "", false},
		{"RFC 6376 example (simple/simple)", strings.ReplaceAll(string(rfc), "\n", "\r\n"), true, "", false},
		{"tampered subject", strings.Replace(sign(t, base, "rivm.nl", "sel", rsaKey, "rsa-sha256"), "Vaccinatie", "Vaccination", 1), false, "a header was changed", true},
		{"tampered body", strings.Replace(sign(t, base, "rivm.nl", "sel", rsaKey, "rsa-sha256"), "zie", "klik", 1), false, "body was changed", true},
		{"missing key", sign(t, base, "rivm.nl", "nokey", rsaKey, "rsa-sha256"), false, "dkim: no key", true},
		{"revoked key", sign(t, base, "rivm.nl", "revoked", rsaKey, "rsa-sha256"), false, "revoked", true},
		{"malformed key", sign(t, base, "rivm.nl", "garbage", rsaKey, "rsa-sha256"), false, "malformed key", true},
		{"valid but another domain", sign(t, base, "mailer.example.net", "sel", rsaKey, "rsa-sha256"), true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.Analyze(context.Background(), "m", []byte(tt.raw))
			var invalid string
			for _, f := range r.Reasons {
				if f.Signal == sigDKIMInvalid {
					invalid = f.Detail
				}
			}
			if tt.wantValid && invalid != "" {
				t.Fatalf("signature rejected: %s", invalid)
			}
			if !tt.wantValid && !strings.Contains(invalid, tt.detail) {
				t.Fatalf("dkim_invalid detail %q, want it to contain %q (reasons %v)", invalid, tt.detail, r.Reasons)
			}
			if got := hasSignal(r, sigDMARCUnalign); got != tt.unaligned {
				t.Errorf("dmarc_unaligned = %v, want %v: %v", got, tt.unaligned, r.Reasons)
			}
		})
	}
	t.Run("no resolver, no verification", func(t *testing.T) {
		r := newTestAnalyzer(t, Config{}).Analyze(context.Background(), "m", []byte(sign(t, base, "rivm.nl", "nokey", rsaKey, "rsa-sha256")))
		if hasSignal(r, sigDKIMInvalid) || hasSignal(r, sigDMARCUnalign) {
			t.Errorf("DKIM judged without a resolver: %v", r.Reasons)
		}
	})
	t.Run("signature count is bounded", func(t *testing.T) {
		raw := base
		for i := 0; i < 50; i++ {
			raw = sign(t, raw, "rivm.nl", "nokey", rsaKey, "rsa-sha256")
		}
		n := len(verifyDKIMSignatures(context.Background(), []byte(raw), res, 5, time.Now()))
		if n != 5 {
			t.Errorf("verified %d signatures, want 5", n)
		}
	})
}

func TestCanonBody(t *testing.T) {
	tests := []struct {
		in            string
		simple, relax string
	}{
		{"", "\r\n", ""},
		{"\r\n\r\n", "\r\n", ""},
		{"a  b \r\nc\r\n\r\n\r\n", "a  b \r\nc\r\n", "a b\r\nc\r\n"},
		{"x", "x\r\n", "x\r\n"},
		{"a\n\tb\n", "a\r\n\tb\r\n", "a\r\n b\r\n"},
	}
	for _, tt := range tests {
		if got := string(canonBody([]byte(tt.in), false)); got != tt.simple {
			t.Errorf("simple(%q) = %q, want %q", tt.in, got, tt.simple)
		}
		if got := string(canonBody([]byte(tt.in), true)); got != tt.relax {
			t.Errorf("relaxed(%q) = %q, want %q", tt.in, got, tt.relax)
		}
	}
	if got := canonHeaderRelaxed("SubJect :  a \r\n\tb  c \r\n"); got != "subject:a b c\r\n" {
		t.Errorf("relaxed header = %q", got)
	}
}
