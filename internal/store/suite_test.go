package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// t0 is the tests' "now"; every store in the suite uses a fixed clock so that
// times compare exactly.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

func fixedClock() func() time.Time { return func() time.Time { return t0 } }

// runSuite runs every behaviour test against one back end. open returns a
// new, empty, migrated store whose clock is fixed at t0.
func runSuite(t *testing.T, open func(t *testing.T) *Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"Migrations", testMigrations},
		{"RecordMatchesCreatesAndAlerts", testRecordMatchesCreates},
		{"RecordMatchesReplayIsIdempotent", testReplay},
		{"RecordMatchesKeepsHigherScore", testUpsertScore},
		{"CursorCommitsWithFindings", testCursorAtomic},
		{"RecordMatchesRejectsBadInput", testRejectsBadInput},
		{"DueForCheck", testDueForCheck},
		{"RecordCheckAlertsOncePerChange", testRecordCheck},
		{"DismissedIsSticky", testDismissedSticky},
		{"SetStateAndNotes", testSetState},
		{"TenantIsolation", testTenantIsolation},
		{"PaginationWithTies", testPagination},
		{"Filters", testFilters},
		{"FindingDetail", testFindingDetail},
		{"Outbox", testOutbox},
		{"ClaimDeliveriesConcurrently", testClaimConcurrent},
		{"ConcurrentWriters", testConcurrentWriters},
		{"StatsAndPrune", testStatsPrune},
		{"Indicators", testIndicators},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func ctxT(t *testing.T) context.Context { return t.Context() }

