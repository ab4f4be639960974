package attach

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/ward-health/ward/internal/mail/qr"
)

// pdfMaxImages bounds the image streams of one PDF kept for the QR search
// (the picture budget, Limits.MaxPictures, bounds those decoded).
const pdfMaxImages = 64

// pdfImage is an image stream of a PDF: its dictionary and its body.
type pdfImage struct{ dict, body []byte }

// pdfImages searches a PDF's image streams for QR codes: JPEG images
// (DCTDecode) as they are, and raw 8-bit gray or RGB and 1-bit images
// (FlateDecode, with or without PNG predictors) once inflated. Images in
// other encodings, with indirect sizes or colour spaces named through the
// page resources are left alone.
func (z *analyzer) pdfImages(r *Report, s *pdfScan, here string) {
	for i, im := range s.images {
		if z.lim.MaxPictures < 0 || z.picturesNoted {
			return
		}
		at := fmt.Sprintf("%s (image %d)", here, i+1)
		dn := &pdfScan{names: map[string]int{}, obfuscated: map[string]bool{}}
		dn.scan(im.dict)
		filters := dn.names["DCTDecode"] + dn.names["FlateDecode"] + dn.names["Fl"] + dn.names["DCT"] +
			dn.names["ASCIIHexDecode"] + dn.names["ASCII85Decode"] + dn.names["LZWDecode"] + dn.names["RunLengthDecode"] +
			dn.names["JPXDecode"] + dn.names["CCITTFaxDecode"] + dn.names["JBIG2Decode"] + dn.names["Crypt"]
		switch {
		case filters == 1 && (dn.names["DCTDecode"] == 1 || dn.names["DCT"] == 1):
			z.picture(r, at, im.body, nil)
		case filters == 1 && (dn.names["FlateDecode"] == 1 || dn.names["Fl"] == 1):
			w, okw := pdfInt(im.dict, "Width")
			h, okh := pdfInt(im.dict, "Height")
			bpc, okb := pdfInt(im.dict, "BitsPerComponent")
			comps := 0
			switch {
			case dn.names["ImageMask"] > 0:
				comps, bpc, okb = 1, 1, true
			case dn.names["DeviceGray"] > 0:
				comps = 1
			case dn.names["DeviceRGB"] > 0:
				comps = 3
			}
			if !okw || !okh || !okb || comps == 0 || (bpc != 8 && !(bpc == 1 && comps == 1)) || w <= 0 || h <= 0 || w*h > qr.MaxPixels {
				continue
			}
			raw := s.inflate(z, r, im.body, at)
			if pred, _ := pdfInt(im.dict, "Predictor"); pred >= 10 {
				rowBytes := (w*comps*bpc + 7) / 8
				raw = unpredictPNG(raw, rowBytes, max(1, comps*bpc/8), h)
			}
			if bpc == 1 {
				raw = expandBits(raw, w, h)
			}
			img, ok := qr.GrayOrRGB(raw, w, h, comps)
			if !ok {
				continue
			}
			z.picture(r, at, nil, img)
		}
	}
}

// pdfInt reads a direct integer value of key in a PDF dictionary
// ("/Width 200"); an indirect reference ("/Width 5 0 R") is not read.
func pdfInt(dict []byte, key string) (int, bool) {
	k := []byte("/" + key)
	for p := 0; ; {
		i := bytes.Index(dict[p:], k)
		if i < 0 {
			return 0, false
		}
		p += i + len(k)
		if p < len(dict) && !pdfDelim(dict[p]) {
			continue // a longer name ("/Widths")
		}
		q := p
		for q < len(dict) && isPDFSpace(dict[q]) {
			q++
		}
		e := q
		for e < len(dict) && e-q < 9 && '0' <= dict[e] && dict[e] <= '9' {
			e++
		}
		if e == q {
			return 0, false
		}
		n, err := strconv.Atoi(string(dict[q:e]))
		if err != nil {
			return 0, false
		}
		// "5 0 R" is a reference, not the number 5.
		rest := bytes.TrimLeft(dict[e:min(len(dict), e+16)], " \t\r\n\f\x00")
		if len(rest) > 0 && '0' <= rest[0] && rest[0] <= '9' {
			if j := bytes.IndexAny(rest, " \t\r\n"); j > 0 && bytes.HasPrefix(bytes.TrimLeft(rest[j:], " \t\r\n"), []byte("R")) {
				return 0, false
			}
		}
		return n, true
	}
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0
}

// unpredictPNG undoes the PNG row filters (PDF's /Predictor 10-15): each
// of the rows starts with a filter byte. bpp is the bytes per pixel (at
// least 1). A short last row is dropped.
func unpredictPNG(data []byte, rowBytes, bpp, rows int) []byte {
	out := make([]byte, 0, min(rowBytes*rows, len(data)))
	prev := make([]byte, rowBytes)
	for y := 0; y < rows && len(data) >= 1+rowBytes; y++ {
		f, cur := data[0], append([]byte{}, data[1:1+rowBytes]...)
		data = data[1+rowBytes:]
		for i := range cur {
			var a, b, c byte
			if i >= bpp {
				a, c = cur[i-bpp], prev[i-bpp]
			}
			b = prev[i]
			switch f {
			case 1:
				cur[i] += a
			case 2:
				cur[i] += b
			case 3:
				cur[i] += byte((int(a) + int(b)) / 2)
			case 4:
				cur[i] += paeth(a, b, c)
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// expandBits turns 1-bit rows (each padded to a byte) into one byte per
// pixel: 0 black, 1 white.
func expandBits(data []byte, w, h int) []byte {
	rowBytes := (w + 7) / 8
	if len(data) < rowBytes*h {
		return nil
	}
	out := make([]byte, w*h)
	for y := range h {
		row := data[y*rowBytes:]
		for x := range w {
			if row[x/8]&(0x80>>(x%8)) != 0 {
				out[y*w+x] = 0xff
			}
		}
	}
	return out
}
