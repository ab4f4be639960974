package dnsfeed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestAXFRUnsigned(t *testing.T) {
	s := start(t, Config{})
	names := manyNames(3000) // several messages
	if err := s.SetZone(testOrigin, rpzText(t, 2020031200, names...)); err != nil {
		t.Fatal(err)
	}
	rrs, msgs, err := transferIn(t, s.Addr(), axfrMsg(testOrigin, "", ""), "", "")
	if err != nil {
		t.Fatal(err)
	}
	if msgs < 2 {
		t.Errorf("a %d-record zone came in %d message; want several", len(rrs), msgs)
	}
	if len(rrs) != 2*len(names)+3 { // SOA, NS, the names and their wildcards, SOA
		t.Fatalf("got %d records, want %d", len(rrs), 2*len(names)+3)
	}
	if soaSerial(t, rrs[0]) != 2020031200 || soaSerial(t, rrs[len(rrs)-1]) != 2020031200 {
		t.Errorf("the transfer does not start and end with the SOA")
	}
	got := owners(rrs[1 : len(rrs)-1])
	for _, want := range []string{"rivm-covid19-test-000000.example.rpz.ward.example. CNAME", "*.rivm-covid19-test-002999.example.rpz.ward.example. CNAME", "rpz.ward.example. NS"} {
		if _, ok := slices.BinarySearch(got, want); !ok {
			t.Errorf("the transfer lacks %q", want)
		}
	}
}

func TestQueriesRefused(t *testing.T) {
	s := start(t, Config{Zones: []ZoneConfig{
		{Origin: testOrigin, AllowTransfer: loopback},
		{Origin: "closed.ward.example"}, // nobody may transfer it
	}})
	if err := s.SetZone(testOrigin, rpzText(t, 7, "evil.example")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZone("closed.ward.example", rpzTextOpts(t, intelOpts("closed.ward.example", 7), "evil.example")); err != nil {
		t.Fatal(err)
	}
	notify := new(dns.Msg)
	notify.SetNotify(testOrigin)
	recursive := new(dns.Msg)
	recursive.SetQuestion("www.example.org.", dns.TypeA)
	chaos := new(dns.Msg)
	chaos.SetQuestion(testOrigin, dns.TypeSOA)
	chaos.Question[0].Qclass = dns.ClassCHAOS
	for _, tc := range []struct {
		name    string
		network string
		m       *dns.Msg
		rcode   int
	}{
		{"recursion to elsewhere", "udp", recursive, dns.RcodeRefused},
		{"a name inside the zone", "udp", question(evilOwner, dns.TypeCNAME), dns.RcodeRefused},
		{"A at the apex", "udp", question(testOrigin, dns.TypeA), dns.RcodeRefused},
		{"ANY at the apex", "tcp", question(testOrigin, dns.TypeANY), dns.RcodeRefused},
		{"class CHAOS", "udp", chaos, dns.RcodeRefused},
		{"NOTIFY from outside", "udp", notify, dns.RcodeRefused},
		{"AXFR over UDP", "udp", axfrMsg(testOrigin, "", ""), dns.RcodeRefused},
		{"AXFR of a zone without transfer rights", "tcp", axfrMsg("closed.ward.example.", "", ""), dns.RcodeRefused},
		{"SOA of a zone without transfer rights", "udp", question("closed.ward.example.", dns.TypeSOA), dns.RcodeRefused},
		{"SOA", "udp", question(testOrigin, dns.TypeSOA), dns.RcodeSuccess},
		{"NS over TCP", "tcp", question(testOrigin, dns.TypeNS), dns.RcodeSuccess},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(t, tc.network, s.Addr(), tc.m, "", "")
			if r.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			if r.RecursionAvailable {
				t.Errorf("RA set: ward is no resolver")
			}
			if tc.rcode == dns.RcodeRefused && len(r.Answer) > 0 {
				t.Errorf("a refused query got answers: %v", r.Answer)
			}
			if tc.rcode == dns.RcodeSuccess && (!r.Authoritative || len(r.Answer) == 0) {
				t.Errorf("AA %v, answers %v; want an authoritative answer", r.Authoritative, r.Answer)
			}
		})
	}
}