// count returns the number of rows in table.
func count(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.w.QueryRowContext(ctxT(t), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

func match(org, domain string, score int, ref string) Match {
	return Match{Org: org, Domain: domain, Brand: "RIVM", Score: score, Techniques: []string{"addition"},
		Reasons: []string{"imitates rivm.nl"}, Name: "login." + domain, Source: "ct", Ref: ref, SeenAt: t0.Add(-time.Hour)}
}

// mustRecord records ms, with sinks for every organisation of ms.
func mustRecord(t *testing.T, s *Store, source string, cursor []byte, ms []Match, sinks ...string) []Finding {
	t.Helper()
	created, err := s.RecordMatches(ctxT(t), source, cursor, ms, sinksFor(ms, sinks...))
	if err != nil {
		t.Fatalf("RecordMatches: %v", err)
	}
	return created
}

func sinksFor(ms []Match, sinks ...string) map[string][]string {
	m := map[string][]string{}
	for _, x := range ms {
		m[x.Org] = sinks
	}
	return m
}

func testMigrations(t *testing.T, s *Store) {
	ctx := ctxT(t)
	if got, want := count(t, s, "schema_migrations"), SchemaVersion(); got != want || want < 1 {
		t.Fatalf("schema_migrations has %d rows, want %d", got, want)
	}
	mustRecord(t, s, "ct", []byte("c1"), []Match{match("rivm", "rivm-coronatest.nl", 80, "log 1")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening does not migrate again and keeps the data.
	s2, err := s.reopen(ctx)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	if got := count(t, s2, "schema_migrations"); got != SchemaVersion() {
		t.Fatalf("after reopening schema_migrations has %d rows, want %d", got, SchemaVersion())
	}
	if got := count(t, s2, "findings"); got != 1 {
		t.Fatalf("after reopening %d findings, want 1", got)
	}
	// A database migrated by a newer ward is refused, with the fix.
	newer := SchemaVersion() + 2
	if _, err := s2.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from_the_future', $2)`,
		newer, s2.d.timeArg(t0)); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s3, err := s.reopen(ctx)
	if err == nil {
		s3.Close()
		t.Fatal("a database with a newer schema opened")
	}
	want := fmt.Sprintf("database schema version %d is newer than this ward (%d): upgrade ward", newer, SchemaVersion())
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want ErrSchemaTooNew saying %q", err, want)
	}
}

func testRecordMatchesCreates(t *testing.T, s *Store) {
	ctx := ctxT(t)
	ms := []Match{
		match("rivm", "rivm-coronatest.nl", 80, "log 1"),
		match("rivm", "RIVM-Coronatest.NL.", 60, "log 2"), // same finding, normalised
		match("rivm", "rivm-login.nl", 70, "log 2"),
	}
	created := mustRecord(t, s, "ct", []byte("pos-3"), ms, "webhook", "smtp", "webhook")
	if len(created) != 2 || created[0].Domain != "rivm-coronatest.nl" || created[1].Domain != "rivm-login.nl" {
		t.Fatalf("created %+v, want rivm-coronatest.nl and rivm-login.nl", created)
	}
	f := created[0]
	if f.State != StateNew || f.Score != 80 || f.Org != "rivm" || f.Brand != "RIVM" || f.Checks != 0 {
		t.Errorf("created finding %+v", f)
	}
	if !f.NextCheck.Equal(t0) || !f.FirstSeen.Equal(t0.Add(-time.Hour).Truncate(time.Microsecond)) || !f.LastChecked.IsZero() {
		t.Errorf("created finding times: next_check %v first_seen %v last_checked %v", f.NextCheck, f.FirstSeen, f.LastChecked)
	}
	if got := count(t, s, "observations"); got != 3 {
		t.Errorf("%d observations, want 3", got)
	}
	defer func() {
		if got := count(t, s, "observations"); got != 7 {
			t.Errorf("%d observations at the end, want 7", got)
		}
	}()
	if got := count(t, s, "alerts"); got != 2 {
		t.Errorf("%d alerts, want 2 (one per created finding)", got)
	}
	if got := count(t, s, "deliveries"); got != 4 {
		t.Errorf("%d deliveries, want 4 (2 alerts x 2 distinct sinks)", got)
	}
	c, err := s.Cursor(ctx, "ct")
	if err != nil || string(c) != "pos-3" {
		t.Errorf("Cursor = %q, %v; want pos-3", c, err)
	}
	// Sources are named after their log URL, as the engine does.
	long := "ct https://ct.googleapis.com/logs/us1/argon2026h1/" + strings.Repeat("x", 200)
	lm := match("rivm", "rivm-coronatest.nl", 80, "123456")
	lm.Source = long
	mustRecord(t, s, long, []byte("123457"), []Match{lm})
	if c, err := s.Cursor(ctx, long); err != nil || string(c) != "123457" {
		t.Errorf("Cursor(%s) = %q, %v", long, c, err)
	}
	if c, err := s.Cursor(ctx, "nrd"); err != nil || c != nil {
		t.Errorf("Cursor of a source never saved = %q, %v; want nil", c, err)
	}
	ds, err := s.PendingDeliveries(ctx, t0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var payload map[string]any
	if err := json.Unmarshal(ds[0].Alert.Payload, &payload); err != nil {
		t.Fatalf("alert payload %s: %v", ds[0].Alert.Payload, err)
	}
	if payload["domain"] != "rivm-coronatest.nl" || payload["org"] != "rivm" || payload["score"] != float64(80) || payload["state"] != "new" {
		t.Errorf("alert payload %s lacks org, domain, score, state", ds[0].Alert.Payload)
	}
	if ds[0].Alert.Previous != "" || ds[0].Alert.State != StateNew || ds[0].Alert.Org != "rivm" {
		t.Errorf("alert %+v, want previous \"\" and state new", ds[0].Alert)
	}

	// Each organisation's alerts go to its own sinks only.
	mixed := []Match{match("who", "who-login.int", 90, "5"), match("ggd", "ggd-test.nl", 90, "5")}
	if _, err := s.RecordMatches(ctx, "ct", nil, mixed, map[string][]string{"who": {"who-chat"}, "rivm": {"webhook"}}); err != nil {
		t.Fatal(err)
	}
	ds, _ = s.PendingDeliveries(ctx, t0, 100)
	sinks := map[string][]string{}
	for _, d := range ds {
		sinks[d.Alert.Org] = append(sinks[d.Alert.Org], d.Sink)
	}
	if fmt.Sprint(sinks) != "map[rivm:[smtp smtp webhook webhook] who:[who-chat]]" && !sameSinks(sinks) {
		t.Errorf("deliveries by org: %v; want rivm's to webhook and smtp, who's to who-chat, none for ggd", sinks)
	}

	// Without sinks, findings are created and no alert is written.
	quiet, err := s.RecordMatches(ctx, "ct", nil, []Match{match("rivm", "rivm-quiet.nl", 90, "9")}, nil)
	if err != nil || len(quiet) != 1 {
		t.Fatalf("RecordMatches without sinks: %v, %v", quiet, err)
	}
	if d, err := s.Finding(ctx, "rivm", quiet[0].ID); err != nil || len(d.Alerts) != 0 {
		t.Errorf("a finding created without sinks has alerts %+v (%v)", d.Alerts, err)
	}
}

func sameSinks(m map[string][]string) bool {
	for _, l := range m {
		slices.Sort(l)
	}
	return fmt.Sprint(m) == "map[rivm:[smtp smtp webhook webhook] who:[who-chat]]"
}

func testReplay(t *testing.T, s *Store) {
	ms := []Match{
		match("rivm", "rivm-coronatest.nl", 80, "log 1"),
		match("rivm", "rivm-coronatest.nl", 80, "log 2"),
		match("who", "who-mail.int", 90, "log 2"),
	}
	tables := []string{"findings", "observations", "alerts", "deliveries", "source_cursors"}
	mustRecord(t, s, "ct", []byte("10"), ms, "webhook")
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = count(t, s, tb)
	}
	// The engine crashed before it learnt the batch committed: it replays it.
	created := mustRecord(t, s, "ct", []byte("10"), ms, "webhook")
	if len(created) != 0 {
		t.Errorf("replay created %d findings, want 0", len(created))
	}
	for _, tb := range tables {
		if got := count(t, s, tb); got != before[tb] {
			t.Errorf("after replay %s has %d rows, want %d", tb, got, before[tb])
		}
	}
	if before["alerts"] != 2 || before["observations"] != 3 {
		t.Errorf("first batch made %d alerts and %d observations, want 2 and 3", before["alerts"], before["observations"])
	}
}

func testUpsertScore(t *testing.T, s *Store) {
	ctx := ctxT(t)
	m := match("rivm", "rivm-test.nl", 50, "a")
	mustRecord(t, s, "ct", nil, []Match{m})
	lower := m
	lower.Score, lower.Brand, lower.Ref, lower.SeenAt = 30, "Other", "b", t0.Add(time.Minute)
	mustRecord(t, s, "ct", nil, []Match{lower})
	page, _, err := s.Findings(ctx, Filter{Org: "rivm"})
	if err != nil {
		t.Fatal(err)
	}
	if f := page[0]; f.Score != 50 || f.Brand != "RIVM" || !f.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("after a lower score: score %d brand %s last_seen %v; want 50, RIVM, %v", f.Score, f.Brand, f.LastSeen, t0.Add(time.Minute))
	}
	higher := m
	higher.Score, higher.Brand, higher.Ref, higher.SeenAt = 95, "RIVM-2", "c", t0.Add(-48*time.Hour)
	higher.Techniques = []string{"homoglyph"}
	mustRecord(t, s, "ct", nil, []Match{higher})
	page, _, _ = s.Findings(ctx, Filter{Org: "rivm"})
	f := page[0]
	if f.Score != 95 || f.Brand != "RIVM-2" || !slices.Equal(f.Techniques, []string{"homoglyph"}) {
		t.Errorf("after a higher score: %+v; want score 95 brand RIVM-2", f)
	}
	if !f.FirstSeen.Equal(t0.Add(-48*time.Hour).Truncate(time.Microsecond)) || !f.LastSeen.Equal(t0.Add(time.Minute)) {
		t.Errorf("first/last seen %v/%v; want the earliest and latest sightings", f.FirstSeen, f.LastSeen)
	}
	if f.State != StateNew || count(t, s, "alerts") != 1 {
		t.Errorf("updates raised alerts: %d alerts", count(t, s, "alerts"))
	}
	if f.MatchScore != 95 || f.Score != 95 {
		t.Errorf("unchecked finding: score %d match_score %d; want both 95", f.Score, f.MatchScore)
	}
	// After a check, score is the check's; a higher match raises only
	// match_score (which the next check scores from).
	if _, err := s.RecordCheck(ctx, Check{FindingID: f.ID, CheckedAt: t0, State: StateWatching, Score: 20, Reasons: []string{"parked"}}, nil); err != nil {
		t.Fatal(err)
	}
	top := m
	top.Score, top.Ref, top.Reasons = 99, "d", []string{"exact brand"}
	mustRecord(t, s, "ct", nil, []Match{top})
	page, _, _ = s.Findings(ctx, Filter{Org: "rivm"})
	if f := page[0]; f.Score != 20 || f.MatchScore != 99 || !slices.Equal(f.Reasons, []string{"parked"}) {
		t.Errorf("checked finding after a higher match: score %d match_score %d reasons %v; want 20, 99, [parked]", f.Score, f.MatchScore, f.Reasons)
	}
}

func testCursorAtomic(t *testing.T, s *Store) {
	ctx := ctxT(t)
	mustRecord(t, s, "ct", []byte("c1"), []Match{match("rivm", "rivm-a.nl", 80, "1")}, "webhook")
	snapshot := func() string {
		c, err := s.Cursor(ctx, "ct")
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("cursor=%s findings=%d obs=%d alerts=%d deliveries=%d", c,
			count(t, s, "findings"), count(t, s, "observations"), count(t, s, "alerts"), count(t, s, "deliveries"))
	}
	before := snapshot()
	batch := []Match{match("rivm", "rivm-b.nl", 80, "2"), match("rivm", "rivm-a.nl", 90, "3")}

	// A failure inside the transaction, after every statement ran.
	s.beforeCommit = func(string) error { return errors.New("power cut") }
	if _, err := s.RecordMatches(ctx, "ct", []byte("c2"), batch, map[string][]string{"rivm": {"webhook"}}); err == nil || !strings.Contains(err.Error(), "power cut") {
		t.Fatalf("RecordMatches with a failing commit: %v", err)
	}
	s.beforeCommit = nil
	if got := snapshot(); got != before {
		t.Fatalf("a failed transaction left changes:\n got %s\nwant %s", got, before)
	}
	// A context cancelled while the transaction runs.
	cctx, cancel := context.WithCancel(ctx)
	s.beforeCommit = func(string) error { cancel(); return nil }
	if _, err := s.RecordMatches(cctx, "ct", []byte("c2"), batch, map[string][]string{"rivm": {"webhook"}}); err == nil {
		t.Fatal("RecordMatches with a cancelled context succeeded")
	}
	s.beforeCommit = nil
	if got := snapshot(); got != before {
		t.Fatalf("a cancelled transaction left changes:\n got %s\nwant %s", got, before)
	}
	// And then it goes through.
	mustRecord(t, s, "ct", []byte("c2"), batch, "webhook")
	if got := snapshot(); got != "cursor=c2 findings=2 obs=3 alerts=2 deliveries=2" {
		t.Fatalf("after the retry: %s", got)
	}
}

func testRejectsBadInput(t *testing.T, s *Store) {
	ctx := ctxT(t)
	long := strings.Repeat("a", 300) + ".nl"
	tests := []struct {
		name string
		m    Match
		want string
	}{
		{"no org", Match{Domain: "x.nl"}, "org is empty"},
		{"no domain", Match{Org: "o"}, "domain is empty"},
		{"long domain", Match{Org: "o", Domain: long}, "at most 253"},
		{"unicode domain", Match{Org: "o", Domain: "rïvm.nl"}, "punycode"},
		{"space", Match{Org: "o", Domain: "a b.nl"}, "punycode"},
		{"score", Match{Org: "o", Domain: "x.nl", Score: 101}, "scores are 0..100"},
		{"bad utf8 reason", Match{Org: "o", Domain: "x.nl", Reasons: []string{"\xff"}}, "UTF-8"},
		{"too many reasons", Match{Org: "o", Domain: "x.nl", Reasons: make([]string, 65)}, "limit is 64"},
		{"nul ref", Match{Org: "o", Domain: "x.nl", Ref: "a\x00b"}, "NUL"},
	}
	for _, tc := range tests {
		ms := []Match{match("o", "good.nl", 1, "1"), tc.m}
		_, err := s.RecordMatches(ctx, "ct", []byte("c"), ms, nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "matches[1]") {
			t.Errorf("%s: error %v, want one naming matches[1] and saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := s.RecordMatches(ctx, "ct", nil, nil, map[string][]string{"rivm": {""}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an empty sink name: %v, want ErrInvalid", err)
	}
	if _, err := s.RecordMatches(ctx, "ct", make([]byte, MaxCursorLen+1), nil, nil); err == nil {
		t.Error("an oversized cursor was accepted")
	}
	if n := count(t, s, "findings") + count(t, s, "source_cursors"); n != 0 {
		t.Errorf("rejected batches stored %d rows", n)
	}
}

func testDueForCheck(t *testing.T, s *Store) {
	ctx := ctxT(t)
	created := mustRecord(t, s, "ct", nil, []Match{
		match("rivm", "rivm-a.nl", 50, "1"), match("rivm", "rivm-b.nl", 50, "2"), match("rivm", "rivm-c.nl", 50, "3"),
	})
	a, b, c := created[0], created[1], created[2]
	if due, err := s.DueForCheck(ctx, t0.Add(-time.Second), 10); err != nil || len(due) != 0 {
		t.Fatalf("due before next_check: %d, %v", len(due), err)
	}
	// a: checked, next in an hour; b: overdue since before c; c: dismissed.
	if _, err := s.RecordCheck(ctx, Check{FindingID: a.ID, CheckedAt: t0, State: StateWatching, NextCheck: t0.Add(time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetState(ctx, "rivm", c.ID, StateDismissed, "ann", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestCheck(ctx, "rivm", b.ID, t0.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueForCheck(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].ID != b.ID {
		t.Fatalf("due at t0: %v, want only %d", ids(due), b.ID)
	}
	due, _ = s.DueForCheck(ctx, t0.Add(2*time.Hour), 10)
	if !slices.Equal(ids(due), []int64{b.ID, a.ID}) {
		t.Fatalf("due later: %v, want [%d %d] (oldest first, dismissed never)", ids(due), b.ID, a.ID)
	}
	due, _ = s.DueForCheck(ctx, t0.Add(2*time.Hour), 1)
	if len(due) != 1 {
		t.Fatalf("limit 1 gave %d", len(due))
	}
	if _, err := s.DueForCheck(ctx, t0, 0); err == nil {
		t.Error("limit 0 was accepted")
	}
}

func ids(fs []Finding) []int64 {
	out := make([]int64, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

func testRecordCheck(t *testing.T, s *Store) {
	ctx := ctxT(t)
	f := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 50, "1")}, "webhook")[0]
	alerts0, deliveries0 := count(t, s, "alerts"), count(t, s, "deliveries")
	data := json.RawMessage(`{"z":1,  "a":[true,null]}`)
	check := Check{FindingID: f.ID, CheckedAt: t0, State: StateSuspicious, Score: 70, Reasons: []string{"login form"},
		Data: data, NextCheck: t0.Add(time.Hour), AlertPayload: json.RawMessage(`{"custom":true}`)}
	changed, err := s.RecordCheck(ctx, check, []string{"webhook", "syslog"})
	if err != nil || !changed {
		t.Fatalf("RecordCheck = %v, %v; want changed", changed, err)
	}
	if got := count(t, s, "alerts") - alerts0; got != 1 {
		t.Errorf("state change raised %d alerts, want 1", got)
	}
	if got := count(t, s, "deliveries") - deliveries0; got != 2 {
		t.Errorf("state change queued %d deliveries, want 2 (one per sink)", got)
	}
	// The same state again: evidence, no alert.
	check.CheckedAt = t0.Add(time.Hour)
	if changed, err := s.RecordCheck(ctx, check, []string{"webhook", "syslog"}); err != nil || changed {
		t.Fatalf("unchanged RecordCheck = %v, %v", changed, err)
	}
	if got := count(t, s, "alerts") - alerts0; got != 1 {
		t.Errorf("an unchanged state raised alerts: %d", got)
	}
	d, err := s.Finding(ctx, "rivm", f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Finding.State != StateSuspicious || d.Finding.Score != 70 || d.Finding.Checks != 2 ||
		!d.Finding.LastChecked.Equal(t0.Add(time.Hour)) || !d.Finding.NextCheck.Equal(t0.Add(time.Hour)) {
		t.Errorf("finding after checks: %+v", d.Finding)
	}
	if len(d.Evidence) != 2 || !bytes.Equal(d.Evidence[0].Data, data) || !d.Evidence[0].CheckedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("evidence %+v; want 2, newest first, data stored byte for byte", d.Evidence)
	}
	if len(d.Alerts) != 2 || string(d.Alerts[0].Payload) != `{"custom":true}` || d.Alerts[0].Previous != StateNew || d.Alerts[0].State != StateSuspicious {
		t.Errorf("alerts %+v; want the check's alert first with its payload", d.Alerts)
	}
	if _, err := s.RecordCheck(ctx, Check{FindingID: f.ID, State: StateDismissed}, nil); err == nil {
		t.Error("a check dismissed a finding")
	}
	if _, err := s.RecordCheck(ctx, Check{FindingID: f.ID + 1000, State: StateWatching}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("check of a missing finding: %v, want ErrNotFound", err)
	}
	if _, err := s.RecordCheck(ctx, Check{FindingID: f.ID, State: StateWatching, Data: json.RawMessage(`{`)}, nil); !errors.Is(err, ErrInvalid) {
		t.Error("invalid evidence JSON was accepted")
	}
	// A hostile page's title in the reasons is cut, not a reason to lose the check.
	hostile := make([]string, 100)
	for i := range hostile {
		hostile[i] = "title: " + strings.Repeat("é", 1000) + "\x00\xff"
	}
	if _, err := s.RecordCheck(ctx, Check{FindingID: f.ID, CheckedAt: t0.Add(2 * time.Hour), State: StateSuspicious, Score: 70, Reasons: hostile}, nil); err != nil {
		t.Fatalf("a check with oversized reasons: %v", err)
	}
	d, _ = s.Finding(ctx, "rivm", f.ID)
	if r := d.Finding.Reasons; len(r) != MaxListItems || len(r[0]) > MaxListItemLen || !utf8.ValidString(r[0]) || !strings.HasPrefix(r[0], "title: é") {
		t.Errorf("stored reasons: %d, first of %d bytes", len(r), len(r[0]))
	}
}

func testDismissedSticky(t *testing.T, s *Store) {
	ctx := ctxT(t)
	f := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 50, "1")}, "webhook")[0]
	if _, err := s.SetState(ctx, "rivm", f.ID, StateDismissed, "ann", "our own campaign site", []string{"webhook"}); err != nil {
		t.Fatal(err)
	}
	alerts := count(t, s, "alerts")
	changed, err := s.RecordCheck(ctx, Check{FindingID: f.ID, CheckedAt: t0, State: StateMalicious, Score: 99, NextCheck: t0.Add(time.Hour)}, []string{"webhook"})
	if err != nil || changed {
		t.Fatalf("check of a dismissed finding = %v, %v; want unchanged", changed, err)
	}
	d, _ := s.Finding(ctx, "rivm", f.ID)
	if d.Finding.State != StateDismissed {
		t.Errorf("a check overwrote dismissed with %s", d.Finding.State)
	}
	if count(t, s, "alerts") != alerts {
		t.Error("a check of a dismissed finding raised an alert")
	}
	if len(d.Evidence) != 1 {
		t.Errorf("the check's evidence was not kept: %d rows", len(d.Evidence))
	}
	// A later match of the same domain does not reopen it either.
	mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 99, "2")}, "webhook")
	d, _ = s.Finding(ctx, "rivm", f.ID)
	if d.Finding.State != StateDismissed || count(t, s, "alerts") != alerts {
		t.Errorf("a new match reopened a dismissed finding: %s", d.Finding.State)
	}
}

