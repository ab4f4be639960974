package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openSQLiteT(t *testing.T, path string) *Store {
	t.Helper()
	s, err := OpenSQLite(t.Context(), path, Options{Now: fixedClock()})
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) *Store {
		return openSQLiteT(t, filepath.Join(t.TempDir(), "ward.db"))
	})
}

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	a, err := migrations(sqliteDialect)
	if err != nil {
		t.Fatal(err)
	}
	b, err := migrations(postgresDialect)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(a), len(b))
	}
	for i := range a {
		if a[i].name != b[i].name {
			t.Errorf("migration %d is %s on sqlite but %s on postgres", i+1, a[i].name, b[i].name)
		}
	}
}

func TestSQLiteRejectsBadPath(t *testing.T) {
	for _, p := range []string{""} {
		if s, err := OpenSQLite(t.Context(), p, Options{}); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded", p)
		}
	}
}

// TestSQLiteTwoProcesses opens the same file twice, as the daemon and a
// command run beside it would, and writes from both at once: the busy
// timeout and immediate transactions must keep "database is locked" from
// surfacing.
func TestSQLiteTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ward.db")
	a := openSQLiteT(t, path)
	b := openSQLiteT(t, path)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, s := range []*Store{a, b, a, b} {
		wg.Go(func() {
			for r := range 25 {
				ms := []Match{match("rivm", fmt.Sprintf("rivm-%d-%d.nl", i, r), 50, "x"), match("rivm", "rivm-shared.nl", r, fmt.Sprint(i, r))}
				if _, err := s.RecordMatches(ctx, fmt.Sprint("src", i), []byte{byte(r)}, ms, map[string][]string{"rivm": {"webhook"}}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("writing from two processes: %v", err)
	}
	if got := count(t, a, "findings"); got != 4*25+1 {
		t.Errorf("%d findings, want %d", got, 4*25+1)
	}
}

// TestSQLiteCopiedMidRunReopens copies the database files while the store
// is open (as a crash or a naive backup would leave them: main file plus
// WAL) and after Close, and opens both copies.
func TestSQLiteCopiedMidRunReopens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ward.db")
	s := openSQLiteT(t, path)
	ctx := t.Context()
	for r := range 20 {
		mustRecord(t, s, "ct", []byte(fmt.Sprint(r)), []Match{match("rivm", fmt.Sprintf("rivm-%d.nl", r), 50, "x")}, "webhook")
	}
	mid := filepath.Join(t.TempDir(), "mid.db")
	copyDB(t, path, mid)
	mustRecord(t, s, "ct", []byte("20"), []Match{match("rivm", "rivm-20.nl", 50, "x")}, "webhook")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after := filepath.Join(t.TempDir(), "after.db")
	copyDB(t, path, after)

	for _, tc := range []struct {
		path     string
		findings int
		cursor   string
	}{{mid, 20, "19"}, {after, 21, "20"}} {
		c := openSQLiteT(t, tc.path)
		if got := count(t, c, "findings"); got != tc.findings {
			t.Errorf("%s: %d findings, want %d", filepath.Base(tc.path), got, tc.findings)
		}
		if cur, err := c.Cursor(ctx, "ct"); err != nil || string(cur) != tc.cursor {
			t.Errorf("%s: cursor %q, %v; want %s", filepath.Base(tc.path), cur, err, tc.cursor)
		}
		var check string
		if err := c.r.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Errorf("%s: integrity_check = %q, %v", filepath.Base(tc.path), check, err)
		}
		// And it takes writes.
		mustRecord(t, c, "ct", []byte("x"), []Match{match("rivm", "rivm-new.nl", 50, "x")})
	}
}

func copyDB(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(from + suffix)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(to + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSQLiteNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir", "ward data#1?mode=memory&x=%41.db")
	s := openSQLiteT(t, path)
	mustRecord(t, s, "ct", []byte("1"), []Match{match("rivm", "rivm-a.nl", 50, "1")})
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("a new database has mode %v, want 0600", fi.Mode().Perm())
	}
	if fi.Size() == 0 {
		t.Errorf("SQLite did not write to %s", path)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if n := e.Name(); n != filepath.Base(path) && n != filepath.Base(path)+"-wal" && n != filepath.Base(path)+"-shm" {
			t.Errorf("SQLite wrote to %s, beside %s", n, filepath.Base(path))
		}
	}
}

func TestSQLiteOptionsDefaults(t *testing.T) {
	s := openSQLiteT(t, filepath.Join(t.TempDir(), "ward.db"))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	checks := map[string]string{"journal_mode": "wal", "foreign_keys": "1", "synchronous": "2"}
	for pragma, want := range checks {
		var got string
		if err := s.w.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %s", pragma, got, err, want)
		}
	}
	if _, err := s.r.ExecContext(ctx, `DELETE FROM findings`); err == nil {
		t.Error("the read pool can write")
	}
}