const evilOwner = "evil.example.rpz.ward.example."

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

func TestNotLoadedIsServfail(t *testing.T) {
	s := start(t, Config{})
	if r := exchange(t, "udp", s.Addr(), question(testOrigin, dns.TypeSOA), "", ""); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("SOA of a zone not loaded yet: %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
}

func TestTSIG(t *testing.T) {
	keys := []Key{
		{Name: "ward-rpz", Algorithm: "hmac-sha256", Secret: testSecret},
		{Name: "sha512-key", Algorithm: "hmac-sha512", Secret: testSecret},
		{Name: "sha1-key", Algorithm: "hmac-sha1", Secret: testSecret},
		{Name: "other-org", Secret: testSecret2},
	}
	logs := &syncBuffer{}
	s := start(t, Config{Keys: keys, Logger: slogTo(logs), Zones: []ZoneConfig{
		{Origin: testOrigin, RequireTSIG: true, AllowTransfer: loopback, Keys: []string{"ward-rpz", "sha512-key", "sha1-key"}},
	}})
	if err := s.SetZone(testOrigin, rpzText(t, 10, manyNames(2000)...)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key, alg string
	}{{"ward-rpz", dns.HmacSHA256}, {"sha512-key", dns.HmacSHA512}, {"sha1-key", dns.HmacSHA1}} {
		t.Run("signed "+tc.alg, func(t *testing.T) {
			// The client verifies every message's TSIG and fails on an
			// unsigned or badly signed one.
			rrs, msgs, err := transferIn(t, s.Addr(), axfrMsg(testOrigin, tc.key, tc.alg), tc.key, testSecret)
			if err != nil {
				t.Fatal(err)
			}
			if msgs < 2 || len(rrs) != 4003 {
				t.Errorf("%d records in %d messages, want 4003 in several", len(rrs), msgs)
			}
			rrs, _, err = transferIn(t, s.Addr(), ixfrMsg(testOrigin, 9, tc.key, tc.alg), tc.key, testSecret)
			if err != nil || len(rrs) != 4003 {
				t.Errorf("signed IXFR from an unknown serial: %d records, %v; want the whole zone", len(rrs), err)
			}
		})
	}

	// signedBy packs an AXFR request signed with the given key.
	signedBy := func(name, alg, secret string, at time.Time) []byte {
		m := axfrMsg(testOrigin, "", "")
		m.SetTsig(dns.Fqdn(name), alg, 300, at.Unix())
		b, _, err := dns.TsigGenerate(m, secret, "", false)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	fail := func(t *testing.T, req []byte, wantRcode int, wantTSIG uint16) (*dns.Msg, []byte) {
		t.Helper()
		raw := rawExchange(t, s.Addr(), req)
		r := new(dns.Msg)
		if err := r.Unpack(raw); err != nil {
			t.Fatal(err)
		}
		if r.Rcode != wantRcode {
			t.Fatalf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[wantRcode])
		}
		if len(r.Answer) > 0 {
			t.Errorf("a refused transfer sent %d records", len(r.Answer))
		}
		if wantTSIG == 0 {
			return r, raw
		}
		ts := r.IsTsig()
		if ts == nil {
			t.Fatalf("no TSIG record in the error answer")
		}
		if ts.Error != wantTSIG {
			t.Errorf("TSIG error %s, want %s", dns.RcodeToString[int(ts.Error)], dns.RcodeToString[int(wantTSIG)])
		}
		return r, raw
	}
	t.Run("unsigned from an allowed address", func(t *testing.T) {
		b, _ := axfrMsg(testOrigin, "", "").Pack()
		fail(t, b, dns.RcodeRefused, 0)
	})
	t.Run("unknown key", func(t *testing.T) {
		r, _ := fail(t, signedBy("nobody", dns.HmacSHA256, testSecret, time.Now()), dns.RcodeNotAuth, dns.RcodeBadKey)
		if r.IsTsig().MACSize != 0 {
			t.Errorf("a BADKEY answer is signed")
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		r, _ := fail(t, signedBy("ward-rpz", dns.HmacSHA256, testSecret2, time.Now()), dns.RcodeNotAuth, dns.RcodeBadSig)
		if r.IsTsig().MACSize != 0 {
			t.Errorf("a BADSIG answer is signed")
		}
	})
	t.Run("wrong algorithm for the key", func(t *testing.T) {
		fail(t, signedBy("ward-rpz", dns.HmacSHA512, testSecret, time.Now()), dns.RcodeNotAuth, dns.RcodeBadKey)
	})
	t.Run("key of another zone", func(t *testing.T) {
		fail(t, signedBy("other-org", dns.HmacSHA256, testSecret2, time.Now()), dns.RcodeRefused, 0)
	})
	t.Run("clock off by an hour", func(t *testing.T) {
		at := time.Now().Add(-time.Hour)
		req := signedBy("ward-rpz", dns.HmacSHA256, testSecret, at)
		var m dns.Msg
		if err := m.Unpack(req); err != nil {
			t.Fatal(err)
		}
		r, raw := fail(t, req, dns.RcodeNotAuth, dns.RcodeBadTime)
		ts := r.IsTsig()
		if ts.TimeSigned != uint64(at.Unix()) || ts.OtherLen != 6 {
			t.Errorf("BADTIME answer: time signed %d (want the request's %d), other data %q (want our time)", ts.TimeSigned, at.Unix(), ts.OtherData)
		}
		// The answer is signed with the key over the request's MAC, the
		// answer without its TSIG record, and the TSIG variables (RFC 8945
		// section 4.3.3). miekg/dns does not verify NOTAUTH answers, so
		// compute the MAC here.
		reqMAC, _ := hex.DecodeString(m.IsTsig().MAC)
		body := slices.Clone(raw[:len(raw)-dns.Len(ts)])
		binary.BigEndian.PutUint16(body[10:], binary.BigEndian.Uint16(body[10:])-1)
		vars := wireName("ward-rpz.")
		vars = append(vars, 0, 255, 0, 0, 0, 0)
		vars = append(vars, wireName("hmac-sha256.")...)
		vars = append(vars, byte(ts.TimeSigned>>40), byte(ts.TimeSigned>>32), byte(ts.TimeSigned>>24), byte(ts.TimeSigned>>16), byte(ts.TimeSigned>>8), byte(ts.TimeSigned))
		vars = binary.BigEndian.AppendUint16(vars, ts.Fudge)
		vars = binary.BigEndian.AppendUint16(vars, ts.Error)
		vars = binary.BigEndian.AppendUint16(vars, ts.OtherLen)
		other, _ := hex.DecodeString(ts.OtherData)
		vars = append(vars, other...)
		secret, _ := base64.StdEncoding.DecodeString(testSecret)
		h := hmac.New(sha256.New, secret)
		h.Write(binary.BigEndian.AppendUint16(nil, uint16(len(reqMAC))))
		h.Write(reqMAC)
		h.Write(body)
		h.Write(vars)
		if want := hex.EncodeToString(h.Sum(nil)); ts.MAC != want {
			t.Errorf("the BADTIME answer's MAC is %s, want %s", ts.MAC, want)
		}
	})
	if strings.Contains(logs.String(), testSecret) || strings.Contains(logs.String(), testSecret2) {
		t.Errorf("a key secret reached the logs")
	}
	if !strings.Contains(logs.String(), "TSIG check failed") {
		t.Errorf("TSIG failures are not logged:\n%s", logs)
	}
}

func TestSOASignedAnswer(t *testing.T) {
	s := start(t, Config{Keys: []Key{{Name: "ward-rpz", Secret: testSecret}},
		Zones: []ZoneConfig{{Origin: testOrigin, RequireTSIG: true, Keys: []string{"ward-rpz"}}}})
	if err := s.SetZone(testOrigin, rpzText(t, 5, "evil.example")); err != nil {
		t.Fatal(err)
	}
	m := question(testOrigin, dns.TypeSOA)
	m.SetTsig("ward-rpz.", dns.HmacSHA256, 300, time.Now().Unix())
	// The client fails when the answer's TSIG does not verify.
	r := exchange(t, "udp", s.Addr(), m, "ward-rpz", testSecret)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || soaSerial(t, r.Answer[0]) != 5 {
		t.Fatalf("signed SOA query: %v", r)
	}
	if r.IsTsig() == nil {
		t.Errorf("the answer to a signed query is not signed")
	}
	if r := exchange(t, "udp", s.Addr(), question(testOrigin, dns.TypeSOA), "", ""); r.Rcode != dns.RcodeRefused {
		t.Errorf("unsigned SOA query of a zone that requires TSIG: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

func TestIXFR(t *testing.T) {
	s := start(t, Config{History: 3})
	base := manyNames(20) // so that the differences are shorter than the zone
	versions := []struct {
		serial uint32
		names  []string
	}{
		{100, []string{"a.example", "b.example", "c.example"}},
		{101, []string{"b.example", "c.example", "d.example"}},              // -a +d
		{102, []string{"b.example", "c.example", "d.example", "e.example"}}, // +e
		{103, []string{"b.example", "c.example", "d.example", "e.example", "f.example"}},
		{104, []string{"c.example", "d.example", "e.example", "f.example"}}, // -b; 100 is forgotten
	}
	for _, v := range versions {
		if err := s.SetZone(testOrigin, rpzText(t, v.serial, append(v.names, base...)...)); err != nil {
			t.Fatal(err)
		}
	}
	pair := func(n string) []string {
		return []string{n + ".rpz.ward.example. CNAME", "*." + n + ".rpz.ward.example. CNAME"}
	}
	t.Run("from 102: the two last changes", func(t *testing.T) {
		rrs, _, err := transferIn(t, s.Addr(), ixfrMsg(testOrigin, 102, "", ""), "", "")
		if err != nil {
			t.Fatal(err)
		}
		// SOA 104, SOA 102, (nothing deleted), SOA 103, +f, SOA 103, -b, SOA 104, (nothing added), SOA 104
		var got []string
		for _, rr := range rrs {
			if soa, ok := rr.(*dns.SOA); ok {
				got = append(got, fmt.Sprint("SOA ", soa.Serial))
				continue
			}
			got = append(got, rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype])
		}
		want := []string{"SOA 104", "SOA 102", "SOA 103"}
		want = append(want, sorted(pair("f.example"))...)
		want = append(want, "SOA 103")
		want = append(want, sorted(pair("b.example"))...)
		want = append(want, "SOA 104", "SOA 104")
		if !slices.Equal(sortRuns(got), want) {
			t.Errorf("IXFR from 102:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("from 101: kept", func(t *testing.T) {
		rrs, _, err := transferIn(t, s.Addr(), ixfrMsg(testOrigin, 101, "", ""), "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(rrs) != 1+3*(2+2)+1 { // SOA, 3 differences of two SOA and one pair, SOA
			t.Errorf("IXFR from 101: %d records, want 14: %v", len(rrs), rrs)
		}
	})
	for _, serial := range []uint32{100, 42} {
		t.Run(fmt.Sprintf("from %d: the whole zone", serial), func(t *testing.T) {
			rrs, _, err := transferIn(t, s.Addr(), ixfrMsg(testOrigin, serial, "", ""), "", "")
			if err != nil {
				t.Fatal(err)
			}
			// SOA, NS, 24 pairs, SOA: the AXFR form.
			if len(rrs) != 51 || soaSerial(t, rrs[0]) != 104 || soaSerial(t, rrs[50]) != 104 {
				t.Errorf("IXFR from a forgotten serial: %d records %v", len(rrs), rrs)
			}
		})
	}
	t.Run("ahead of us: one SOA", func(t *testing.T) {
		r := exchange(t, "tcp", s.Addr(), ixfrMsg(testOrigin, 99999, "", ""), "", "")
		if len(r.Answer) != 1 || soaSerial(t, r.Answer[0]) != 104 {
			t.Errorf("IXFR from a newer serial: %v", r)
		}
	})
	t.Run("current: one SOA", func(t *testing.T) {
		for _, network := range []string{"udp", "tcp"} {
			r := exchange(t, network, s.Addr(), ixfrMsg(testOrigin, 104, "", ""), "", "")
			if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || soaSerial(t, r.Answer[0]) != 104 || r.Truncated {
				t.Errorf("%s IXFR from the current serial: %v", network, r)
			}
		}
	})
	t.Run("UDP and behind: TC", func(t *testing.T) {
		r := exchange(t, "udp", s.Addr(), ixfrMsg(testOrigin, 103, "", ""), "", "")
		if !r.Truncated || len(r.Answer) != 1 || soaSerial(t, r.Answer[0]) != 104 {
			t.Errorf("UDP IXFR from an older serial: %v; want TC and the SOA", r)
		}
	})
	t.Run("no SOA in the request", func(t *testing.T) {
		m := ixfrMsg(testOrigin, 103, "", "")
		m.Ns = nil
		if r := exchange(t, "tcp", s.Addr(), m, "", ""); r.Rcode != dns.RcodeFormatError {
			t.Errorf("IXFR without the client's SOA: %s, want FORMERR", dns.RcodeToString[r.Rcode])
		}
	})
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// sortRuns sorts each run of records between two SOA records, whose order
// IXFR leaves open.
func sortRuns(s []string) []string {
	s = slices.Clone(s)
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || strings.HasPrefix(s[i], "SOA ") {
			slices.Sort(s[start:i])
			start = i + 1
		}
	}
	return s
}

func TestSetZone(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", MaxRecords: 50, MaxZoneBytes: 8000, Zones: []ZoneConfig{{Origin: testOrigin}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set := func(text string) error { return s.SetZone(testOrigin, []byte(text)) }
	const head = "$ORIGIN rpz.ward.example.\n$TTL 300\n@ SOA localhost. hostmaster 2020031200 3600 600 864000 300\n@ NS ns1.ward.example.\n"
	if err := set(head + "evil.example CNAME .\n"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text string
		want       error
	}{
		{"same serial, same content", head + "evil.example CNAME .\n", nil},
		{"same serial, new content", head + "evil2.example CNAME .\n", ErrSerial},
		{"lower serial", strings.Replace(head, "2020031200", "2020031100", 1), ErrSerial},
		{"2^31 ahead", strings.Replace(head, "2020031200", fmt.Sprint(uint32(2020031200+1<<31)), 1), ErrSerial},
		{"no SOA", "$ORIGIN rpz.ward.example.\n@ 300 NS ns1.ward.example.\n", ErrBadZone},
		{"no NS", "$ORIGIN rpz.ward.example.\n@ 300 SOA localhost. hostmaster 2020031201 3600 600 864000 300\n", ErrBadZone},
		{"two SOA", head + "@ SOA localhost. other 2020031201 3600 600 864000 300\n", ErrBadZone},
		{"record outside the zone", head + "www.example.org. CNAME .\n", ErrBadZone},
		{"class CH", head + "evil.example CH TXT \"x\"\n", ErrBadZone},
		{"syntax error", head + "evil.example 300 IN BOGUS .\n", ErrBadZone},
		{"record without data", head + "evil.example CNAME\n", ErrBadZone},
		{"meta type", head + "evil.example TYPE250 \\# 0\n", ErrBadZone},
		{"$INCLUDE", head + "$INCLUDE /etc/passwd\n", ErrBadZone},
		{"too many records", head + "$GENERATE 1-1000 evil$.example CNAME .\n", ErrBadZone},
		{"too many duplicates", head + "$GENERATE 1-1000 evil.example CNAME .\n", ErrBadZone},
		{"too large", head + strings.Repeat("; padding\n", 1000), ErrBadZone},
		{"huge record", head + "big TXT " + strings.Repeat("\""+strings.Repeat("x", 250)+"\" ", 40) + "\n", ErrBadZone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := set(tc.text)
			if !errors.Is(err, tc.want) {
				t.Fatalf("SetZone: %v, want %v", err, tc.want)
			}
			if serial, _ := s.Serial(testOrigin); serial != 2020031200 {
				t.Errorf("after a rejected zone the serial is %d", serial)
			}
		})
	}
	if err := s.SetZone("other.example", []byte(head)); !errors.Is(err, ErrUnknownZone) {
		t.Errorf("SetZone of an unconfigured zone: %v", err)
	}
	// RFC 1982: a serial follows when less than 2^31 ahead, and
	// 4294967295 is followed by 0 and 1.
	for i, serial := range []uint32{2020031200 + 1<<31 - 1, 4294967295, 1} {
		if err := set(strings.Replace(head, "2020031200", fmt.Sprint(serial), 1) + fmt.Sprintf("x%d CNAME .\n", i)); err != nil {
			t.Errorf("serial %d: %v", serial, err)
		}
	}
}

func TestNewErrors(t *testing.T) {
	good := ZoneConfig{Origin: testOrigin}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no addr", Config{Zones: []ZoneConfig{good}}, "Addr"},
		{"no zones", Config{Addr: "127.0.0.1:0"}, "no zones"},
		{"bad origin", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: "a..b"}}}, "not a domain name"},
		{"twice", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{good, good}}, "twice"},
		{"bad secret", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{good}, Keys: []Key{{Name: "k", Secret: "c2hvcnQ="}}}, "tsig-keygen"},
		{"bad algorithm", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{good}, Keys: []Key{{Name: "k", Algorithm: "hmac-md5", Secret: testSecret}}}, "hmac-sha256"},
		{"unknown zone key", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: testOrigin, Keys: []string{"k"}}}}, "not in Keys"},
		{"unknown notify key", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: testOrigin, NotifyKey: "k"}}}, "not in Keys"},
		{"TSIG without keys", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: testOrigin, RequireTSIG: true}}}, "no key may transfer it"},
		{"bad notify target", Config{Addr: "127.0.0.1:0", Zones: []ZoneConfig{{Origin: testOrigin, Notify: []string{"10.0.0.1"}}}}, "host:port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New accepted it")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("the error shows the secret")
			}
		})
	}
	k := Key{Name: "k", Secret: testSecret}
	if s := fmt.Sprint(k) + fmt.Sprintf("%v %+v", k, []Key{k}); strings.Contains(s, testSecret) {
		t.Errorf("printing a key shows its secret: %s", s)
	}
}

