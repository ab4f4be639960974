package qr

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

const urlInFixture = "https://rivm-uitslag.example/login?email=staff@umc-example.nl"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// asJPEG re-encodes a PNG fixture as JPEG, as a phone photo or a PDF's
// DCTDecode image would carry it.
func asJPEG(t testing.TB, pngData []byte) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeEncoded(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"PNG with a URL", fixture(t, "qr-url.png"), urlInFixture},
		{"JPEG with a URL", asJPEG(t, fixture(t, "qr-url.png")), urlInFixture},
		{"PNG with a contact card", fixture(t, "qr-vcard.png"), "BEGIN:VCARD\nFN:Ward 5 reception\nTEL:+31301234567\nEND:VCARD"},
		{"a picture without a code", blankPNG(t, 120, 80), ""},
		{"not a picture", []byte("not a picture at all"), ""},
		{"empty", nil, ""},
	} {
		got, err := DecodeEncoded(c.data)
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if IsURL("BEGIN:VCARD") || !IsURL(urlInFixture) || !IsURL("WWW.example.org/x") {
		t.Error("IsURL")
	}
}

func blankPNG(t testing.TB, w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBounds checks that a picture over the pixel bound is refused from
// its header alone, before its pixels are decoded.
func TestBounds(t *testing.T) {
	// A GIF header claiming 30,000 × 30,000 pixels, with no pixel data.
	big := []byte("GIF89a\x30\x75\x30\x75\x00\x00\x00")
	if _, err := DecodeEncoded(big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("30000x30000 header: %v, want ErrTooLarge", err)
	}
	if _, err := DecodeEncoded(make([]byte, MaxEncoded+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over MaxEncoded: %v", err)
	}
	if _, err := Decode(image.NewGray(image.Rect(0, 0, 3000, 3000))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("3000x3000 image: %v", err)
	}
}

func TestGrayOrRGB(t *testing.T) {
	src, err := png.Decode(bytes.NewReader(fixture(t, "qr-url.png")))
	if err != nil {
		t.Fatal(err)
	}
	w, h := src.Bounds().Dx(), src.Bounds().Dy()
	gray := make([]byte, 0, w*h)
	rgb := make([]byte, 0, 3*w*h)
	for y := range h {
		for x := range w {
			g := color.GrayModel.Convert(src.At(x, y)).(color.Gray).Y
			gray = append(gray, g)
			rgb = append(rgb, g, g, g)
		}
	}
	for _, c := range []struct {
		pix   []byte
		comps int
	}{{gray, 1}, {rgb, 3}} {
		img, ok := GrayOrRGB(c.pix, w, h, c.comps)
		if !ok {
			t.Fatalf("%d components: not built", c.comps)
		}
		if got, err := Decode(img); err != nil || got != urlInFixture {
			t.Errorf("%d components: %q %v", c.comps, got, err)
		}
	}
	for _, c := range []struct {
		pix         []byte
		w, h, comps int
	}{{gray[:10], w, h, 1}, {gray, w, h, 4}, {gray, 0, h, 1}, {gray, 1 << 16, 1, 1}} {
		if _, ok := GrayOrRGB(c.pix, c.w, c.h, c.comps); ok {
			t.Errorf("GrayOrRGB(%d bytes, %d, %d, %d) built a picture", len(c.pix), c.w, c.h, c.comps)
		}
	}
}

// FuzzDecodeEncoded checks that no input crashes the decoder or escapes
// its bounds.
func FuzzDecodeEncoded(f *testing.F) {
	f.Add(fixture(f, "qr-url.png"))
	f.Add(asJPEG(f, fixture(f, "qr-url.png")))
	f.Add(blankPNG(f, 30, 30))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, err := DecodeEncoded(b); len(got) > MaxText || got != "" && err != nil {
			t.Fatalf("%q %v", got, err)
		}
	})
}

// BenchmarkDecode measures the QR search on the fixture (a code found)
// and on the largest picture searched, 2048 × 2048 pixels of noise (no
// code: the slowest case).
func BenchmarkDecode(b *testing.B) {
	noise := image.NewGray(image.Rect(0, 0, 2048, 2048))
	x := uint32(1)
	for i := range noise.Pix {
		x = x*1664525 + 1013904223
		noise.Pix[i] = byte(x >> 24)
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, noise, &jpeg.Options{Quality: 75})
	for _, c := range []struct {
		name string
		data []byte
	}{{"code", fixture(b, "qr-url.png")}, {"noise-2048", jb.Bytes()}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := DecodeEncoded(c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
