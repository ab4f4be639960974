package dnsfeed

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fuzzSeeds are requests of every kind the server answers.
func fuzzSeeds(t testing.TB) [][]byte {
	var out [][]byte
	add := func(m *dns.Msg) {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	add(question(testOrigin, dns.TypeSOA))
	add(question(testOrigin, dns.TypeNS))
	add(axfrMsg(testOrigin, "", ""))
	add(ixfrMsg(testOrigin, 1, "", ""))
	edns := question(testOrigin, dns.TypeSOA)
	edns.SetEdns0(4096, true)
	add(edns)
	n := new(dns.Msg)
	n.SetNotify(testOrigin)
	add(n)
	for _, m := range []*dns.Msg{axfrMsg(testOrigin, "", ""), ixfrMsg(testOrigin, 1, "", "")} {
		m.SetTsig("ward-rpz.", dns.HmacSHA256, 300, time.Now().Unix())
		b, _, err := dns.TsigGenerate(m, testSecret, "", false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzServe sends hostile requests to the request handler: it must not
// panic, and whatever it answers must parse as a response of the same ID.
func FuzzServe(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b, true)
		f.Add(b, false)
	}
	files, _ := filepath.Glob("testdata/requests/*.bin")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, true)
	}
	s, err := New(Config{Addr: "127.0.0.1:0", Keys: []Key{{Name: "ward-rpz", Secret: testSecret}},
		Zones: []ZoneConfig{{Origin: testOrigin, AllowTransfer: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if err := s.SetZone(testOrigin, rpzText(f, 1, "a.example", "b.example")); err != nil {
		f.Fatal(err)
	}
	if err := s.SetZone(testOrigin, rpzText(f, 2, "b.example", "c.example")); err != nil {
		f.Fatal(err)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, req []byte, tcp bool) {
		if len(req) > maxQuery {
			return // the listeners drop these before serve
		}
		var id uint16
		if len(req) >= 2 {
			id = uint16(req[0])<<8 | uint16(req[1])
		}
		err := s.serve(append([]byte(nil), req...), lo, tcp, func(b []byte) error {
			r := new(dns.Msg)
			if err := r.Unpack(b); err != nil {
				t.Fatalf("an answer does not parse: %v", err)
			}
			if !r.Response || r.Id != id {
				t.Fatalf("an answer is not a response to ID %d: %v", id, r)
			}
			if !tcp && len(b) > maxUDPResponse {
				t.Fatalf("a UDP answer of %d bytes", len(b))
			}
			return nil
		})
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	})
}

// FuzzParseZone loads hostile zone text: no panic, and an accepted zone
// transfers as its records between two SOA records.
func FuzzParseZone(f *testing.F) {
	f.Add(rpzText(f, 1, "a.example", "b.example"))
	f.Add(rpzTextOpts(f, intelOpts(testOrigin, 5), manyNames(5)...))
	f.Add([]byte("$ORIGIN rpz.ward.example.\n$TTL 300\n@ SOA localhost. hostmaster 1 3600 600 864000 300\n@ NS ns1.ward.example.\n$GENERATE 1-5 x$ CNAME .\n"))
	files, _ := filepath.Glob("testdata/zones/*.zone")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	prev, err := parseZone(testOrigin, rpzText(f, 1, "a.example"), 1<<20, 1000)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		v, err := parseZone(testOrigin, text, 1<<16, 1000)
		if err != nil {
			return
		}
		msgs, err := v.axfrMessages(testOrigin)
		if err != nil {
			t.Fatalf("an accepted zone does not pack: %v", err)
		}
		n := 0
		for _, b := range msgs {
			m := new(dns.Msg)
			if err := m.Unpack(b); err != nil {
				t.Fatalf("a transfer message does not parse: %v", err)
			}
			n += len(m.Answer)
		}
		if n != len(v.records)+2 {
			t.Fatalf("the transfer has %d records, want %d", n, len(v.records)+2)
		}
		st, _, err := (&state{cur: prev}).next(v, 4)
		if err == nil && len(st.diffs) == 1 {
			d := st.diffs[0]
			if _, err := packStream(dns.Question{Name: testOrigin, Qtype: dns.TypeIXFR, Qclass: dns.ClassINET}, append(append([]dns.RR{d.from}, d.del...), d.to)); err != nil {
				t.Fatalf("the differences do not pack: %v", err)
			}
		}
	})
}
