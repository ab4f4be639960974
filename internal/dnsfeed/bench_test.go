package dnsfeed

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// benchAXFR transfers a 100,000-name zone (200,003 records) over loopback
// TCP per iteration, reading the frames without parsing them, so that the
// figure is the server's.
func benchAXFR(b *testing.B, signed bool) {
	cfg := Config{}
	if signed {
		cfg.Keys = []Key{{Name: "ward-rpz", Secret: testSecret}}
		cfg.Zones = []ZoneConfig{{Origin: testOrigin, RequireTSIG: true, Keys: []string{"ward-rpz"}}}
	}
	s := start(b, cfg)
	if err := s.SetZone(testOrigin, rpzText(b, 1, manyNames(100_000)...)); err != nil {
		b.Fatal(err)
	}
	const want = 2*100_000 + 3
	buf := make([]byte, 1<<16)
	b.ReportAllocs()
	b.ResetTimer()
	var bytes int64
	for b.Loop() {
		m := axfrMsg(testOrigin, "", "")
		var req []byte
		var err error
		if signed {
			m.SetTsig("ward-rpz.", dns.HmacSHA256, 300, time.Now().Unix())
			req, _, err = dns.TsigGenerate(m, testSecret, "", false)
		} else {
			req, err = m.Pack()
		}
		if err != nil {
			b.Fatal(err)
		}
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(append([]byte{byte(len(req) >> 8), byte(len(req))}, req...)); err != nil {
			b.Fatal(err)
		}
		n := 0
		for n < want {
			if _, err := io.ReadFull(c, buf[:2]); err != nil {
				b.Fatal(err)
			}
			l := int(binary.BigEndian.Uint16(buf))
			if _, err := io.ReadFull(c, buf[:l]); err != nil {
				b.Fatal(err)
			}
			if buf[3]&0xF != 0 {
				b.Fatalf("rcode %d", buf[3]&0xF)
			}
			n += int(binary.BigEndian.Uint16(buf[6:]))
			bytes += int64(l + 2)
		}
		c.Close()
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "wire-bytes/op")
}

func BenchmarkAXFR100k(b *testing.B)       { benchAXFR(b, false) }
func BenchmarkAXFR100kSigned(b *testing.B) { benchAXFR(b, true) }

// BenchmarkSetZone100k loads a new version of a 100,000-name zone with one
// name more: parsing, sorting and the IXFR difference.
func BenchmarkSetZone100k(b *testing.B) {
	s, err := New(Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: testOrigin}}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	names := manyNames(100_001)
	texts := [][]byte{rpzText(b, 1, names[:100_000]...)}
	if err := s.SetZone(testOrigin, texts[0]); err != nil {
		b.Fatal(err)
	}
	serial := uint32(2)
	b.ReportAllocs()
	b.SetBytes(int64(len(texts[0])))
	for b.Loop() {
		b.StopTimer()
		text := rpzText(b, serial, names[serial%2:100_000+serial%2]...)
		b.StartTimer()
		if err := s.SetZone(testOrigin, text); err != nil {
			b.Fatal(err)
		}
		serial++
	}
}
