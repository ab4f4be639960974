package ct

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A small DER builder for hand-made certificates. Lengths are minimal
// unless built by hand.

func tlv(tag byte, parts ...[]byte) []byte {
	body := slices.Concat(parts...)
	return append(appendDERHeader(nil, tag, len(body)), body...)
}

// tlvLong encodes with a non-minimal 4-byte length, as some old
// certificates do.
func tlvLong(tag byte, parts ...[]byte) []byte {
	body := slices.Concat(parts...)
	n := len(body)
	return append([]byte{tag, 0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

var (
	oidOrg       = []byte{0x55, 0x04, 0x0a}
	oidOU        = []byte{0x55, 0x04, 0x0b}
	oidCountry   = []byte{0x55, 0x04, 0x06}
	oidEmailAddr = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01} // 1.2.840.113549.1.9.1
	ecdsaSHA256  = tlv(tagSequence, tlv(tagOID, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}))
)

func atv(oid []byte, tag byte, val string) []byte {
	return tlv(tagSequence, tlv(tagOID, oid), tlv(tag, []byte(val)))
}
func rdn(atvs ...[]byte) []byte   { return tlv(tagSet, atvs...) }
func dname(rdns ...[]byte) []byte { return tlv(tagSequence, rdns...) }
func cnName(cn string) []byte     { return dname(rdn(atv(oidCommonName, tagUTF8String, cn))) }
func dns(s string) []byte         { return tlv(tagDNSName, []byte(s)) }

func sanExt(gns ...[]byte) []byte {
	return tlv(tagSequence, tlv(tagOID, oidSubjectAltName), tlv(tagOctetString, tlv(tagSequence, gns...)))
}

func poisonExt() []byte {
	return tlv(tagSequence, tlv(tagOID, oidCTPoison), tlv(tagBoolean, []byte{0xff}), tlv(tagOctetString, []byte{0x05, 0x00}))
}

func sctExt() []byte {
	return tlv(tagSequence, tlv(tagOID, oidCTSCTList), tlv(tagOctetString, tlv(tagOctetString, []byte{0, 2, 0xab, 0xcd})))
}

func validity(nb, na string) []byte {
	return tlv(tagSequence, tlv(tagUTCTime, []byte(nb)), tlv(tagUTCTime, []byte(na)))
}

var defaultValidity = validity("260102030405Z", "260402030405Z")

// tbsParts are the fields of a hand-made TBSCertificate.
type tbsParts struct {
	version, serial, issuer, validity, subject []byte
	extra                                      [][]byte // after the SPKI, before the extensions
	exts                                       [][]byte // nil: no [3]
}

func (p tbsParts) fields() [][]byte {
	if p.serial == nil {
		p.serial = tlv(0x02, []byte{0xff}) // -1: negative serials are in the wild
	}
	if p.issuer == nil {
		p.issuer = dname(rdn(atv(oidCountry, tagPrintableString, "US")), rdn(atv(oidCommonName, tagPrintableString, "Test CA")))
	}
	if p.validity == nil {
		p.validity = defaultValidity
	}
	if p.subject == nil {
		p.subject = dname()
	}
	spki := tlv(tagSequence, ecdsaSHA256, tlv(0x03, []byte{0, 4, 1, 2, 3}))
	f := [][]byte{p.serial, ecdsaSHA256, p.issuer, p.validity, p.subject, spki}
	if p.version != nil {
		f = append([][]byte{p.version}, f...)
	}
	f = append(f, p.extra...)
	if p.exts != nil {
		f = append(f, tlv(tagExtensions, tlv(tagSequence, p.exts...)))
	}
	return f
}

func (p tbsParts) tbs() []byte { return tlv(tagSequence, p.fields()...) }

var v3 = tlv(tagVersion, tlv(0x02, []byte{2}))

func TestDERRead(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		tag      byte
		body     []byte
		rest     []byte
		errMatch string
	}{
		{"short", []byte{0x04, 2, 'a', 'b', 9}, 0x04, []byte("ab"), []byte{9}, ""},
		{"empty", []byte{0x05, 0}, 0x05, []byte{}, []byte{}, ""},
		{"long 1", append([]byte{0x04, 0x81, 0x80}, make([]byte, 0x80)...), 0x04, make([]byte, 0x80), []byte{}, ""},
		{"non-minimal long", []byte{0x04, 0x82, 0, 1, 'x'}, 0x04, []byte("x"), []byte{}, ""},
		{"4-byte length", []byte{0x04, 0x84, 0, 0, 0, 1, 'x'}, 0x04, []byte("x"), []byte{}, ""},
		{"high tag", []byte{0x1f, 0x81, 0x01, 1, 'x'}, 0x1f, []byte("x"), []byte{}, ""},
		{"indefinite", []byte{0x30, 0x80, 0, 0}, 0, nil, nil, "indefinite length"},
		{"5-byte length", []byte{0x04, 0x85, 0, 0, 0, 0, 1, 'x'}, 0, nil, nil, "length of more than 4 bytes"},
		{"too long", []byte{0x04, 3, 'a'}, 0, nil, nil, "length 3 exceeds the rest (1 bytes)"},
		{"too long, long form", []byte{0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 'a'}, 0, nil, nil, "length 4294967295 exceeds the rest (1 bytes)"},
		{"truncated length", []byte{0x04, 0x82, 1}, 0, nil, nil, "truncated"},
		{"one byte", []byte{0x04}, 0, nil, nil, "truncated"},
		{"truncated high tag", []byte{0x1f, 0x81, 0x81}, 0, nil, nil, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tag, body, rest, err := derRead(tt.in)
			if tt.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errMatch) {
					t.Fatalf("err = %v, want %q", err, tt.errMatch)
				}
				return
			}
			if err != nil || tag != tt.tag || !bytes.Equal(body, tt.body) || !bytes.Equal(rest, tt.rest) {
				t.Fatalf("got %#x %x %x %v, want %#x %x %x", tag, body, rest, err, tt.tag, tt.body, tt.rest)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		tag  byte
		in   string
		want string // RFC 3339, "" for the zero time
	}{
		{tagUTCTime, "130220133451Z", "2013-02-20T13:34:51Z"},
		{tagUTCTime, "491231235959Z", "2049-12-31T23:59:59Z"},
		{tagUTCTime, "500101000000Z", "1950-01-01T00:00:00Z"},
		{tagUTCTime, "1302201334Z", "2013-02-20T13:34:00Z"}, // no seconds
		{tagUTCTime, "130220133451+0100", "2013-02-20T12:34:51Z"},
		{tagUTCTime, "130220133451-0230", "2013-02-20T16:04:51Z"},
		{tagUTCTime, "130220133451", "2013-02-20T13:34:51Z"}, // no zone: UTC
		{tagUTCTime, "160229000000Z", "2016-02-29T00:00:00Z"},
		{tagUTCTime, "150229000000Z", ""}, // no 29 February in 2015
		{tagUTCTime, "131320133451Z", ""},
		{tagUTCTime, "130231133451Z", ""},
		{tagUTCTime, "130220243451Z", ""},
		{tagUTCTime, "1302201334515Z", ""},
		{tagUTCTime, "13022013345Z", ""},
		{tagUTCTime, "130220133451z", ""},
		{tagUTCTime, "1302201334+1", ""},
		{tagUTCTime, "", ""},
		{tagUTCTime, "13-2-20 133451Z", ""},
		{tagGeneralizedTime, "20500101000000Z", "2050-01-01T00:00:00Z"},
		{tagGeneralizedTime, "99991231235959Z", "9999-12-31T23:59:59Z"},
		{tagGeneralizedTime, "20130220133451.123Z", "2013-02-20T13:34:51.123Z"},
		{tagGeneralizedTime, "20130220133451.1234567891234Z", "2013-02-20T13:34:51.123456789Z"},
		{tagGeneralizedTime, "201302201334Z", "2013-02-20T13:34:00Z"},
		{tagGeneralizedTime, "20000229000000Z", "2000-02-29T00:00:00Z"},
		{tagGeneralizedTime, "21000229000000Z", ""},
		{tagGeneralizedTime, "2013022013Z", ""},
		{0x04, "130220133451Z", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%#x_%s", tt.tag, tt.in), func(t *testing.T) {
			got := parseTime(tt.tag, []byte(tt.in))
			if tt.want == "" {
				if !got.IsZero() {
					t.Errorf("got %v, want the zero time", got)
				}
				return
			}
			want, err := time.Parse(time.RFC3339Nano, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		tag  byte
		in   []byte
		want string
		ok   bool
	}{
		{"UTF8String", tagUTF8String, []byte("Grüße"), "Grüße", true},
		{"bad UTF-8", tagUTF8String, []byte("a\xffb\xe2\x82"), "a\uFFFDb\uFFFD\uFFFD", true},
		{"PrintableString", tagPrintableString, []byte("Let's Encrypt"), "Let's Encrypt", true},
		{"IA5String", tagIA5String, []byte("a@b.c"), "a@b.c", true},
		{"T61String Latin-1", tagT61String, []byte("Soci\xe9t\xe9"), "Société", true},
		{"BMPString", tagBMPString, []byte{0, 'A', 0x00, 0xe9, 0x4e, 0x2d}, "Aé中", true},
		{"BMPString surrogate pair", tagBMPString, []byte{0xd8, 0x3d, 0xde, 0x00}, "😀", true},
		{"BMPString lone surrogate", tagBMPString, []byte{0xd8, 0x3d, 0, 'x'}, "\uFFFDx", true},
		{"BMPString odd length", tagBMPString, []byte{0, 'A', 0}, "A\uFFFD", true},
		{"UniversalString", tagUniversalString, []byte{0, 0, 0, 'A', 0, 1, 0xf6, 0x00}, "A😀", true},
		{"UniversalString out of range", tagUniversalString, []byte{0, 0x11, 0, 0, 0, 0}, "\uFFFD\uFFFD", true},
		{"OCTET STRING", tagOctetString, []byte("x"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := appendString([]byte("<"), tt.tag, tt.in)
			if ok != tt.ok || (ok && string(got) != "<"+tt.want) {
				t.Errorf("got %q %v, want %q %v", got, ok, "<"+tt.want, tt.ok)
			}
		})
	}
}

func TestIssuerRFC4514(t *testing.T) {
	emailTLV := tlv(tagIA5String, []byte("ca@example.com"))
	tests := []struct {
		name string
		dn   []byte
		want string
	}{
		{"order reversed", dname(
			rdn(atv(oidCountry, tagPrintableString, "US")),
			rdn(atv(oidOrg, tagPrintableString, "Let's Encrypt")),
			rdn(atv(oidCommonName, tagPrintableString, "R3"))),
			"CN=R3,O=Let's Encrypt,C=US"},
		{"special characters", dname(rdn(atv(oidOrg, tagUTF8String, `Foo, Inc.+"<>;\=`))),
			`O=Foo\, Inc.\+\"\<\>\;\\=`},
		{"leading and trailing space, leading #", dname(rdn(atv(oidCommonName, tagUTF8String, " #a b# "))),
			`CN=\ #a b#\ `},
		{"leading #", dname(rdn(atv(oidCommonName, tagUTF8String, "#1"))), `CN=\#1`},
		{"control characters", dname(rdn(atv(oidCommonName, tagUTF8String, "a\x00b\n\x7f"))), `CN=a\00b\0a\7f`},
		{"multi-valued RDN", dname(rdn(atv(oidOU, tagUTF8String, "Eng"), atv(oidCommonName, tagUTF8String, "CA")),
			rdn(atv(oidCountry, tagPrintableString, "GB"))),
			"C=GB,OU=Eng+CN=CA"},
		{"unknown type as #hex", dname(rdn(tlv(tagSequence, tlv(tagOID, oidEmailAddr), emailTLV)),
			rdn(atv(oidCommonName, tagUTF8String, "CA"))),
			"CN=CA,1.2.840.113549.1.9.1=#" + hex.EncodeToString(emailTLV)},
		{"known type, non-string value", dname(rdn(tlv(tagSequence, tlv(tagOID, oidCommonName), tlv(0x02, []byte{1})))),
			"CN=#020101"},
		{"BMPString", dname(rdn(tlv(tagSequence, tlv(tagOID, oidOrg), tlv(tagBMPString, []byte{0, 'S', 0, 0xe9})))),
			"O=Sé"},
		{"T61String", dname(rdn(tlv(tagSequence, tlv(tagOID, oidOrg), tlv(tagT61String, []byte("Soci\xe9t\xe9"))))),
			"O=Société"},
		{"bad UTF-8", dname(rdn(atv(oidOrg, tagUTF8String, "a\xffb"))), "O=a\uFFFDb"},
		{"all known short names", dname(
			rdn(atv([]byte{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, tagIA5String, "com")),
			rdn(atv([]byte{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, tagUTF8String, "u")),
			rdn(atv([]byte{0x55, 0x04, 0x05}, tagPrintableString, "42")),
			rdn(atv([]byte{0x55, 0x04, 0x11}, tagPrintableString, "1000")),
			rdn(atv([]byte{0x55, 0x04, 0x09}, tagPrintableString, "Main St")),
			rdn(atv([]byte{0x55, 0x04, 0x07}, tagPrintableString, "L")),
			rdn(atv([]byte{0x55, 0x04, 0x08}, tagPrintableString, "S"))),
			"ST=S,L=L,STREET=Main St,POSTALCODE=1000,SERIALNUMBER=42,UID=u,DC=com"},
		{"large OID arcs", dname(rdn(tlv(tagSequence, tlv(tagOID, []byte{0x88, 0x37, 0xff, 0x7f}), tlv(0x05, nil)))),
			"2.999.16383=#0500"},
		{"bad OID skipped", dname(rdn(tlv(tagSequence, tlv(tagOID, []byte{0x2a, 0x86}), tlv(0x05, nil))),
			rdn(atv(oidCommonName, tagUTF8String, "CA"))),
			"CN=CA"},
		{"unreadable ATV skipped", dname(rdn(tlv(tagSequence, tlv(tagOID, oidOrg))), rdn(atv(oidCommonName, tagUTF8String, "CA"))),
			"CN=CA"},
		{"empty", dname(), ""},
		{"empty value", dname(rdn(atv(oidCommonName, tagUTF8String, ""))), "CN="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, _, err := ParseCertificateNames(tbsParts{issuer: tt.dn}.tbs(), true)
			if err != nil {
				t.Fatal(err)
			}
			if info.Issuer != tt.want {
				t.Errorf("Issuer = %q, want %q", info.Issuer, tt.want)
			}
		})
	}
}

// TestIssuerAgreesWithPkix compares with crypto/x509/pkix on DNs whose
// values pkix re-encodes as they were.
func TestIssuerAgreesWithPkix(t *testing.T) {
	names := []pkix.Name{
		{Country: []string{"US"}, Organization: []string{"Let's Encrypt"}, CommonName: "R3"},
		{Country: []string{"GB"}, Province: []string{"London"}, Locality: []string{"London"},
			Organization: []string{"Google, Inc."}, OrganizationalUnit: []string{"Eng", "+CT"}, CommonName: " #Fake CA "},
		{CommonName: "Grüße <a;b>", StreetAddress: []string{"1 Main St"}, PostalCode: []string{"12345"}, SerialNumber: "7"},
	}
	for _, n := range names {
		der, err := asn1.Marshal(n.ToRDNSequence())
		if err != nil {
			t.Fatal(err)
		}
		info, _, err := ParseCertificateNames(tbsParts{issuer: der}.tbs(), true)
		if err != nil {
			t.Fatal(err)
		}
		var rdns pkix.RDNSequence // as encoded: SET OF values sorted
		if _, err := asn1.Unmarshal(der, &rdns); err != nil {
			t.Fatal(err)
		}
		if want := rdns.String(); info.Issuer != want {
			t.Errorf("Issuer = %q, pkix says %q", info.Issuer, want)
		}
	}
}

func TestIssuerBounds(t *testing.T) {
	t.Run("cut at 1 KiB, never inside an escape", func(t *testing.T) {
		var rdns [][]byte
		var parts []string
		for i := range 40 {
			v := strings.Repeat(",", i%7) + strings.Repeat("a", 20) + "é" + strings.Repeat(",", 5)
			rdns = append(rdns, rdn(atv(oidOrg, tagUTF8String, v)))
			parts = append(parts, "O="+strings.ReplaceAll(v, ",", `\,`))
		}
		slices.Reverse(parts)
		full := strings.Join(parts, ",")
		info, _, err := ParseCertificateNames(tbsParts{issuer: dname(rdns...)}.tbs(), true)
		if err != nil {
			t.Fatal(err)
		}
		got := info.Issuer
		if len(got) > MaxIssuerLen || len(got) < MaxIssuerLen-4 || !strings.HasPrefix(full, got) || !utf8.ValidString(got) {
			t.Fatalf("Issuer (%d bytes) is not a prefix of %d bytes cut near %d", len(got), len(full), MaxIssuerLen)
		}
		if n := len(got) - len(strings.TrimRight(got, `\`)); n%2 == 1 {
			t.Errorf("Issuer ends inside an escape: %q", got[len(got)-10:])
		}
	})
	t.Run("last 64 RDNs", func(t *testing.T) {
		var rdns [][]byte
		for i := range 100 {
			rdns = append(rdns, rdn(atv(oidOU, tagUTF8String, fmt.Sprint(i))))
		}
		info, _, err := ParseCertificateNames(tbsParts{issuer: dname(rdns...)}.tbs(), true)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(info.Issuer, ",")
		if len(parts) != maxRDNs || parts[0] != "OU=99" || parts[63] != "OU=36" {
			t.Errorf("Issuer has %d RDNs, %q ... %q", len(parts), parts[0], parts[len(parts)-1])
		}
	})
}

func TestNames(t *testing.T) {
	many := func(n int) (gns [][]byte, want []string) {
		for i := range n {
			s := fmt.Sprintf("host%d.example.org", i)
			gns = append(gns, dns(strings.ToUpper(s)))
			want = append(want, s)
		}
		return
	}
	gns1500, want1500 := many(1500)
	gns40, want40 := many(40)
	gns40 = append(gns40, dns("HOST5.example.org"), dns("host35.example.org."), dns("new.example.org"))
	want40 = append(want40, "new.example.org")
	sub := func(cns ...string) []byte {
		var rdns [][]byte
		for _, cn := range cns {
			rdns = append(rdns, rdn(atv(oidCommonName, tagUTF8String, cn)))
		}
		return dname(append([][]byte{rdn(atv(oidCountry, tagPrintableString, "NL"))}, rdns...)...)
	}
	tests := []struct {
		name    string
		subject []byte
		exts    [][]byte
		want    []string
	}{
		{"SANs then CN, lower-cased, trailing dots, duplicates",
			sub("Portal.Example.com"),
			[][]byte{sanExt(dns("WWW.Example.COM."), dns("www.example.com"), dns("example.com.."), dns("portal.example.com"))},
			[]string{"www.example.com", "example.com", "portal.example.com"}},
		{"wildcards kept", sub("*.Example.net"), [][]byte{sanExt(dns("*.Example.com"))}, []string{"*.example.com", "*.example.net"}},
		{"other GeneralNames skipped", nil,
			[][]byte{sanExt(tlv(0x81, []byte("a@b.com")), tlv(0x87, []byte{10, 0, 0, 1}), dns("a.com"), tlv(0xa4, cnName("b.com")))},
			[]string{"a.com"}},
		{"empty and invalid SANs dropped", nil,
			[][]byte{sanExt(dns(""), dns("."), dns("a b.com"), dns("x\x00.com"), dns("tab\t.com"), dns(" a.com"), dns("ok.com"))},
			[]string{"ok.com"}},
		{"SAN IP-like and single-label names kept", nil, [][]byte{sanExt(dns("10.0.0.1"), dns("LocalHost"))},
			[]string{"10.0.0.1", "localhost"}},
		{"invalid UTF-8 replaced", nil, [][]byte{sanExt(dns("caf\xe9.com"))}, []string{"caf\uFFFD.com"}},
		{"non-ASCII lower-cased", sub("ÉCOLE.fr"), [][]byte{sanExt(dns("BÜCHER.de"))}, []string{"bücher.de", "école.fr"}},
		{"CN that is not a DNS name", sub("10.0.0.1", "My Company", "localhost", "user@example.com", "a/b.com", "", "1.2.3", "ok.example"),
			nil, []string{"ok.example"}},
		{"CN in BMPString", dname(rdn(tlv(tagSequence, tlv(tagOID, oidCommonName),
			tlv(tagBMPString, []byte{0, 'W', 0, '.', 0, 'N', 0, 'L'})))), nil, []string{"w.nl"}},
		{"CN in T61String", dname(rdn(tlv(tagSequence, tlv(tagOID, oidCommonName), tlv(tagT61String, []byte("caf\xe9.fr"))))),
			nil, []string{"café.fr"}},
		{"CN as an INTEGER ignored", dname(rdn(tlv(tagSequence, tlv(tagOID, oidCommonName), tlv(0x02, []byte{1})))), nil, nil},
		{"critical SAN, two SAN extensions", nil, [][]byte{
			tlv(tagSequence, tlv(tagOID, oidSubjectAltName), tlv(tagBoolean, []byte{0xff}), tlv(tagOctetString, tlv(tagSequence, dns("a.com")))),
			poisonExt(),
			sanExt(dns("b.com"), dns("a.com")),
		}, []string{"a.com", "b.com"}},
		{"broken SAN value", sub("cn.example"), [][]byte{
			tlv(tagSequence, tlv(tagOID, oidSubjectAltName), tlv(tagOctetString, []byte{0x30, 0x05, 0x82, 0x01})),
			tlv(tagSequence, tlv(tagOID, oidSubjectAltName), tlv(tagOctetString, []byte{0x31, 0x00})),
			tlv(tagSequence, tlv(tagOID, oidSubjectAltName), tlv(0x05, nil)),
		}, []string{"cn.example"}},
		{"empty SAN", sub("cn.example"), [][]byte{sanExt()}, []string{"cn.example"}},
		{"duplicates past the linear scan", nil, [][]byte{sanExt(gns40...)}, want40},
		{"cut at MaxNames", sub("last.example"), [][]byte{sanExt(gns1500...)}, want1500[:MaxNames]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exts := tt.exts
			if exts == nil {
				exts = [][]byte{}
			}
			info, _, err := ParseCertificateNames(tbsParts{version: v3, subject: tt.subject, exts: exts}.tbs(), true)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(info.Names, tt.want) {
				t.Errorf("Names = %q\nwant %q", info.Names, tt.want)
			}
		})
	}
}

// TestCertOddities: real-world quirks that must not stop the reader.
func TestCertOddities(t *testing.T) {
	subject := cnName("odd.example")
	good := tbsParts{version: v3, subject: subject, exts: [][]byte{sanExt(dns("san.example"))}}
	tests := []struct {
		name   string
		der    []byte
		tbs    bool
		names  []string
		nb, na string // "" for zero
	}{
		{"v1, no version, no extensions", tbsParts{subject: subject}.tbs(), true,
			[]string{"odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"unique IDs before extensions", tbsParts{version: v3, subject: subject,
			extra: [][]byte{tlv(0x81, []byte{0, 1}), tlv(0x82, []byte{0, 2})}, exts: good.exts}.tbs(), true,
			[]string{"san.example", "odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"non-minimal lengths", tlvLong(tagSequence, tlvLong(tagSequence, good.fields()...), ecdsaSHA256, tlv(0x03, []byte{0})), false,
			[]string{"san.example", "odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"GeneralizedTime, UTCTime without seconds", tbsParts{subject: subject, validity: tlv(tagSequence,
			tlv(tagGeneralizedTime, []byte("20500101000000Z")), tlv(tagUTCTime, []byte("5101010000Z")))}.tbs(), true,
			[]string{"odd.example"}, "2050-01-01T00:00:00Z", "1951-01-01T00:00:00Z"},
		{"unreadable times", tbsParts{subject: subject, validity: tlv(tagSequence,
			tlv(tagUTCTime, []byte("2601")), tlv(tagOctetString, []byte("x")))}.tbs(), true,
			[]string{"odd.example"}, "", ""},
		{"validity not a SEQUENCE", tbsParts{subject: subject, validity: tlv(tagSet)}.tbs(), true,
			[]string{"odd.example"}, "", ""},
		{"one time only", tbsParts{subject: subject, validity: tlv(tagSequence, tlv(tagUTCTime, []byte("260102030405Z")))}.tbs(), true,
			[]string{"odd.example"}, "2026-01-02T03:04:05Z", ""},
		{"subject not a SEQUENCE", tbsParts{subject: tlv(0x05, nil)}.tbs(), true, nil, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"extensions not a SEQUENCE", tlv(tagSequence, append(tbsParts{subject: subject}.fields(), tlv(tagExtensions, tlv(tagOctetString)))...), true,
			[]string{"odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"empty extensions", tbsParts{subject: subject, exts: [][]byte{}}.tbs(), true,
			[]string{"odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"trailing bytes after the certificate", append(tlv(tagSequence, good.tbs(), ecdsaSHA256), 0, 0), false,
			[]string{"san.example", "odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
		{"certificate without signature", tlv(tagSequence, good.tbs()), false,
			[]string{"san.example", "odd.example"}, "2026-01-02T03:04:05Z", "2026-04-02T03:04:05Z"},
	}
	tm := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		return utc(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, _, err := ParseCertificateNames(tt.der, tt.tbs)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(info.Names, tt.names) || !info.NotBefore.Equal(tm(tt.nb)) || !info.NotAfter.Equal(tm(tt.na)) {
				t.Errorf("got %q %v %v, want %q %s %s", info.Names, info.NotBefore, info.NotAfter, tt.names, tt.nb, tt.na)
			}
			if info.Issuer != "CN=Test CA,C=US" {
				t.Errorf("Issuer = %q", info.Issuer)
			}
		})
	}
}

func TestCertMalformed(t *testing.T) {
	good := tbsParts{version: v3}
	tests := []struct {
		name string
		der  []byte
		tbs  bool
		want string
	}{
		{"empty", nil, false, "certificate: truncated"},
		{"not a SEQUENCE", tlv(tagSet, good.tbs()), false, "certificate: tag 0x31"},
		{"indefinite length", append([]byte{0x30, 0x80}, good.tbs()...), false, "certificate: indefinite length"},
		{"TBS not a SEQUENCE", tlv(tagSequence, tlv(tagSet)), false, "TBSCertificate: tag 0x31"},
		{"TBS missing", tlv(tagSequence), false, "TBSCertificate: truncated"},
		{"five fields", tlv(tagSequence, good.fields()[:6]...), true, "TBSCertificate has 5 fields, want at least 6"},
		{"field too long", tlv(tagSequence, append(good.fields(), []byte{0xa3, 0x05, 0x30, 0x03})...), true,
			"TBSCertificate field 6: length 5 exceeds the rest (2 bytes)"},
		{"TBS length too long", append([]byte{0x30, 0x82, 0x10, 0x00}, slices.Concat(good.fields()...)...), true, "TBSCertificate: length 4096 exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseCertificateNames(tt.der, tt.tbs)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrMalformed with %q", err, tt.want)
			}
		})
	}
}

func TestTBSKey(t *testing.T) {
	subject := cnName("key.example")
	san := sanExt(dns("key.example"))
	keyOf := func(t *testing.T, tbs []byte) [32]byte {
		t.Helper()
		_, _, k, err := decodeCert(tbs, true, true)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	base := tbsParts{version: v3, subject: subject, exts: [][]byte{san}}.tbs()
	noExts := tbsParts{version: v3, subject: subject}.tbs()
	same := []struct {
		name string
		tbs  []byte
		want []byte // the TBS whose plain SHA-256 is the key
	}{
		{"no CT extensions", base, base},
		{"poison removed", tbsParts{version: v3, subject: subject, exts: [][]byte{poisonExt(), san}}.tbs(), base},
		{"SCT list removed", tbsParts{version: v3, subject: subject, exts: [][]byte{san, sctExt()}}.tbs(), base},
		{"both removed", tbsParts{version: v3, subject: subject, exts: [][]byte{sctExt(), san, poisonExt()}}.tbs(), base},
		{"nothing left: [3] dropped", tbsParts{version: v3, subject: subject, exts: [][]byte{poisonExt()}}.tbs(), noExts},
		{"empty extensions dropped", tbsParts{version: v3, subject: subject, exts: [][]byte{}}.tbs(), noExts},
		{"non-minimal headers rebuilt", tlvLong(tagSequence, append(tbsParts{version: v3, subject: subject}.fields(),
			tlvLong(tagExtensions, tlvLong(tagSequence, poisonExt(), san)))...), base},
		{"no extensions", noExts, noExts},
		{"unreadable extensions kept as they are", tlv(tagSequence, append(tbsParts{subject: subject}.fields(),
			tlv(tagExtensions, tlv(tagOctetString, poisonExt())))...),
			tlv(tagSequence, append(tbsParts{subject: subject}.fields(), tlv(tagExtensions, tlv(tagOctetString, poisonExt())))...)},
		{"undelimitable extension list kept", tlv(tagSequence, append(tbsParts{subject: subject}.fields(),
			tlv(tagExtensions, tlv(tagSequence, poisonExt(), []byte{0x30, 0x05})))...),
			tlv(tagSequence, append(tbsParts{subject: subject}.fields(), tlv(tagExtensions, tlv(tagSequence, poisonExt(), []byte{0x30, 0x05})))...)},
	}
	for _, tt := range same {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := keyOf(t, tt.tbs), sha256.Sum256(tt.want); got != want {
				t.Errorf("TBSKey = %x, want %x", got, want)
			}
		})
	}
	t.Run("big TBS", func(t *testing.T) {
		var gns [][]byte
		for i := range 400 {
			gns = append(gns, dns(fmt.Sprintf("h%d.example.com", i)))
		}
		big := tbsParts{version: v3, subject: subject, exts: [][]byte{sanExt(gns...)}}.tbs()
		bigPre := tbsParts{version: v3, subject: subject, exts: [][]byte{poisonExt(), sanExt(gns...)}}.tbs()
		if len(big) < 5000 || keyOf(t, bigPre) != sha256.Sum256(big) {
			t.Errorf("TBSKey of a %d-byte TBS is wrong", len(big))
		}
	})
	t.Run("differs", func(t *testing.T) {
		other := tbsParts{version: v3, subject: cnName("other.example"), exts: [][]byte{san}}.tbs()
		if keyOf(t, other) == keyOf(t, base) {
			t.Error("two certificates with different subjects share a TBSKey")
		}
	})
}

// FuzzParseCertificateNames drives the DER walker directly, where fuzzing
// through whole entries rarely gets past the length prefixes.
func FuzzParseCertificateNames(f *testing.F) {
	for _, der := range readTestCerts(f) {
		f.Add(der, false)
	}
	for _, raw := range allRealEntries(f) {
		if te, _, err := readTimestampedEntry(raw.LeafInput[2:]); err == nil {
			f.Add(te.signed, te.precert)
		}
	}
	subject := dname(rdn(atv(oidCommonName, tagBMPString, "\x00W\x00.\x00N\x00L")), rdn(atv(oidOU, tagT61String, "Soci\xe9t\xe9")))
	f.Add(tbsParts{version: v3, subject: subject, exts: [][]byte{poisonExt(), sanExt(dns("A.example."), dns("*.B.example"))}}.tbs(), true)
	f.Fuzz(func(t *testing.T, der []byte, tbsOnly bool) {
		info, tbs, key, err := decodeCert(der, tbsOnly, true)
		info2, tbs2, key2, err2 := decodeCert(der, tbsOnly, true)
		if (err == nil) != (err2 == nil) || !slices.Equal(info.Names, info2.Names) || info.Issuer != info2.Issuer ||
			!bytes.Equal(tbs, tbs2) || key != key2 {
			t.Fatal("not deterministic")
		}
		if err != nil {
			return
		}
		checkEntryInvariants(t, Entry{Names: info.Names, Issuer: info.Issuer, Timestamp: time.Unix(0, 0).UTC(),
			NotBefore: info.NotBefore.UTC(), NotAfter: info.NotAfter.UTC()})
		if !info.NotBefore.IsZero() && info.NotBefore.Location() != time.UTC {
			t.Fatal("NotBefore not in UTC")
		}
		if len(tbs) == 0 || !bytes.Contains(der, tbs) {
			t.Fatal("TBS is not part of the input")
		}
	})
}
