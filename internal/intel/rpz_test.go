package intel

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// parseZone reads a zone back with miekg/dns and returns its records as
// "owner type rdata" lines, failing the test on a syntax error.
func parseZone(t testing.TB, zone []byte, origin string) []string {
	t.Helper()
	zp := dns.NewZoneParser(bytes.NewReader(zone), dns.Fqdn(origin), "")
	var out []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		if !dns.IsSubDomain(dns.Fqdn(origin), h.Name) {
			t.Fatalf("record %s is outside the zone %s:\n%s", rr, origin, zone)
		}
		s := h.Name + " " + dns.TypeToString[h.Rrtype]
		if c, ok := rr.(*dns.CNAME); ok {
			s += " " + c.Target
		}
		out = append(out, s)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("the zone does not parse: %v\n%s", err, zone)
	}
	return out
}

func TestWriteRPZGolden(t *testing.T) {
	var b bytes.Buffer
	opts := RPZOptions{Origin: "rpz.ward.example", Serial: 2020031200, NS: []string{"ns1.ward.example"},
		Passthru: []string{"partner.example"}}
	if err := WriteRPZ(&b, sample(), opts); err != nil {
		t.Fatal(err)
	}
	golden(t, "rpz.zone", b.Bytes())
	recs := parseZone(t, b.Bytes(), opts.Origin)
	for _, want := range []string{
		"rpz.ward.example. SOA",
		"*.rivm-covid19.example.rpz.ward.example. CNAME .",
		"rivm-covid19.example.rpz.ward.example. CNAME .",
		"32.7.100.51.198.rpz-ip.rpz.ward.example. CNAME .",
		"128.7.zz.db8.2001.rpz-ip.rpz.ward.example. CNAME .",
		"*.partner.example.rpz.ward.example. CNAME rpz-passthru.",
	} {
		if !slices.Contains(recs, want) {
			t.Errorf("zone lacks %q; records:\n%s", want, strings.Join(recs, "\n"))
		}
	}
	// The URL and the domain name the same host: one pair of records.
	n := 0
	for _, r := range recs {
		if strings.HasSuffix(r, "rivm-covid19.example.rpz.ward.example. CNAME .") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("rivm-covid19.example has %d records, want 2 (name and wildcard)", n)
	}
	// Same content in another order: byte-identical zone.
	rev := sample()
	slices.Reverse(rev)
	var b2 bytes.Buffer
	if err := WriteRPZ(&b2, rev, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), b2.Bytes()) {
		t.Errorf("the zone depends on the order of the indicators")
	}
}

