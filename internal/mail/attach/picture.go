package attach

import (
	"errors"
	"fmt"
	"image"
	"slices"

	"github.com/ward-health/ward/internal/mail/finding"
	"github.com/ward-health/ward/internal/mail/qr"
)

// SignalQRLink is the finding of a picture holding a QR code that leads to
// a web page.
const SignalQRLink = "qr_code_link"

// picture searches one picture for a QR code: an encoded file (PNG, JPEG,
// GIF) in data, or, when img is set, a picture already built (a PDF's raw
// image). A web address found becomes one of r's URLs, so that the
// message's link checks judge it, and a finding. Pictures past
// MaxPictures are not searched, which r's errors say once.
func (z *analyzer) picture(r *Report, here string, data []byte, img image.Image) {
	if z.lim.MaxPictures < 0 {
		return
	}
	if z.pictures >= z.lim.MaxPictures {
		if !z.picturesNoted {
			addError(r, fmt.Sprintf("more than %d pictures; the rest were not searched for QR codes", z.lim.MaxPictures))
			z.picturesNoted = true
		}
		return
	}
	if z.stopped(r) {
		return
	}
	z.pictures++
	var text string
	var err error
	if img != nil {
		text, err = qr.Decode(img)
	} else {
		text, err = qr.DecodeEncoded(data)
	}
	if err != nil {
		if errors.Is(err, qr.ErrTooLarge) {
			addError(r, fmt.Sprintf("%s: %v; not searched for a QR code", here, err))
		} else {
			addError(r, fmt.Sprintf("%s: %v", here, err))
		}
		return
	}
	u, ok := qr.WebAddress(text)
	if !ok {
		return
	}
	addURL(r, u)
	if len(r.QRURLs) < maxURLs && !slices.Contains(r.QRURLs, u) {
		r.QRURLs = append(r.QRURLs, u)
	}
	add(r, SignalQRLink, finding.Weak, 20, fmt.Sprintf("%s holds a QR code that opens %s: a phone that scans it goes there without the mail filter's link checks", here, clip(u, 200)))
}
