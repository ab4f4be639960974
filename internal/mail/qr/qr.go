// Package qr finds QR codes in the pictures of a message: image
// attachments and inline images, images inside PDF documents, and images
// written into HTML as data: URLs. A QR code that leads to a web page is
// how "quishing" takes the victim to a phishing page on a phone, outside
// the mail filter's link checks; the analyzer treats the decoded URL as one
// more link of the message.
//
// Decoding is done by gozxing (a Go port of ZXing). Pictures are hostile:
// the encoded size, the pixel count and the number of pictures per
// message are bounded by the caller through Limits, and a decoder panic is
// recovered and reported as an error.
package qr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered decoders: the formats mail carries
	_ "image/jpeg"
	_ "image/png"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Bounds of one picture.
const (
	// MaxEncoded is the largest encoded picture (PNG, JPEG, GIF) decoded.
	MaxEncoded = 8 << 20
	// MaxPixels is the most pixels a picture may have to be decoded:
	// QR codes in mail are small, and a decompression bomb is not.
	MaxPixels = 4 << 20
	// MaxText is the longest QR content kept.
	MaxText = 4096
)

// ErrTooLarge is returned for a picture over MaxEncoded or MaxPixels.
var ErrTooLarge = errors.New("qr: picture too large to examine")

// DecodeEncoded returns the content of the QR code in an encoded picture
// (PNG, JPEG or GIF), or "" when it has none. Pictures in other formats
// are not an error: they give "".
func DecodeEncoded(data []byte) (string, error) {
	if len(data) > MaxEncoded {
		return "", fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", nil // not a picture Go reads
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPixels || cfg.Width > 1<<15 || cfg.Height > 1<<15 {
		return "", fmt.Errorf("%w: %dx%d pixels", ErrTooLarge, cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", nil // damaged picture: nothing to read
	}
	return Decode(img)
}

// Decode returns the content of the QR code in img, or "" when it has
// none.
func Decode(img image.Image) (text string, err error) {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > MaxPixels {
		return "", fmt.Errorf("%w: %dx%d pixels", ErrTooLarge, b.Dx(), b.Dy())
	}
	// A QR code needs at least 21 modules a side.
	if b.Dx() < 21 || b.Dy() < 21 {
		return "", nil
	}
	defer func() {
		if p := recover(); p != nil {
			text, err = "", fmt.Errorf("qr: the decoder failed on this picture: %v", p)
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", nil
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", nil // no QR code found: the usual case
	}
	t := strings.TrimSpace(res.GetText())
	if len(t) > MaxText {
		t = t[:MaxText]
	}
	return t, nil
}

// GrayOrRGB builds the picture of a raw 8-bit image (as a PDF image
// stream holds it once inflated): comps 1 for gray, 3 for RGB, rows left
// to right and top to bottom. ok is false when pix does not hold width ×
// height pixels or the picture is over MaxPixels.
func GrayOrRGB(pix []byte, width, height, comps int) (image.Image, bool) {
	if width <= 0 || height <= 0 || width > 1<<15 || height > 1<<15 || width*height > MaxPixels || (comps != 1 && comps != 3) {
		return nil, false
	}
	if len(pix) < width*height*comps {
		return nil, false
	}
	r := image.Rect(0, 0, width, height)
	if comps == 1 {
		return &image.Gray{Pix: pix[:width*height], Stride: width, Rect: r}, true
	}
	img := image.NewRGBA(r)
	for i := 0; i < width*height; i++ {
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = pix[3*i], pix[3*i+1], pix[3*i+2], 0xff
	}
	return img, true
}

// IsURL reports whether a QR code's content is a web address ("https://",
// "http://", or a bare "www." name), the kind that takes a phone to a
// page.
func IsURL(text string) bool {
	l := strings.ToLower(text)
	return strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "www.")
}

// WebAddress returns the web address a QR code's content opens, with
// "http://" put before a bare "www." name, when the content is one
// address (no white space).
func WebAddress(text string) (string, bool) {
	if !IsURL(text) || strings.ContainsAny(text, " \r\n\t") {
		return "", false
	}
	if strings.HasPrefix(strings.ToLower(text), "www.") {
		return "http://" + text, true
	}
	return text, true
}
