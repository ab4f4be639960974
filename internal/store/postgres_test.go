package store

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// openPostgresT opens a store in a fresh schema of the database named by
// WARD_TEST_POSTGRES and drops the schema when the test ends.
func openPostgresT(t testing.TB) *Store {
	t.Helper()
	dsn := os.Getenv("WARD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("WARD_TEST_POSTGRES not set: run .ci/postgres.sh")
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("WARD_TEST_POSTGRES does not parse: %v", err)
	}
	admin := sql.OpenDB(&pgConnector{cfg: cfg})
	t.Cleanup(func() { admin.Close() })
	b := make([]byte, 8)
	rand.Read(b)
	schema := "ward_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("WARD_TEST_POSTGRES must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err := OpenPostgres(t.Context(), u.String(), Options{Now: fixedClock()})
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgres(t *testing.T) {
	runSuite(t, func(t *testing.T) *Store { return openPostgresT(t) })
}

func TestPostgresBadDSN(t *testing.T) {
	_, err := OpenPostgres(t.Context(), "postgres://u:s3cret@[::1", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad DSN: %v; want an error that does not echo the password", err)
	}
}