func testSetState(t *testing.T, s *Store) {
	ctx := ctxT(t)
	f := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 50, "1")})[0]
	alerts := count(t, s, "alerts")
	got, err := s.SetState(ctx, "rivm", f.ID, StateMalicious, "ann", "credential phishing, reported to the registrar", []string{"webhook", "smtp"})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateMalicious || got.ID != f.ID {
		t.Errorf("SetState returned %+v", got)
	}
	if count(t, s, "alerts") != alerts+1 || count(t, s, "notes") != 1 {
		t.Errorf("confirm made %d alerts and %d notes, want 1 and 1", count(t, s, "alerts")-alerts, count(t, s, "notes"))
	}
	// Setting the same state again adds the note only.
	if _, err := s.SetState(ctx, "rivm", f.ID, StateMalicious, "bob", "still up", []string{"webhook"}); err != nil {
		t.Fatal(err)
	}
	if count(t, s, "alerts") != alerts+1 || count(t, s, "notes") != 2 {
		t.Errorf("same state: %d alerts, %d notes", count(t, s, "alerts")-alerts, count(t, s, "notes"))
	}
	n, err := s.AddNote(ctx, "rivm", f.ID, "carol", "takedown requested")
	if err != nil || n.ID == 0 || n.Text != "takedown requested" || !n.CreatedAt.Equal(t0) {
		t.Fatalf("AddNote = %+v, %v", n, err)
	}
	d, _ := s.Finding(ctx, "rivm", f.ID)
	if len(d.Notes) != 3 || d.Notes[0].Author != "ann" || d.Notes[2].Author != "carol" {
		t.Errorf("notes %+v; want ann, bob, carol in order", d.Notes)
	}
	var payload map[string]any
	_ = json.Unmarshal(d.Alerts[0].Payload, &payload)
	if payload["previous"] != "new" || payload["state"] != "malicious" || payload["author"] != "ann" {
		t.Errorf("analyst alert payload %s", d.Alerts[0].Payload)
	}
	if _, err := s.SetState(ctx, "rivm", f.ID, "bogus", "", "", nil); err == nil {
		t.Error("an invalid state was accepted")
	}
	if _, err := s.AddNote(ctx, "rivm", f.ID, "x", ""); err == nil {
		t.Error("an empty note was accepted")
	}
}

