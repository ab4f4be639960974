package store

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzPageKey feeds the opaque cursor of Findings, which comes from API
// clients, to its parser: it must never panic, and what it accepts must be
// exactly what pageKey.String produces.
func FuzzPageKey(f *testing.F) {
	for _, s := range []string{"", "v1.0.1", "v1.-1.1", "v1.zzzzzzzzzzzz.1", "v1.lkjh.zz", "v2.1.1", "v1..", "v1.1.0", "v1.+1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parsePageKey(s)
		if err != nil {
			return
		}
		if k.String() != s || k.id <= 0 {
			t.Fatalf("parsePageKey(%q) = %+v, which prints as %q", s, k, k.String())
		}
	})
}

// FuzzFindingsQuery searches with arbitrary substrings: the store must
// return exactly the domains that contain the lower-cased query, with LIKE's
// wildcards taken literally, and never fail on a query within bounds.
func FuzzFindingsQuery(f *testing.F) {
	s, err := OpenSQLite(f.Context(), filepath.Join(f.TempDir(), "ward.db"), Options{Now: fixedClock()})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	domains := []string{"rivm-login.nl", "rivm_x.nl", "rivmx.nl", "xn--rivm-9qa.nl", "who-int.org", "a.b-c_d.e", "100-rivm.nl"}
	var ms []Match
	for _, d := range domains {
		ms = append(ms, Match{Org: "o", Domain: d, Ref: "r"})
	}
	if _, err := s.RecordMatches(f.Context(), "ct", nil, ms, nil); err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"rivm", "_", "%", `\`, "RIVM-", "x%n", "ı", "İ", "[a-z]", "'", "--"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		page, _, err := s.Findings(t.Context(), Filter{Org: "o", Query: q, Limit: MaxPageLimit})
		if err != nil {
			if checkText("query", q, MaxDomainLen, false) == nil {
				t.Fatalf("Findings(query %q): %v", q, err)
			}
			return
		}
		var got, want []string
		for _, f := range page {
			got = append(got, f.Domain)
		}
		for _, d := range domains {
			if strings.Contains(d, strings.ToLower(q)) {
				want = append(want, d)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("query %q: got %v, want %v", q, got, want)
		}
	})
}

// FuzzRecordMatches stores arbitrary matches: each is either refused with
// an error, with nothing stored, or stored and read back as given (after the
// documented normalisation of the domain and name).
//
// With WARD_FUZZ_POSTGRES=1 (and WARD_TEST_POSTGRES set) it runs against
// PostgreSQL instead, which refuses some text that SQLite would store.
func FuzzRecordMatches(f *testing.F) {
	var s *Store
	if os.Getenv("WARD_FUZZ_POSTGRES") == "1" {
		s = openPostgresT(f)
	} else {
		var err error
		s, err = OpenSQLite(f.Context(), filepath.Join(f.TempDir(), "ward.db"), Options{Now: fixedClock()})
		if err != nil {
			f.Fatal(err)
		}
		defer s.Close()
	}
	f.Add("rivm", "rivm-coronatest.nl", "login.rivm-coronatest.nl", "RIVM", 80, "ct", "https://log.example/ 1", "addition", "imitates rivm.nl", []byte("cursor"), int64(0))
	f.Add("o", "XN--RIVM.NL.", "*.xn--rivm.nl", "", 0, "nrd", "nrd.txt:42", "", "", []byte(nil), int64(-1))
	f.Add("o\x00", "a..b", "", "\xff", 101, "", "", "\u202e", "😀", []byte{0}, int64(1<<62))
	n := 0
	f.Fuzz(func(t *testing.T, org, domain, name, brand string, score int, source, ref, technique, reason string, cursor []byte, seen int64) {
		n++
		org = fmt.Sprintf("%s#%d", org, n) // one finding per run
		m := Match{Org: org, Domain: domain, Name: name, Brand: brand, Score: score, Source: source, Ref: ref,
			Techniques: []string{technique}, Reasons: []string{reason}, SeenAt: time.Unix(0, seen)}
		created, err := s.RecordMatches(t.Context(), "src", cursor, []Match{m}, map[string][]string{org: {"webhook"}})
		if err != nil {
			page, _, ferr := s.Findings(t.Context(), Filter{Org: org})
			if ferr == nil && len(page) != 0 {
				t.Fatalf("a refused match (%v) was stored: %+v", err, page)
			}
			return
		}
		if len(created) != 1 {
			t.Fatalf("created %d findings, want 1", len(created))
		}
		d, err := s.Finding(t.Context(), org, created[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		got := d.Finding
		if got.Domain != normDomain(domain) || got.Brand != brand || got.Score != score ||
			!slices.Equal(got.Reasons, []string{reason}) || !slices.Equal(got.Techniques, []string{technique}) {
			t.Fatalf("stored %+v from %+v", got, m)
		}
		if len(d.Observations) != 1 || d.Observations[0].Ref != ref {
			t.Fatalf("observations %+v, want one with ref %q", d.Observations, ref)
		}
		if cursor != nil {
			c, err := s.Cursor(t.Context(), "src")
			if err != nil || string(c) != string(cursor) {
				t.Fatalf("cursor %q, %v; want %q", c, err, cursor)
			}
		}
	})
}
