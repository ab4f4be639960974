package attach

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/mail/finding"
)

const qrURL = "https://rivm-uitslag.example/login?email=staff@umc-example.nl"

func qrFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../qr/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// qrGray returns the URL fixture's pixels, one byte each, and its size.
func qrGray(t testing.TB) ([]byte, int, int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(qrFixture(t, "qr-url.png")))
	if err != nil {
		t.Fatal(err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	pix := make([]byte, 0, w*h)
	for y := range h {
		for x := range w {
			pix = append(pix, color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
		}
	}
	return pix, w, h
}

func deflate(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// imagePDF wraps one image XObject in a PDF.
func imagePDF(dict string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Count 1 /Kids [3 0 R] >>\nendobj\n")
	fmt.Fprintf(&b, "3 0 obj\n<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Im1 4 0 R >> >> >>\nendobj\n")
	fmt.Fprintf(&b, "4 0 obj\n<< /Type /XObject /Subtype /Image %s /Length %d >>\nstream\n", dict, len(body))
	b.Write(body)
	b.WriteString("\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
	return b.Bytes()
}

func TestQRPictures(t *testing.T) {
	pngData := qrFixture(t, "qr-url.png")
	img, _ := png.Decode(bytes.NewReader(pngData))
	var jpg bytes.Buffer
	jpeg.Encode(&jpg, img, &jpeg.Options{Quality: 85})
	gray, w, h := qrGray(t)

	// The same pixels with PNG "Up" filters, as /Predictor 15 stores them.
	var predicted []byte
	for y := range h {
		predicted = append(predicted, 2)
		for x := range w {
			v := gray[y*w+x]
			if y > 0 {
				v -= gray[(y-1)*w+x]
			}
			predicted = append(predicted, v)
		}
	}
	// One bit a pixel, rows padded to a byte.
	rowBytes := (w + 7) / 8
	bits := make([]byte, rowBytes*h)
	for y := range h {
		for x := range w {
			if gray[y*w+x] >= 128 {
				bits[y*rowBytes+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"scan.png", pngData},
		{"scan.jpg", jpg.Bytes()},
		{"jpeg-in.pdf", imagePDF(fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpg.Bytes())},
		{"gray-in.pdf", imagePDF(fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", w, h), deflate(t, gray))},
		{"predicted-in.pdf", imagePDF(fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /DecodeParms << /Predictor 15 /Colors 1 /Columns %d >>", w, h, w), deflate(t, predicted))},
		{"mask-in.pdf", imagePDF(fmt.Sprintf("/Width %d /Height %d /ImageMask true /Filter [/FlateDecode]", w, h), deflate(t, bits))},
	} {
		r := analyze(t, c.name, c.data)
		if !hasSignal(r, SignalQRLink, finding.Weak) || !slices.Contains(r.URLs, qrURL) || r.Pictures != 1 {
			t.Errorf("%s: %v, URLs %q, %d pictures", c.name, signals(r), r.URLs, r.Pictures)
		}
	}

	// A code that is not a web address is not a finding.
	if r := analyze(t, "card.png", qrFixture(t, "qr-vcard.png")); len(r.Findings) != 0 || len(r.URLs) != 0 {
		t.Errorf("vCard QR: %v %q", signals(r), r.URLs)
	}
	// Indirect sizes are not guessed.
	if r := analyze(t, "indirect.pdf", imagePDF("/Width 5 0 R /Height 5 0 R /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", deflate(t, gray))); r.Pictures != 0 {
		t.Errorf("indirect width: %d pictures searched", r.Pictures)
	}
}

// TestQRPictureBudget checks that an archive of many pictures is searched
// only up to MaxPictures, and says so.
func TestQRPictureBudget(t *testing.T) {
	var ms []zipMember
	for i := range 5 {
		ms = append(ms, zipMember{name: fmt.Sprintf("p%d.png", i), data: qrFixture(t, "qr-url.png")})
	}
	r := Analyze(context.Background(), Attachment{Name: "pics.zip", Data: buildZip(t, ms...)}, Limits{MaxPictures: 2})
	if r.Pictures != 2 || !strings.Contains(strings.Join(r.Errors, "\n"), "more than 2 pictures") {
		t.Errorf("pictures %d, errors %q", r.Pictures, r.Errors)
	}
	if r := Analyze(context.Background(), Attachment{Name: "scan.png", Data: qrFixture(t, "qr-url.png")}, Limits{MaxPictures: -1}); r.Pictures != 0 || len(r.Findings) != 0 {
		t.Errorf("MaxPictures -1: %d pictures, %v", r.Pictures, signals(r))
	}
}

// An image too large to search is noted, not decoded.
func TestQRPictureTooLarge(t *testing.T) {
	var b bytes.Buffer
	png.Encode(&b, image.NewGray(image.Rect(0, 0, 2100, 2100)))
	r := analyze(t, "poster.png", b.Bytes())
	if !strings.Contains(strings.Join(r.Errors, "\n"), "too large") || len(r.Findings) != 0 {
		t.Errorf("%q %v", r.Errors, signals(r))
	}
}