func testTenantIsolation(t *testing.T, s *Store) {
	ctx := ctxT(t)
	a := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 50, "1")})[0]
	mustRecord(t, s, "ct", nil, []Match{match("who", "who-a.int", 50, "1")})
	before := fmt.Sprint(count(t, s, "findings"), count(t, s, "notes"), count(t, s, "alerts"))

	if _, err := s.SetState(ctx, "who", a.ID, StateDismissed, "eve", "mine now", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetState across orgs: %v, want ErrNotFound", err)
	}
	if _, err := s.AddNote(ctx, "who", a.ID, "eve", "hello"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddNote across orgs: %v, want ErrNotFound", err)
	}
	if err := s.RequestCheck(ctx, "who", a.ID, t0.Add(-time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Errorf("RequestCheck across orgs: %v, want ErrNotFound", err)
	}
	if _, err := s.Finding(ctx, "who", a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Finding across orgs: %v, want ErrNotFound", err)
	}
	page, _, err := s.Findings(ctx, Filter{Org: "who"})
	if err != nil || len(page) != 1 || page[0].Org != "who" {
		t.Errorf("Findings of who: %+v, %v; want only who's", page, err)
	}
	if page, _, _ := s.Findings(ctx, Filter{Org: "nobody"}); len(page) != 0 {
		t.Errorf("Findings of an unknown org: %d", len(page))
	}
	st, err := s.Stats(ctx, "who")
	if err != nil || st[StateNew] != 1 {
		t.Errorf("Stats(who) = %v, %v; want new:1", st, err)
	}
	if _, _, err := s.Findings(ctx, Filter{}); err == nil {
		t.Error("Findings without an org was accepted")
	}
	after := fmt.Sprint(count(t, s, "findings"), count(t, s, "notes"), count(t, s, "alerts"))
	if after != before {
		t.Errorf("cross-org calls changed rows: %s -> %s", before, after)
	}
	if d, err := s.Finding(ctx, "rivm", a.ID); err != nil || d.Finding.State != StateNew || !d.Finding.NextCheck.Equal(t0) {
		t.Errorf("rivm's finding after cross-org calls: %+v, %v", d.Finding, err)
	}
}

