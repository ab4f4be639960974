package mail

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/ward-health/ward/internal/mail/attach"
	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/qr"
)

// dataPictureLinks searches the data: images of the HTML for QR codes, at
// most *budget of them (which it lowers), and returns the web addresses
// found, each reported as a qr_code_link finding.
func (a *Analyzer) dataPictureLinks(ctx context.Context, pics []string, budget *int, add func(finding.Finding), pm *parsed) []string {
	var out []string
	for i, pic := range pics {
		if *budget <= 0 || ctx.Err() != nil {
			if len(pics)-i > 0 && *budget <= 0 {
				pm.errorf("%d inline pictures were not searched for QR codes (the limit of pictures per message)", len(pics)-i)
			}
			break
		}
		data, ok := dataURLBytes(pic)
		if !ok {
			continue
		}
		*budget--
		text, err := qr.DecodeEncoded(data)
		if err != nil {
			pm.errorf("inline picture %d: %v", i+1, err)
			continue
		}
		text, ok = qr.WebAddress(text)
		if !ok {
			continue
		}
		out = append(out, text)
		add(finding.Finding{Signal: attach.SignalQRLink, Score: 20, Class: finding.Weak,
			Detail: fmt.Sprintf("a picture in the message holds a QR code that opens %s: a phone that scans it goes there without the mail filter's link checks", truncate(text, 200))})
	}
	return out
}

// dataURLBytes decodes the payload of a data: URL (base64 or
// percent-encoded).
func dataURLBytes(u string) ([]byte, bool) {
	comma := strings.IndexByte(u, ',')
	if comma < 0 || !strings.HasPrefix(strings.ToLower(u), "data:") {
		return nil, false
	}
	meta, payload := strings.ToLower(u[5:comma]), u[comma+1:]
	if strings.HasSuffix(meta, ";base64") {
		payload = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\r' || r == '\n' || r == '\t' {
				return -1
			}
			return r
		}, payload)
		b, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(payload, "="))
		}
		return b, err == nil
	}
	s, err := url.PathUnescape(payload)
	return []byte(s), err == nil
}
