package intel

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	t0  = time.Date(2020, 3, 12, 9, 30, 0, 0, time.UTC)
	t1  = time.Date(2020, 3, 14, 18, 0, 0, 0, time.UTC)
	exp = time.Date(2020, 6, 12, 0, 0, 0, 0, time.UTC)
)

// sample is a set of indicators like ward produces during a COVID-19
// campaign against a health institute, one of every type.
func sample() []Indicator {
	mk := func(typ Type, v, brand, tlp, desc string) Indicator {
		in, err := Parse(typ, v)
		if err != nil {
			panic(err)
		}
		in.FirstSeen, in.LastSeen, in.ValidUntil = t0, t1, exp
		in.Source, in.Confidence, in.TLP, in.Scope, in.Org, in.Brand, in.Description = SourceFinding, 90, tlp, ScopeShared, "rivm", brand, desc
		return in
	}
	return []Indicator{
		mk(TypeURL, "https://rivm-covid19.example/login.php?lang=nl", "RIVM", TLPGreen, "fake RIVM login page"),
		mk(TypeDomain, "rivm-covid19.example", "RIVM", TLPGreen, "look-alike of rivm.nl serving a login form"),
		mk(TypeDomain, "xn--rvm-ixa.example", "RIVM", TLPAmber, "IDN look-alike"),
		mk(TypeIP, "198.51.100.7", "RIVM", TLPGreen, "hosts rivm-covid19.example"),
		mk(TypeIP, "2001:db8::7", "", TLPGreen, ""),
		mk(TypeEmail, "info@rivm-covid19.example", "RIVM", TLPGreen, "sender of the lure"),
		mk(TypeSHA256, "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68", "", TLPClear, "Netwalker dropper"),
		mk(TypeMD5, "0749bae92ca336a02c83d126e04ec628", "", TLPClear, ""),
		mk(TypeFilename, "CORONAVIRUS_COVID-19.vbs", "", TLPClear, "=HYPERLINK(\"http://x\") 'quoted' \\ \"double\""),
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