func TestWriteRPZOptions(t *testing.T) {
	w, _ := NewWarninglist("rivm.nl")
	inds := []Indicator{
		{Type: TypeDomain, Value: "evil.example"},
		{Type: TypeDomain, Value: "login.rivm.nl"}, // official: never blocked even if it reached the writer
		{Type: TypeURL, Value: "https://evil.azurewebsites.net/x"},
		{Type: TypeIP, Value: "10.0.0.1"},
		{Type: TypeIP, Value: "192.0.2.1"},
		{Type: TypeDomain, Value: "allowed.example"},
		{Type: TypeDomain, Value: "Bad\nValue.example"}, // never normalised: left out
	}
	var b bytes.Buffer
	err := WriteRPZ(&b, inds, RPZOptions{Origin: "rpz.example.org.", WalledGarden: "blocked.hospital.example",
		OmitIPs: true, Passthru: []string{"allowed.example"}, Warninglist: w})
	if err != nil {
		t.Fatal(err)
	}
	recs := parseZone(t, b.Bytes(), "rpz.example.org")
	has := func(s string) bool { return slices.Contains(recs, s) }
	if !has("evil.example.rpz.example.org. CNAME blocked.hospital.example.") || !has("*.evil.example.rpz.example.org. CNAME blocked.hospital.example.") {
		t.Errorf("no walled-garden CNAME for evil.example:\n%s", b.String())
	}
	if !has("evil.azurewebsites.net.rpz.example.org. CNAME blocked.hospital.example.") {
		t.Errorf("a URL's host is not blocked:\n%s", b.String())
	}
	if !has("allowed.example.rpz.example.org. CNAME rpz-passthru.") || has("allowed.example.rpz.example.org. CNAME blocked.hospital.example.") {
		t.Errorf("passthru does not win over a block:\n%s", b.String())
	}
	if strings.Contains(b.String(), "rivm") || strings.Contains(b.String(), "rpz-ip") || strings.Contains(strings.ToLower(b.String()), "bad") {
		t.Errorf("the zone has a warninglisted name, an IP with OmitIPs, or an invalid value:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "2 left out") {
		t.Errorf("the zone does not count what it left out:\n%s", b.String())
	}
}

func TestWriteRPZHostileOptions(t *testing.T) {
	for _, o := range []RPZOptions{
		{},
		{Origin: "rpz.example\n$ORIGIN evil."},
		{Origin: "rpz.example", MName: "ns.example; evil"},
		{Origin: "rpz.example", NS: []string{"a b"}},
		{Origin: "rpz.example", WalledGarden: "x\n@ IN NS evil."},
		{Origin: "rpz.example", Passthru: []string{"$INCLUDE /etc/passwd"}},
		{Origin: "rpz.example", RName: "hostmaster@ex ample"},
	} {
		if err := WriteRPZ(&bytes.Buffer{}, nil, o); err == nil {
			t.Errorf("WriteRPZ accepted options %+v", o)
		}
	}
}

func TestWriteRPZLongNames(t *testing.T) {
	label := strings.Repeat("a", 63)
	long := label + "." + label + "." + label + "." + strings.Repeat("b", 50) + ".example" // 250 bytes
	in, err := Parse(TypeDomain, long)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteRPZ(&b, []Indicator{in}, RPZOptions{Origin: "rpz.example"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), long) {
		t.Errorf("a name too long to fit under the origin was written")
	}
	parseZone(t, b.Bytes(), "rpz.example")
}

func TestRPZIP(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "32.1.2.0.192",
		"2001:db8::1":          "128.1.zz.db8.2001",
		"2001:db8::":           "128.zz.db8.2001",
		"::1":                  "128.1.zz",
		"2001:db8:0:1:0:0:0:1": "128.1.zz.1.0.db8.2001",
		"1:2:3:4:5:6:7:8":      "128.8.7.6.5.4.3.2.1",
	} {
		if got := rpzIP(netip.MustParseAddr(in)); got != want {
			t.Errorf("rpzIP(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSerial(t *testing.T) {
	day := time.Date(2020, 3, 12, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		prev           uint32
		prevHash, hash string
		now            time.Time
		want           uint32
	}{
		{0, "", "h1", day, 2020031200},                             // first zone
		{2020031200, "h1", "h1", day, 2020031200},                  // unchanged: same serial
		{2020031200, "h1", "h2", day, 2020031201},                  // changed the same day
		{2020031205, "h2", "h3", day.AddDate(0, 0, 1), 2020031300}, // the next day
		{2020031399, "h", "h4", day, 2020031400},                   // ran ahead: keeps counting
		{4294967295, "h", "h5", day, 1},                            // wraps as RFC 1982 allows
		{7, "h", "h6", day, 2020031200},                            // counter-scheme zone moves to dates
	}
	for _, tt := range tests {
		if got := Serial(tt.prev, tt.prevHash, tt.hash, tt.now); got != tt.want {
			t.Errorf("Serial(%d, %q, %q, %s) = %d, want %d", tt.prev, tt.prevHash, tt.hash, tt.now, got, tt.want)
		}
	}
}

func TestRPZHash(t *testing.T) {
	opts := RPZOptions{Origin: "rpz.example"}
	h1, err := RPZHash(sample(), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Serial = 99
	h2, _ := RPZHash(sample(), opts)
	if h1 != h2 {
		t.Errorf("the hash depends on the serial")
	}
	more := append(sample(), Indicator{Type: TypeDomain, Value: "new.example"})
	h3, _ := RPZHash(more, opts)
	if h3 == h1 {
		t.Errorf("adding a name did not change the hash")
	}
	desc := sample()
	desc[1].Description = "other words"
	if h4, _ := RPZHash(desc, opts); h4 != h1 {
		t.Errorf("a description change (not in the zone) changed the hash")
	}
}

// TestNamedCheckzone loads the zone with BIND's own checker.
func TestNamedCheckzone(t *testing.T) {
	bin, err := exec.LookPath("named-checkzone")
	if err != nil {
		t.Skip("named-checkzone not installed (apt-get install bind9-utils); the parse-back tests still ran")
	}
	hostile := append(sample(), Indicator{Type: TypeDomain, Value: "x.example\n$ORIGIN evil."},
		Indicator{Type: TypeURL, Value: "http://[2001:db8::9]/"})
	for name, opts := range map[string]RPZOptions{
		"nxdomain": {Origin: "rpz.ward.example", NS: []string{"ns1.ward.example"}, Passthru: []string{"partner.example"}},
		"garden":   {Origin: "rpz.ward.example", WalledGarden: "blocked.hospital.example", MName: "ns.hospital.example"},
	} {
		var b bytes.Buffer
		if err := WriteRPZ(&b, hostile, opts); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".zone")
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		// -i none: the NS name lies outside the zone, as it does for RPZ.
		out, err := exec.Command(bin, "-i", "none", opts.Origin, path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Errorf("named-checkzone rejects the %s zone: %v\n%s\n%s", name, err, out, b.String())
		}
	}
}