func testPagination(t *testing.T, s *Store) {
	ctx := ctxT(t)
	const n = 1234
	var ms []Match
	for i := range n {
		m := match("rivm", fmt.Sprintf("rivm-%04d.nl", i), 50, "r")
		m.SeenAt = t0.Add(-time.Duration(i/10) * time.Minute) // ties: ten findings share each last_seen
		ms = append(ms, m)
	}
	// Another org's findings interleave in the same table.
	for i := range 100 {
		ms = append(ms, match("who", fmt.Sprintf("who-%04d.int", i), 50, "r"))
	}
	for i := 0; i < len(ms); i += 500 {
		mustRecord(t, s, "ct", nil, ms[i:min(i+500, len(ms))])
	}
	seen := map[int64]bool{}
	var all []Finding
	after := ""
	pages := 0
	for {
		page, next, err := s.Findings(ctx, Filter{Org: "rivm", Limit: 37, After: after})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page {
			if seen[f.ID] {
				t.Fatalf("finding %d returned twice", f.ID)
			}
			seen[f.ID] = true
			all = append(all, f)
		}
		if pages == 3 {
			// New findings arriving mid-walk are newer: they must not shift pages.
			late := match("rivm", "rivm-late.nl", 50, "late")
			late.SeenAt = t0.Add(time.Hour)
			mustRecord(t, s, "ct", nil, []Match{late})
		}
		if next == "" {
			break
		}
		if len(page) != 37 {
			t.Fatalf("page %d has %d findings but a next cursor", pages, len(page))
		}
		after = next
	}
	if len(all) != n {
		t.Fatalf("walked %d findings in %d pages, want %d", len(all), pages, n)
	}
	for i := 1; i < len(all); i++ {
		p, c := all[i-1], all[i]
		if c.LastSeen.After(p.LastSeen) || (c.LastSeen.Equal(p.LastSeen) && c.ID >= p.ID) {
			t.Fatalf("order broken at %d: (%v,%d) after (%v,%d)", i, c.LastSeen, c.ID, p.LastSeen, p.ID)
		}
	}
	if _, _, err := s.Findings(ctx, Filter{Org: "rivm", After: "v1.zz"}); !errors.Is(err, ErrInvalid) {
		t.Error("a forged cursor was accepted")
	}
	if _, _, err := s.Findings(ctx, Filter{Org: "rivm", Limit: MaxPageLimit + 1}); err == nil {
		t.Error("a limit over the maximum was accepted")
	}
	if page, _, _ := s.Findings(ctx, Filter{Org: "rivm"}); len(page) != DefaultPageLimit {
		t.Errorf("default page has %d findings, want %d", len(page), DefaultPageLimit)
	}
}