func TestBounds(t *testing.T) {
	s := start(t, Config{MaxConns: 3, MaxTransfers: 1, IdleTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})
	if err := s.SetZone(testOrigin, rpzText(t, 1, manyNames(50000)...)); err != nil {
		t.Fatal(err)
	}
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err)
	}
	t.Run("idle connections are closed", func(t *testing.T) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !closed(c) {
			t.Errorf("an idle connection stayed open")
		}
	})
	t.Run("connections beyond MaxConns are closed", func(t *testing.T) {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		// hold opens a connection and gets a query answered on it, which
		// proves the server holds it.
		hold := func() (net.Conn, error) {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				return nil, err
			}
			co := &dns.Conn{Conn: c}
			if err := co.WriteMsg(question(testOrigin, dns.TypeSOA)); err != nil {
				c.Close()
				return nil, err
			}
			if _, err := co.ReadMsg(); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
		for range 3 {
			// The server may still be releasing the slots of the
			// earlier subtests' connections: retry for a while.
			var c net.Conn
			var err error
			for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if c, err = hold(); err == nil || time.Now().After(end) {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !closed(c) {
			t.Errorf("a fourth connection was served")
		}
	})
	t.Run("a client that stops reading loses its transfer slot", func(t *testing.T) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		co := &dns.Conn{Conn: c}
		if err := co.WriteMsg(axfrMsg(testOrigin, "", "")); err != nil {
			t.Fatal(err)
		}
		// Never read: the server's writes block, time out and it hangs up.
		// Then the only transfer slot is free for the next client.
		var rrs []dns.RR
		for range 50 {
			if rrs, _, err = transferIn(t, s.Addr(), axfrMsg(testOrigin, "", ""), "", ""); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond) // busy: SERVFAIL until the stuck transfer is dropped
		}
		if err != nil || len(rrs) != 100003 {
			t.Errorf("the transfer after a stuck one: %d records, %v", len(rrs), err)
		}
	})
}

