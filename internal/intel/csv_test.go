package intel

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sample(), CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "indicators.csv", b.Bytes())
	rows, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") || len(rows) != 10 {
		t.Fatalf("header %v and %d rows, want CSVHeader and 9 indicators", rows[0], len(rows)-1)
	}
	for _, r := range rows[1:] {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q would run as a spreadsheet formula", c)
			}
		}
	}
	if !strings.Contains(b.String(), `"'=HYPERLINK(""http://x"") 'quoted' \ ""double"""`) {
		t.Errorf("the formula in a description is not defused and quoted:\n%s", b.String())
	}
	var raw bytes.Buffer
	WriteCSV(&raw, sample(), CSVOptions{NoFormulaGuard: true})
	if !strings.Contains(raw.String(), `"=HYPERLINK(`) {
		t.Errorf("NoFormulaGuard still changes cells")
	}
}

func TestWriteHosts(t *testing.T) {
	w, _ := NewWarninglist("rivm.nl")
	inds := append(sample(), Indicator{Type: TypeDomain, Value: "www.rivm.nl"}, Indicator{Type: TypeDomain, Value: "evil.example\n1.2.3.4 bank.example"})
	var b bytes.Buffer
	if err := WriteHosts(&b, inds, HostsOptions{Warninglist: w, Title: "feed for\nmembers"}); err != nil {
		t.Fatal(err)
	}
	golden(t, "hosts.txt", b.Bytes())
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || f[0] != "0.0.0.0" {
			t.Errorf("line %q is not \"0.0.0.0 name\"", line)
		}
	}
	if strings.Contains(b.String(), "rivm.nl") || strings.Contains(b.String(), "bank.example") {
		t.Errorf("an official or injected name is in the hosts file:\n%s", b.String())
	}
	if err := WriteHosts(&b, nil, HostsOptions{Address: "nowhere"}); err == nil {
		t.Errorf("a bad address was accepted")
	}
}

func TestReadList(t *testing.T) {
	list := "# covid lures\nrivm-covid19.example\nhxxps://evil[.]example/login # from a report\n\n0.0.0.0 hosts.example\n" +
		"198.51.100.7\n" + strings.Repeat("a", 64) + "\nnot a valid line\nlure.vbs\n"
	res, err := ReadList(strings.NewReader(list))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range res.Indicators {
		got = append(got, string(in.Type)+":"+in.Value)
	}
	want := "domain:rivm-covid19.example url:https://evil.example/login domain:hosts.example ip:198.51.100.7 sha256:" + strings.Repeat("a", 64) + " filename:lure.vbs"
	if strings.Join(got, " ") != want {
		t.Errorf("ReadList =\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if res.SkippedCount != 1 || res.Skipped[0].Item != "line 8" {
		t.Errorf("skipped %+v, want line 8", res.Skipped)
	}
	if _, err := ReadList(strings.NewReader(strings.Repeat("x", maxLineLen+1))); err == nil {
		t.Errorf("an overlong line was accepted")
	}
}
