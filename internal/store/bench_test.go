package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRecordMatches stores batches of 100 new findings (each with one
// observation, one alert and one delivery) on SQLite, as the engine does
// with CT names; it reports matches/s.
func BenchmarkRecordMatches(b *testing.B) {
	benchRecordMatches(b, func(b *testing.B) *Store {
		s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "ward.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkRecordMatchesPostgres is BenchmarkRecordMatches on the
// PostgreSQL of WARD_TEST_POSTGRES.
func BenchmarkRecordMatchesPostgres(b *testing.B) {
	benchRecordMatches(b, func(b *testing.B) *Store { return openPostgresT(b) })
}

func benchRecordMatches(b *testing.B, open func(b *testing.B) *Store) {
	for _, existing := range []bool{false, true} {
		name := "new"
		if existing {
			name = "existing"
		}
		b.Run(name, func(b *testing.B) {
			s := open(b)
			const batch = 100
			ms := make([]Match, batch)
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for j := range ms {
					d := i*batch + j
					if existing {
						d = j
					}
					ms[j] = Match{Org: "rivm", Domain: fmt.Sprintf("rivm-%d.nl", d), Brand: "RIVM", Score: 80,
						Techniques: []string{"addition"}, Reasons: []string{"imitates rivm.nl"},
						Name: fmt.Sprintf("login.rivm-%d.nl", d), Ref: fmt.Sprintf("https://ct.example/ %d", i*batch+j)}
				}
				if _, err := s.RecordMatches(b.Context(), "ct", []byte(fmt.Sprint(i)), ms, map[string][]string{"rivm": {"webhook"}}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "matches/s")
		})
	}
}

// BenchmarkFindingsPage lists pages of 50 of an organisation's 20,000
// findings on SQLite: the first page, a page deep in the walk (keyset, so as
// cheap as the first), and a filtered substring query.
func BenchmarkFindingsPage(b *testing.B) {
	s, err := OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "ward.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	base := time.Now()
	for i := 0; i < 20000; i += 1000 {
		var ms []Match
		for j := i; j < i+1000; j++ {
			ms = append(ms, Match{Org: []string{"rivm", "who"}[j%2], Domain: fmt.Sprintf("rivm-%05d.nl", j), Score: 50,
				Ref: "r", SeenAt: base.Add(-time.Duration(j/3) * time.Second)})
		}
		if _, err := s.RecordMatches(b.Context(), "ct", nil, ms, nil); err != nil {
			b.Fatal(err)
		}
	}
	_, deep := walk(b, s, 150)
	for _, tc := range []struct {
		name string
		f    Filter
	}{
		{"first", Filter{Org: "rivm"}},
		{"deep", Filter{Org: "rivm", After: deep}},
		{"query", Filter{Org: "rivm", Query: "999"}},
		{"state", Filter{Org: "rivm", States: []State{StateNew}, After: deep}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.Findings(b.Context(), tc.f)
				if err != nil || len(page) == 0 {
					b.Fatal(len(page), err)
				}
			}
		})
	}
}

// walk follows n pages and returns the cursor after them.
func walk(b *testing.B, s *Store, n int) (int, string) {
	after := ""
	total := 0
	for range n {
		page, next, err := s.Findings(b.Context(), Filter{Org: "rivm", After: after})
		if err != nil {
			b.Fatal(err)
		}
		total += len(page)
		after = next
	}
	return total, after
}