func testFilters(t *testing.T, s *Store) {
	ctx := ctxT(t)
	ms := []Match{
		match("rivm", "rivm-login.nl", 50, "1"),
		match("rivm", "rivm_x.nl", 50, "2"),
		match("rivm", "rivmx.nl", 50, "3"),
		match("rivm", "rivm-100pct.nl", 50, "4"),
	}
	ms[3].Brand = "Other"
	ms[0].SeenAt = t0.Add(-10 * time.Hour)
	created := mustRecord(t, s, "ct", nil, ms)
	if _, err := s.SetState(ctx, "rivm", created[2].ID, StateMalicious, "", "", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"query", Filter{Query: "LOGIN"}, []string{"rivm-login.nl"}},
		{"underscore is literal", Filter{Query: "_"}, []string{"rivm_x.nl"}},
		{"percent is literal", Filter{Query: "%"}, nil},
		{"state", Filter{States: []State{StateMalicious}}, []string{"rivmx.nl"}},
		{"states", Filter{States: []State{StateMalicious, StateNew}, Brand: "Other"}, []string{"rivm-100pct.nl"}},
		{"brand", Filter{Brand: "Other"}, []string{"rivm-100pct.nl"}},
		{"since", Filter{Since: t0.Add(-9 * time.Hour), Query: "rivm-"}, []string{"rivm-100pct.nl"}},
	}
	for _, tc := range tests {
		tc.f.Org = "rivm"
		page, _, err := s.Findings(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, f := range page {
			got = append(got, f.Domain)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, _, err := s.Findings(ctx, Filter{Org: "rivm", States: []State{"bogus"}}); !errors.Is(err, ErrInvalid) {
		t.Error("an invalid state filter was accepted")
	}
}

func testFindingDetail(t *testing.T, s *Store) {
	ctx := ctxT(t)
	var ms []Match
	for i := range MaxDetailObservations + 5 {
		m := match("rivm", "rivm-a.nl", 50, fmt.Sprintf("log %d", i))
		m.SeenAt = t0.Add(time.Duration(i) * time.Second)
		ms = append(ms, m)
	}
	f := mustRecord(t, s, "ct", nil, ms)[0]
	d, err := s.Finding(ctx, "rivm", f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Observations) != MaxDetailObservations {
		t.Fatalf("%d observations, want the newest %d", len(d.Observations), MaxDetailObservations)
	}
	if d.Observations[0].Ref != fmt.Sprintf("log %d", MaxDetailObservations+4) || d.Observations[0].Name != "login.rivm-a.nl" {
		t.Errorf("newest observation %+v", d.Observations[0])
	}
	if len(d.Notes) != 0 || d.Notes == nil || d.Evidence == nil {
		t.Errorf("empty lists must be [] in JSON: notes %v evidence %v", d.Notes, d.Evidence)
	}
	b, _ := json.Marshal(d)
	for _, key := range []string{`"finding":{`, `"first_seen":`, `"observations":[`, `"evidence":[]`, `"finding_id":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("detail JSON lacks %s", key)
		}
	}
}

func testOutbox(t *testing.T, s *Store) {
	ctx := ctxT(t)
	mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 50, "1"), match("rivm", "rivm-b.nl", 50, "2")}, "webhook")
	ds, err := s.PendingDeliveries(ctx, t0, 10)
	if err != nil || len(ds) != 2 {
		t.Fatalf("pending = %d, %v; want 2", len(ds), err)
	}
	if ds[0].Alert.ID != ds[0].AlertID || ds[0].Alert.Org != "rivm" || ds[0].Status != DeliveryPending || ds[0].Sink != "webhook" {
		t.Errorf("delivery %+v lacks its alert", ds[0])
	}
	if err := s.MarkSent(ctx, ds[0].ID, t0); err != nil {
		t.Fatal(err)
	}
	// A transient failure: retried from next on.
	if err := s.MarkFailed(ctx, ds[1].ID, "HTTP 503", t0.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.PendingDeliveries(ctx, t0, 10); len(ds) != 0 {
		t.Fatalf("pending before the retry time: %+v", ds)
	}
	ds2, _ := s.PendingDeliveries(ctx, t0.Add(time.Hour), 10)
	if len(ds2) != 1 || ds2[0].ID != ds[1].ID || ds2[0].Attempts != 1 || ds2[0].LastError != "HTTP 503" {
		t.Fatalf("pending after the retry time: %+v; want the failed one with attempts 1", ds2)
	}
	// Sent ones never come back, even if marked failed late.
	if err := s.MarkFailed(ctx, ds[0].ID, "late", t0, false); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSent(ctx, ds[0].ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A permanent failure ends it.
	if err := s.MarkFailed(ctx, ds[1].ID, strings.Repeat("x", MaxErrorLen*2)+"\xff", time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.PendingDeliveries(ctx, t0.Add(24*time.Hour), 10); len(ds) != 0 {
		t.Fatalf("pending after sent and failed: %+v", ds)
	}
	var status, lastErr string
	var sentAt, attempts int64
	_ = s.w.QueryRowContext(ctx, `SELECT status, last_error FROM deliveries WHERE id = $1`, ds[1].ID).Scan(&status, &lastErr)
	if status != DeliveryFailed || len(lastErr) != MaxErrorLen {
		t.Errorf("permanent failure: status %s, error of %d bytes", status, len(lastErr))
	}
	var sent time.Time
	_ = s.w.QueryRowContext(ctx, `SELECT sent_at, attempts FROM deliveries WHERE id = $1`, ds[0].ID).Scan(timeScan{&sent}, &attempts)
	_ = sentAt
	if !sent.Equal(t0) || attempts != 1 {
		t.Errorf("sent delivery: sent_at %v attempts %d; want the first MarkSent kept", sent, attempts)
	}
	if err := s.MarkSent(ctx, 1<<40, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkSent of a missing delivery: %v", err)
	}
	if err := s.MarkFailed(ctx, 1<<40, "x", t0, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkFailed of a missing delivery: %v", err)
	}

	// Leases: a claimed delivery is hidden until its lease ends.
	mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-c.nl", 50, "3")}, "webhook")
	claimed, err := s.ClaimDeliveries(ctx, "w1", t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Alert.FindingID == 0 {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	if ds, _ := s.PendingDeliveries(ctx, t0.Add(30*time.Second), 10); len(ds) != 0 {
		t.Errorf("a leased delivery is pending: %+v", ds)
	}
	if again, _ := s.ClaimDeliveries(ctx, "w2", t0.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
		t.Errorf("a leased delivery was claimed twice: %+v", again)
	}
	// w1 died: after the lease w2 takes it.
	again, _ := s.ClaimDeliveries(ctx, "w2", t0.Add(2*time.Minute), time.Minute, 10)
	if len(again) != 1 || again[0].ID != claimed[0].ID {
		t.Errorf("after the lease: %+v", again)
	}
	if _, err := s.ClaimDeliveries(ctx, "w", t0, 0, 10); err == nil {
		t.Error("a zero lease was accepted")
	}
	// w2 restarts: it releases its own claims and takes them again at once;
	// another worker's claims stay.
	mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-d.nl", 50, "4")}, "webhook")
	other, _ := s.ClaimDeliveries(ctx, "w3", t0.Add(2*time.Minute), time.Hour, 10)
	if n, err := s.ReleaseClaims(ctx, "w2"); err != nil || n != 1 {
		t.Fatalf("ReleaseClaims(w2) = %d, %v; want 1", n, err)
	}
	back, _ := s.ClaimDeliveries(ctx, "w2", t0.Add(2*time.Minute), time.Minute, 10)
	if len(other) != 1 || len(back) != 1 || back[0].ID != again[0].ID {
		t.Errorf("after release: w3 holds %+v, w2 took back %+v", other, back)
	}
}

func testClaimConcurrent(t *testing.T, s *Store) {
	ctx := ctxT(t)
	var ms []Match
	for i := range 150 {
		ms = append(ms, match("rivm", fmt.Sprintf("rivm-%03d.nl", i), 50, "r"))
	}
	mustRecord(t, s, "ct", nil, ms, "webhook", "smtp")
	const want = 300
	var mu sync.Mutex
	got := map[int64]string{}
	var dups []string
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		worker := fmt.Sprintf("worker-%d", w)
		wg.Go(func() {
			for range want { // bounded: each round claims at least one
				ds, err := s.ClaimDeliveries(ctx, worker, t0, time.Hour, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, dup := got[d.ID]; dup {
						dups = append(dups, fmt.Sprintf("delivery %d claimed by %s and %s", d.ID, prev, worker))
					}
					got[d.ID] = worker
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(dups) > 0 {
		t.Errorf("%d deliveries claimed twice, e.g. %s", len(dups), dups[0])
	}
	if len(got) != want {
		t.Errorf("claimed %d distinct deliveries, want %d", len(got), want)
	}
}

func testConcurrentWriters(t *testing.T, s *Store) {
	ctx := ctxT(t)
	base := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-base.nl", 50, "0")})[0]
	const workers, rounds = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*2)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				// Overlapping domains across workers so that upserts collide.
				ms := []Match{
					match("rivm", fmt.Sprintf("rivm-%d.nl", r), 40+w, fmt.Sprintf("w%d r%d", w, r)),
					match("rivm", fmt.Sprintf("rivm-%d-%d.nl", w, r), 50, "x"),
				}
				if _, err := s.RecordMatches(ctx, fmt.Sprintf("src-%d", w), []byte{byte(r)}, ms, map[string][]string{"rivm": {"webhook"}}); err != nil {
					errs <- err
				}
				st := []State{StateWatching, StateSuspicious}[r%2]
				if _, err := s.RecordCheck(ctx, Check{FindingID: base.ID, CheckedAt: t0, State: st, Score: r}, []string{"webhook"}); err != nil {
					errs <- err
				}
				if _, _, err := s.Findings(ctx, Filter{Org: "rivm", Limit: 10}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	if got, want := count(t, s, "findings"), 1+rounds+workers*rounds; got != want {
		t.Errorf("%d findings, want %d", got, want)
	}
	if got, want := count(t, s, "evidence"), workers*rounds; got != want {
		t.Errorf("%d evidence rows, want %d", got, want)
	}
	// Every state change of base raised exactly one alert.
	var changes int
	d, _ := s.Finding(ctx, "rivm", base.ID)
	prev := StateNew
	for i := len(d.Evidence) - 1; i >= 0; i-- {
		if d.Evidence[i].State != prev {
			changes++
			prev = d.Evidence[i].State
		}
	}
	if len(d.Alerts) != changes+1 { // +1: the alert of its creation
		t.Errorf("base has %d alerts for %d state changes", len(d.Alerts), changes)
	}
}

func testStatsPrune(t *testing.T, s *Store) {
	ctx := ctxT(t)
	created := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-a.nl", 50, "1"), match("rivm", "rivm-b.nl", 50, "2"), match("who", "who-a.int", 50, "3")})
	for i := range 5 {
		for _, f := range created[:2] {
			if _, err := s.RecordCheck(ctx, Check{FindingID: f.ID, CheckedAt: t0.Add(time.Duration(i) * time.Minute), State: StateWatching, Score: i}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.SetState(ctx, "rivm", created[1].ID, StateDismissed, "", "", nil); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx, "rivm")
	if err != nil {
		t.Fatal(err)
	}
	want := map[State]int{StateNew: 0, StateWatching: 1, StateSuspicious: 0, StateMalicious: 0, StateDismissed: 1}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		t.Errorf("Stats = %v, want %v", st, want)
	}
	n, err := s.PruneEvidence(ctx, 2)
	if err != nil || n != 6 {
		t.Fatalf("PruneEvidence = %d, %v; want 6 deleted", n, err)
	}
	d, _ := s.Finding(ctx, "rivm", created[0].ID)
	if len(d.Evidence) != 2 || d.Evidence[0].Score != 4 || d.Evidence[1].Score != 3 {
		t.Errorf("kept evidence %+v; want the newest two", d.Evidence)
	}
	if _, err := s.PruneEvidence(ctx, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("keeping 0: %v, want ErrInvalid", err)
	}
	var flood []Match
	for i := range 30 {
		m := match("rivm", "rivm-a.nl", 50, fmt.Sprint("flood ", i))
		m.SeenAt = t0.Add(time.Duration(i) * time.Second)
		flood = append(flood, m)
	}
	mustRecord(t, s, "ct", nil, flood)
	if n, err := s.PruneObservations(ctx, 10); err != nil || n != 21 { // 31 observations of rivm-a.nl
		t.Fatalf("PruneObservations = %d, %v; want 21 deleted", n, err)
	}
	d, _ = s.Finding(ctx, "rivm", created[0].ID)
	if len(d.Observations) != 10 || d.Observations[0].Ref != "flood 29" || d.Observations[9].Ref != "flood 20" {
		t.Errorf("kept observations %+v; want the newest ten", d.Observations)
	}
	if d2, _ := s.Finding(ctx, "rivm", created[1].ID); len(d2.Observations) != 1 {
		t.Errorf("another finding lost observations: %d", len(d2.Observations))
	}
	if err := s.Ping(ctx); err != nil {
		t.Error(err)
	}
}

func testIndicators(t *testing.T, s *Store) {
	ctx := ctxT(t)
	ind := func(org, scope, typ, value string) Indicator {
		return Indicator{Org: org, Scope: scope, Type: typ, Value: value, Source: "manual", Confidence: 50, TLP: "green"}
	}
	a, err := s.UpsertIndicator(ctx, ind("rivm", "private", "domain", "rivm-coronatest.nl"))
	if err != nil {
		t.Fatal(err)
	}
	// The same value again: one indicator, higher confidence kept, scope
	// widened, expiry: none beats any.
	up := ind("rivm", "shared", "domain", "rivm-coronatest.nl")
	up.Confidence, up.ValidUntil = 30, t0.Add(24*time.Hour)
	b, err := s.UpsertIndicator(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if b.ID != a.ID || b.Confidence != 50 || b.Scope != "shared" || !b.ValidUntil.IsZero() {
		t.Errorf("after the upsert: %+v", b)
	}
	exp := ind("who", "private", "url", "https://who-covid19-relief.com/login")
	exp.ValidUntil = t0.Add(-time.Hour)
	if _, err := s.UpsertIndicator(ctx, exp); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertIndicator(ctx, ind("who", "private", "sha256", strings.Repeat("ab", 32))); err != nil {
		t.Fatal(err)
	}
	// Tenancy: rivm sees its own and nothing of who's private ones; who
	// sees its own and rivm's shared one.
	list := func(org string, now time.Time, types ...string) []string {
		t.Helper()
		got, err := s.Indicators(ctx, IndicatorFilter{Org: org, Now: now, Types: types})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, in := range got {
			out = append(out, in.Org+":"+in.Value)
		}
		return out
	}
	if got := list("rivm", time.Time{}); !slices.Equal(got, []string{"rivm:rivm-coronatest.nl"}) {
		t.Errorf("rivm sees %v", got)
	}
	if got := list("who", time.Time{}); len(got) != 3 {
		t.Errorf("who sees %v, want its two and rivm's shared one", got)
	}
	if got := list("who", t0); len(got) != 2 {
		t.Errorf("who sees %v at t0, want the expired URL left out", got)
	}
	if got := list("who", time.Time{}, "sha256"); len(got) != 1 {
		t.Errorf("who's sha256 indicators: %v", got)
	}
	// Removing: only the owner can.
	if err := s.RemoveIndicator(ctx, "who", a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("who removed rivm's indicator: %v", err)
	}
	if err := s.RemoveIndicator(ctx, "rivm", a.ID); err != nil {
		t.Fatal(err)
	}
	if got := list("who", time.Time{}); len(got) != 2 {
		t.Errorf("after removal who sees %v", got)
	}
	// A removed indicator is revoked, not forgotten: feeds with history
	// still list it, marked; removing it again is ErrNotFound; recording
	// it again makes it stand.
	rev, err := s.Indicators(ctx, IndicatorFilter{Org: "rivm", Revoked: true})
	if err != nil || len(rev) != 1 || rev[0].RevokedAt.IsZero() || !rev[0].Intel().Revoked || rev[0].UpdatedAt.Before(b.UpdatedAt) {
		t.Errorf("revoked listing = %+v, %v", rev, err)
	}
	if err := s.RemoveIndicator(ctx, "rivm", a.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a revoked indicator again: %v", err)
	}
	again, err := s.UpsertIndicator(ctx, ind("rivm", "private", "domain", "rivm-coronatest.nl"))
	if err != nil || again.ID != a.ID || !again.RevokedAt.IsZero() || again.Scope != "private" {
		t.Errorf("recorded again after revocation: %+v, %v", again, err)
	}
	if got := list("who", time.Time{}); len(got) != 2 {
		t.Errorf("a private indicator recorded again after a shared one was revoked is visible to who: %v", got)
	}
	// Expiry can be brought forward (a re-recording only ever extends it).
	soon := t0.Add(time.Minute)
	exp2, err := s.ExpireIndicator(ctx, "rivm", a.ID, soon)
	if err != nil || !exp2.ValidUntil.Equal(soon) {
		t.Errorf("ExpireIndicator = %+v, %v", exp2, err)
	}
	if got := list("rivm", t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("after its expiry rivm still sees %v", got)
	}
	if _, err := s.ExpireIndicator(ctx, "who", a.ID, soon); !errors.Is(err, ErrNotFound) {
		t.Errorf("who expired rivm's indicator: %v", err)
	}
	if back, err := s.ExpireIndicator(ctx, "rivm", a.ID, time.Time{}); err != nil || !back.ValidUntil.IsZero() {
		t.Errorf("expiry removed: %+v, %v", back, err)
	}
	// A dismissed finding's indicators go; others stay.
	f := mustRecord(t, s, "ct", nil, []Match{match("rivm", "rivm-fake.nl", 90, "1")})[0]
	fromFinding := ind("rivm", "shared", "domain", "rivm-fake.nl")
	fromFinding.Source, fromFinding.FindingID = "finding", f.ID
	if _, err := s.UpsertIndicator(ctx, fromFinding); err != nil {
		t.Fatal(err)
	}
	manual := ind("rivm", "private", "domain", "rivm-fake.nl.example")
	manual.FindingID = f.ID
	if _, err := s.UpsertIndicator(ctx, manual); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RemoveFindingIndicators(ctx, "who", f.ID); err != nil || n != 0 {
		t.Errorf("another organisation removed %d of rivm's indicators (%v)", n, err)
	}
	if n, err := s.RemoveFindingIndicators(ctx, "rivm", f.ID); err != nil || n != 1 {
		t.Errorf("RemoveFindingIndicators = %d, %v; want 1 (the manual one stays)", n, err)
	}
	testIndicatorPaging(t, s, ind)
	for _, bad := range []Indicator{
		ind("rivm", "public", "domain", "x.nl"), ind("rivm", "private", "asn", "1"), ind("rivm", "private", "domain", ""),
		{Org: "rivm", Scope: "private", Type: "domain", Value: "x.nl", TLP: "white"},
	} {
		if _, err := s.UpsertIndicator(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpsertIndicator(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

// testIndicatorPaging covers what feeds need: bulk recording, paging by
// update time without losing or repeating an indicator, lookups by value,
// and withdrawing what a full import no longer lists.
func testIndicatorPaging(t *testing.T, s *Store, ind func(org, scope, typ, value string) Indicator) {
	ctx := ctxT(t)
	var batch []Indicator
	for i := range 250 {
		batch = append(batch, ind("import/cert", "shared", "domain", fmt.Sprintf("phish-%03d.example", i)))
	}
	batch = append(batch, ind("import/cert", "shared", "domain", ""))
	for i := range batch {
		batch[i].Source = "import cert"
	}
	n, skipped, err := s.UpsertIndicators(ctx, batch)
	if n != 250 || skipped != 1 || !errors.Is(err, ErrInvalid) {
		t.Fatalf("UpsertIndicators = %d, %d, %v; want 250 recorded, the empty one skipped and named", n, skipped, err)
	}
	// Page by update, 40 at a time: every indicator exactly once, in
	// (UpdatedAt, ID) order.
	seen := map[int64]bool{}
	f := IndicatorFilter{Org: "rivm", ByUpdate: true, Limit: 40}
	var prev Indicator
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		got, err := s.Indicators(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, in := range got {
			if seen[in.ID] {
				t.Fatalf("indicator %d listed twice", in.ID)
			}
			seen[in.ID] = true
			if in.UpdatedAt.Before(prev.UpdatedAt) || (in.UpdatedAt.Equal(prev.UpdatedAt) && in.ID < prev.ID) {
				t.Fatalf("out of order: %d after %d", in.ID, prev.ID)
			}
			prev = in
		}
		f.UpdatedAfter, f.AfterID = prev.UpdatedAt, prev.ID
	}
	all, err := s.Indicators(ctx, IndicatorFilter{Org: "rivm"})
	if err != nil || len(seen) != len(all) {
		t.Errorf("paging by update saw %d indicators, listing by ID %d (%v)", len(seen), len(all), err)
	}
	count := 0
	for _, err := range AllIndicators(ctx, s, IndicatorFilter{Org: "rivm", Limit: 40}) {
		if err != nil {
			t.Fatal(err)
		}
		count++
	}
	if count != len(all) {
		t.Errorf("AllIndicators in pages of 40 yields %d, one listing %d", count, len(all))
	}
	// The version moves with every change an organisation can see.
	v1, n1, err := s.IndicatorsVersion(ctx, "who")
	if err != nil || n1 == 0 || v1.IsZero() {
		t.Fatalf("IndicatorsVersion = %v, %d, %v", v1, n1, err)
	}
	if _, n, _ := s.IndicatorsVersion(ctx, "nobody-here"); n != n1-countOwn(t, s, "who") {
		t.Errorf("an organisation without indicators of its own sees %d, want the %d shared", n, n1-countOwn(t, s, "who"))
	}
	// Lookups by value.
	got, err := s.Indicators(ctx, IndicatorFilter{Org: "who", Types: []string{"domain"}, Values: []string{"phish-007.example", "nope.example"}})
	if err != nil || len(got) != 1 || got[0].Value != "phish-007.example" {
		t.Errorf("lookup by value = %+v, %v", got, err)
	}
	if _, err := s.Indicators(ctx, IndicatorFilter{Org: "who", Values: make([]string, MaxFilterValues+1)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("too many values: %v", err)
	}
	// A later full import lists only the first 200: the other 50 are
	// revoked, and only those of that organisation and source.
	clk := s.now
	later := s.clock().Add(time.Hour)
	s.now = func() time.Time { return later }
	defer func() { s.now = clk }()
	if _, _, err := s.UpsertIndicators(ctx, batch[:200]); err != nil {
		t.Fatal(err)
	}
	other := ind("rivm", "private", "domain", "kept.example")
	other.Source = "import cert"
	if _, err := s.UpsertIndicator(ctx, other); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RevokeStale(ctx, "import/cert", "import cert", later); err != nil || n != 50 {
		t.Errorf("RevokeStale = %d, %v; want 50", n, err)
	}
	if got, _ := s.Indicators(ctx, IndicatorFilter{Org: "import/cert"}); len(got) != 200 {
		t.Errorf("%d standing after the stale ones were revoked, want 200", len(got))
	}
	// The revocations are new versions: a feed reader paging from where it
	// stopped sees them.
	got, err = s.Indicators(ctx, IndicatorFilter{Org: "rivm", ByUpdate: true, UpdatedAfter: prev.UpdatedAt, AfterID: prev.ID, Revoked: true})
	revoked := 0
	for _, in := range got {
		if !in.RevokedAt.IsZero() {
			revoked++
		}
	}
	if err != nil || revoked != 50 {
		t.Errorf("paging on after the revocation: %d revoked of %d, %v", revoked, len(got), err)
	}
}

// countOwn counts the organisation's own indicators, revoked included.
func countOwn(t *testing.T, s *Store, org string) int64 {
	t.Helper()
	got, err := s.Indicators(context.Background(), IndicatorFilter{Org: org, Revoked: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, in := range got {
		if in.Org == org && in.Scope == "private" {
			n++
		}
	}
	return n
}