// rawExchange sends a packed request over TCP and returns the packed
// answer, so that tests can send and read what dns.Client refuses to.
func rawExchange(t testing.TB, addr string, req []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(append([]byte{byte(len(req) >> 8), byte(len(req))}, req...)); err != nil {
		t.Fatal(err)
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, int(l[0])<<8|int(l[1]))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func wireName(name string) []byte {
	b := make([]byte, 256)
	n, err := dns.PackDomainName(name, b, 0, nil, false)
	if err != nil {
		panic(err)
	}
	return b[:n]
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestUDPHostile(t *testing.T) {
	s := start(t, Config{})
	if err := s.SetZone(testOrigin, rpzText(t, 1, "evil.example")); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	soa := question(testOrigin, dns.TypeSOA)
	good, _ := soa.Pack()
	asResponse := slices.Clone(good)
	asResponse[2] |= 0x80
	for _, p := range [][]byte{{1, 2, 3}, asResponse, append(slices.Clone(good[:12]), 0xff, 0xff), make([]byte, 5000)} {
		c.Write(p)
	}
	// The server survives and answers the next good query.
	c.Write(good)
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf[:n]); err != nil {
			t.Fatalf("an answer does not parse: %v", err)
		}
		if r.Id == soa.Id && r.Rcode == dns.RcodeSuccess {
			break
		}
		if r.Rcode != dns.RcodeFormatError {
			t.Errorf("a hostile packet got %s, want FORMERR or nothing", dns.RcodeToString[r.Rcode])
		}
	}
}

