package mail

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

func qrPNG(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("qr/testdata/qr-url.png")
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestQRCodes checks quishing end to end: a QR code in an image
// attachment or an inline data: picture becomes a link of the message,
// judged like the others, and with the recipient's address in it and a
// credential request the message is at least suspicious.
func TestQRCodes(t *testing.T) {
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pic := qrPNG(t)
	hdr := "From: IT Servicedesk <noreply@mail-notify.example>\r\nTo: staff@umc-example.nl\r\nSubject: Multi-factor authentication\r\nMIME-Version: 1.0\r\n"
	body := "Your password expires today. Scan the code with your phone to verify your account."
	attached := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n" + body + "\r\n" +
		"--b\r\nContent-Type: image/png; name=\"mfa.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pic + "\r\n--b--\r\n"
	inline := hdr + "Content-Type: text/html\r\n\r\n<p>" + body + "</p><img src=\"data:image/png;base64," + pic + "\">\r\n"
	const want = "https://rivm-uitslag.example/login?email=staff@umc-example.nl"
	for name, raw := range map[string]string{"attachment": attached, "inline": inline} {
		r := a.Analyze(context.Background(), name, []byte(raw))
		if !hasSignal(r, "qr_code_link") || !hasSignal(r, sigLinkRecipient) || !slices.Contains(r.IOCs.URLs, want) || r.Verdict.Rank() < Suspicious.Rank() {
			t.Errorf("%s: %s %v, urls %q", name, r.Verdict, r.Reasons, r.IOCs.URLs)
		}
	}

	// The pictures of a message share one budget.
	var many strings.Builder
	many.WriteString(hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n")
	for range 3 {
		many.WriteString("--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + pic + "\r\n")
	}
	many.WriteString("--b--\r\n")
	small, err := NewAnalyzer(Config{Limits: Limits{MaxPictures: 2}})
	if err != nil {
		t.Fatal(err)
	}
	r := small.Analyze(context.Background(), "many", []byte(many.String()))
	detail := ""
	for _, f := range r.Reasons {
		if f.Signal == "qr_code_link" {
			detail = f.Detail
		}
	}
	// Two pictures searched: one finding and "(and 1 more)".
	if !strings.Contains(detail, "(and 1 more)") || !strings.Contains(strings.Join(r.Errors, "\n"), "the limit of 2 pictures per message was reached") {
		t.Errorf("budget: %q, errors %q", detail, r.Errors)
	}
	off, _ := NewAnalyzer(Config{Limits: Limits{MaxPictures: -1}})
	if r := off.Analyze(context.Background(), "off", []byte(inline)); hasSignal(r, "qr_code_link") {
		t.Errorf("MaxPictures -1 still searched: %v", r.Reasons)
	}
}

func TestDataURLBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"data:image/png;base64,aGVsbG8=", "hello", true},
		{"data:image/png;base64,aGVs\r\nbG8", "hello", true},
		{"data:image/svg+xml,%3Csvg%3E", "<svg>", true},
		{"data:image/png;base64,!!!", "", false},
		{"image/png;base64,aGVsbG8=", "", false},
	} {
		got, ok := dataURLBytes(c.in)
		if ok != c.ok || ok && string(got) != c.want {
			t.Errorf("%q: %q %v", c.in, got, ok)
		}
	}
}

// TestPDFTextCounts checks that what an attached PDF says counts for the
// content checks: the same message asks for credentials only when its
// document does.
func TestPDFTextCounts(t *testing.T) {
	a, err := NewAnalyzer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	pdf := func(text string) string {
		content := "BT /F1 12 Tf 72 720 Td (" + text + ") Tj ET"
		doc := "%PDF-1.4\n1 0 obj\n<< /Length " + fmt.Sprint(len(content)) + " >>\nstream\n" + content + "\nendstream\nendobj\ntrailer\n<< >>\n%%EOF\n"
		return "From: Mail Admin <admin@notices.example>\r\nTo: staff@umc-example.nl\r\nSubject: Notice\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attached notice.\r\n" +
			"--b\r\nContent-Type: application/pdf; name=\"notice.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
			base64.StdEncoding.EncodeToString([]byte(doc)) + "\r\n--b--\r\n"
	}
	lure := a.Analyze(context.Background(), "lure", []byte(pdf("Your mailbox is full. Verify your account today or it will be closed.")))
	plain := a.Analyze(context.Background(), "plain", []byte(pdf("The canteen is closed on Friday for maintenance.")))
	if !hasSignal(lure, sigCredentialRequest) || hasSignal(plain, sigCredentialRequest) {
		t.Errorf("credential request: lure %v; plain %v", lure.Reasons, plain.Reasons)
	}
	// The classifier (and its trainer) read the document too.
	if in := ClassifierInput(context.Background(), []byte(pdf("Verify your account today."))); !strings.Contains(in.Text, "See the attached notice.") || !strings.Contains(in.Text, "Verify your account today.") {
		t.Errorf("classifier input: %q", in.Text)
	}
}