func TestAllowedPrefix(t *testing.T) {
	z := &zone{cfg: ZoneConfig{AllowTransfer: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}}
	for addr, want := range map[string]bool{"10.1.2.3": true, "10.2.0.1": false, "127.0.0.1": false, "::1": false} {
		r := &request{addr: netip.MustParseAddr(addr)}
		if got := r.allowed(z); got != want {
			t.Errorf("allowed(%s) = %v, want %v", addr, got, want)
		}
	}
}

// Each organisation's zone opens only to its own key: another tenant's
// valid key is refused, and a zone that names no key takes none.
func TestZoneKeysPerTenant(t *testing.T) {
	const a, b, c = "a.rpz.ward.example.", "b.rpz.ward.example.", "c.rpz.ward.example."
	s := start(t, Config{Keys: []Key{{Name: "key-a", Secret: testSecret}, {Name: "key-b", Secret: testSecret2}}, Zones: []ZoneConfig{
		{Origin: a, RequireTSIG: true, Keys: []string{"key-a"}},
		{Origin: b, RequireTSIG: true, Keys: []string{"key-b"}},
		{Origin: c, AllowTransfer: loopback},
	}})
	for _, z := range []string{a, b, c} {
		if err := s.SetZone(z, []byte("$ORIGIN "+z+"\n@ 300 IN SOA localhost. hostmaster 1 3600 600 864000 300\n@ 300 IN NS localhost.\nevil.example 300 IN CNAME .\n")); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		zone, key, secret string
		ok                bool
	}{
		{a, "key-a", testSecret, true}, {b, "key-b", testSecret2, true}, {c, "", "", true},
		{a, "key-b", testSecret2, false}, {b, "key-a", testSecret, false}, {a, "", "", false},
		{c, "key-a", testSecret, false},
	} {
		alg := ""
		if tc.key != "" {
			alg = dns.HmacSHA256
		}
		rrs, _, err := transferIn(t, s.Addr(), axfrMsg(tc.zone, tc.key, alg), tc.key, tc.secret)
		if got := err == nil && len(rrs) == 4; got != tc.ok {
			t.Errorf("zone %s with key %q: transferred %v (%d records, %v), want %v", tc.zone, tc.key, got, len(rrs), err, tc.ok)
		}
	}
}
