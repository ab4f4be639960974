package ct

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultLogList(t *testing.T) {
	l := DefaultLogList()
	if l.Version != "89.25" {
		t.Errorf("Version = %q, want 89.25", l.Version)
	}
	if want := time.Date(2026, 8, 20, 13, 34, 57, 0, time.UTC); !l.Timestamp.Equal(want) {
		t.Errorf("Timestamp = %v, want %v", l.Timestamp, want)
	}
	types := map[LogType]int{}
	states := map[string]int{}
	for _, lg := range l.Logs {
		types[lg.Type]++
		states[lg.State]++
		if lg.Key == nil {
			t.Fatalf("%s: no key", lg.Description)
		}
	}
	if len(l.Logs) != 117 || types[LogRFC6962] != 42 || types[LogStatic] != 75 {
		t.Errorf("%d logs, %d RFC 6962 and %d static; want 117, 42 and 75", len(l.Logs), types[LogRFC6962], types[LogStatic])
	}
	wantStates := map[string]int{"usable": 37, "qualified": 6, "pending": 16, "rejected": 14, "retired": 3, "readonly": 2, "": 39}
	if fmt.Sprint(states) != fmt.Sprint(wantStates) {
		t.Errorf("states = %v, want %v", states, wantStates)
	}
}

func findLog(t *testing.T, l *LogList, description string) Log {
	t.Helper()
	i := slices.IndexFunc(l.Logs, func(lg Log) bool { return lg.Description == description })
	if i < 0 {
		t.Fatalf("no log %q", description)
	}
	return l.Logs[i]
}

func TestDefaultLogListFields(t *testing.T) {
	l := DefaultLogList()
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		want             Log
		logID, key, orig string
	}{
		{
			want: Log{
				Description:   "Google 'Argon2026h2' log",
				Operator:      "Google",
				Type:          LogRFC6962,
				URL:           "https://ct.googleapis.com/logs/us1/argon2026h2/",
				SubmissionURL: "https://ct.googleapis.com/logs/us1/argon2026h2/",
				MMD:           24 * time.Hour,
				State:         "usable",
			},
			logID: "1219ENGn9XfCx+lf1wC/+YLJM1pl4dCzAXMXwMjFaXc=",
			key:   "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKjpni/66DIYrSlGK6Rf+e6F2c/28ZUvDJ79N81+gyimAESAyeNZ++TRgjHWg9TVQnKHTSU0T1TtqDupFnSQTIg==",
			orig:  "ct.googleapis.com/logs/us1/argon2026h2",
		},
		{
			want: Log{
				Description:   "Let's Encrypt 'Sycamore2026h2'",
				Operator:      "Let's Encrypt",
				Type:          LogStatic,
				URL:           "https://mon.sycamore.ct.letsencrypt.org/2026h2/",
				SubmissionURL: "https://log.sycamore.ct.letsencrypt.org/2026h2/",
				MMD:           time.Minute,
				State:         "usable",
			},
			logID: "bP5QGUOoXqkWvFLRM+TcyR7xQRx9JYQg0XOAnhgY6zo=",
			key:   "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEwR1FtiiMbpvxR+sIeiZ5JSCIDIdTAPh7OrpdchcrCcyNVDvNUq358pqJx2qdyrOI+EjGxZ7UiPcN3bL3Q99FqA==",
			orig:  "log.sycamore.ct.letsencrypt.org/2026h2",
		},
	} {
		t.Run(tc.want.Description, func(t *testing.T) {
			got := findLog(t, l, tc.want.Description)
			if got.Key == nil || base64.StdEncoding.EncodeToString(got.Key.ID[:]) != tc.logID || base64.StdEncoding.EncodeToString(got.Key.DER) != tc.key {
				t.Errorf("Key = %+v, want log ID %s and key %s", got.Key, tc.logID, tc.key)
			}
			if got.Origin() != tc.orig {
				t.Errorf("Origin() = %q, want %q", got.Origin(), tc.orig)
			}
			got.Key = nil
			tc.want.Interval.Start, tc.want.Interval.End = day(2026, 7, 1), day(2027, 1, 1)
			if tc.want.Type == LogStatic {
				tc.want.Interval.Start, tc.want.Interval.End = day(2026, 6, 18), day(2026, 12, 17)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDefaultLogListSignature(t *testing.T) {
	if err := VerifyLogListSignature(defaultLogListJSON, defaultLogListSig, DefaultLogListKey); err != nil {
		t.Fatalf("embedded log list: %v", err)
	}
	edited := []byte(strings.Replace(string(defaultLogListJSON), `"usable"`, `"usable" `, 1))
	if err := VerifyLogListSignature(edited, defaultLogListSig, DefaultLogListKey); !errors.Is(err, ErrBadSignature) {
		t.Errorf("reformatted list: error = %v, want ErrBadSignature", err)
	}
	sig := slices.Clone(defaultLogListSig)
	sig[10] ^= 1
	if err := VerifyLogListSignature(defaultLogListJSON, sig, DefaultLogListKey); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed signature: error = %v, want ErrBadSignature", err)
	}
	if err := VerifyLogListSignature(defaultLogListJSON, defaultLogListSig[:100], DefaultLogListKey); !errors.Is(err, ErrBadSignature) {
		t.Errorf("truncated signature: error = %v, want ErrBadSignature", err)
	}
	for name, key := range map[string][]byte{
		"no PEM":          []byte("not a key"),
		"certificate PEM": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"ECDSA key":       []byte("-----BEGIN PUBLIC KEY-----\n" + argon2024Key + "\n-----END PUBLIC KEY-----\n"),
	} {
		if err := VerifyLogListSignature(defaultLogListJSON, defaultLogListSig, key); err == nil || errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: error = %v, want a key error", name, err)
		}
	}
}

func TestDefaultLogListIsACopy(t *testing.T) {
	a := DefaultLogList()
	a.Logs[0].Description = "changed"
	a.Logs = a.Logs[:1]
	b := DefaultLogList()
	if len(b.Logs) != 117 || b.Logs[0].Description == "changed" {
		t.Fatal("changing one DefaultLogList changed the next")
	}
}

func TestFollowable(t *testing.T) {
	got := DefaultLogList().Followable(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC))
	var names []string
	for _, l := range got {
		names = append(names, l.Description)
	}
	// Every usable or qualified log: the earliest interval among them ends
	// on 2026-12-16, after the date. Rejected logs (such as the 2026h1
	// shards), pending logs and logs without a state are left out.
	want := []string{
		"Cloudflare 'Nimbus2026'",
		"Cloudflare 'Nimbus2027'",
		"DigiCert 'Sphinx2026h2'",
		"DigiCert 'Wyvern2026h2'",
		"DigiCert 'Wyvern2027h1'",
		"DigiCert 'Wyvern2027h2'",
		"DigiCert 'sphinx2027h1'",
		"DigiCert 'sphinx2027h2'",
		"Geomys 'Tuscolo2026h2'",
		"Geomys 'Tuscolo2027h1'",
		"Geomys 'Tuscolo2027h2'",
		"Google 'Argon2026h2' log",
		"Google 'Argon2027h1'",
		"Google 'ParcelYard2026h2' log",
		"Google 'ParcelYard2027h1' log",
		"Google 'ParcelYard2027h2' log",
		"Google 'PlumbersArms2026h2' log",
		"Google 'PlumbersArms2027h1' log",
		"Google 'PlumbersArms2027h2' log",
		"Google 'Xenon2026h2' log",
		"Google 'Xenon2027h1'",
		"IPng Networks 'Gouda2026h2'",
		"IPng Networks 'Gouda2027h1'",
		"IPng Networks 'Gouda2027h2'",
		"IPng Networks 'Halloumi2026h2a'",
		"IPng Networks 'Halloumi2027h1'",
		"IPng Networks 'Halloumi2027h2'",
		"Let's Encrypt 'Sycamore2026h2'",
		"Let's Encrypt 'Sycamore2027h1'",
		"Let's Encrypt 'Sycamore2027h2'",
		"Let's Encrypt 'Willow2026h2'",
		"Let's Encrypt 'Willow2027h1'",
		"Let's Encrypt 'Willow2027h2'",
		"Sectigo 'Elephant2026h2'",
		"Sectigo 'Elephant2027h1'",
		"Sectigo 'Elephant2027h2'",
		"Sectigo 'Tiger2026h2'",
		"Sectigo 'Tiger2027h1'",
		"Sectigo 'Tiger2027h2'",
		"TrustAsia 'HETU2027'",
		"TrustAsia 'log2026a'",
		"TrustAsia 'log2026b'",
		"TrustAsia Luoshu2027",
	}
	if !slices.Equal(names, want) {
		t.Errorf("Followable(2026-11-27) =\n%q\nwant\n%q", names, want)
	}
	types := map[LogType]int{}
	for _, l := range got {
		types[l.Type]++
	}
	if types[LogRFC6962] != 21 || types[LogStatic] != 22 {
		t.Errorf("Followable: %d RFC 6962 and %d static logs, want 21 and 22", types[LogRFC6962], types[LogStatic])
	}
}

// A log stays followable for 30 days after its interval ends.
func TestFollowableGrace(t *testing.T) {
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	list := &LogList{}
	for _, tc := range []struct {
		desc, state string
		end         time.Time
	}{
		{"b ends 2027", "usable", end},
		{"a ends 2027", "qualified", end},
		{"no interval", "usable", time.Time{}},
		{"pending", "pending", time.Time{}},
		{"readonly", "readonly", time.Time{}},
		{"retired", "retired", time.Time{}},
		{"rejected", "rejected", time.Time{}},
		{"no state", "", time.Time{}},
	} {
		l := Log{Description: tc.desc, State: tc.state}
		l.Interval.End = tc.end
		list.Logs = append(list.Logs, l)
	}
	for _, tc := range []struct {
		now  time.Time
		want []string
	}{
		{end.Add(-time.Hour), []string{"a ends 2027", "b ends 2027", "no interval"}},
		{end.Add(30 * 24 * time.Hour), []string{"a ends 2027", "b ends 2027", "no interval"}},
		{end.Add(30*24*time.Hour + time.Millisecond), []string{"no interval"}},
	} {
		var got []string
		for _, l := range list.Followable(tc.now) {
			got = append(got, l.Description)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Followable(%v) = %q, want %q", tc.now, got, tc.want)
		}
	}
}

func TestLogOrigin(t *testing.T) {
	for _, tc := range []struct {
		log  Log
		want string
	}{
		{Log{Type: LogStatic, URL: "https://mon.example/2026h2/", SubmissionURL: "https://log.example/2026h2/"}, "log.example/2026h2"},
		{Log{Type: LogStatic, URL: "https://b.example/", SubmissionURL: "https://a.example//"}, "a.example"},
		{Log{Type: LogStatic, SubmissionURL: "http://a.example/x"}, "a.example/x"},
		{Log{Type: LogRFC6962, URL: "https://log.bob.io"}, "log.bob.io"},
	} {
		if got := tc.log.Origin(); got != tc.want {
			t.Errorf("%+v.Origin() = %q, want %q", tc.log, got, tc.want)
		}
	}
}

// ctgo2022LogList is ct-go's own v3 log list parser fixture (version 9.4,
// 2022), trimmed and partly made up upstream: the "Racketeer" log's key is
// not a SubjectPublicKeyInfo. From
// github.com/google/certificate-transparency-go testdata/loglist3.json at
// commit 56578481e43140e9df5b58cf28a41752e2391956, Apache License 2.0,
// Copyright Google LLC; copied unchanged.
const ctgo2022LogList = `{
  "version": "9.4",
  "log_list_timestamp": "2022-05-06T12:55:11Z",
  "operators": [
    {
      "name": "Google",
      "email": [
        "google-ct-logs@googlegroups.com"
      ],
      "logs": [
        {
          "description": "Google 'Aviator' log",
          "log_id": "aPaY+B9kgr46jO65KB1M/HFRXWeT1ETRCmesu09P+8Q=",
          "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1/TMabLkDpCjiupacAlP7xNi0I1JYP8bQFAHDG1xhtolSY1l4QgNRzRrvSe8liE+NPWHdjGxfx3JhTsN9x8/6Q==",
          "url": "https://ct.googleapis.com/aviator/",
          "mmd": 86400,
          "state":{
            "readonly": {
              "timestamp": "2016-11-30T13:24:18.33Z",
              "final_tree_head": {
                "sha256_root_hash": "LcGcZRsm+LGYmrlyC5LXhV1T6OD8iH5dNlb0sEJl9bA=",
                "tree_size": 46466472
              }
            }
          }
        },
        {
          "description": "Google 'Icarus' log",
          "log_id": "KTxRllTIOWW6qlD8WAfUt2+/WHopctykwwz05UVH9Hg=",
          "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAETtK8v7MICve56qTHHDhhBOuV4IlUaESxZryCfk9QbG9co/CqPvTsgPDbCpp6oFtyAHwlDhnvr7JijXRD9Cb2FA==",
          "url": "https://ct.googleapis.com/icarus/",
          "mmd": 86400,
          "state": {
            "usable": {
              "timestamp": "2018-02-27T00:00:00Z"
            }
          }
        },
        {
          "description": "Google 'Racketeer' log",
          "log_id": "7kEv4llINIlh4vPgjGgugT7A/3cLbXUXF2OvMBT/l2g=",
          "key": "Hy2TPTZ2yq9ASMmMZiB9SZEUx5WNH5G0Ft5Tm9vKMcPXA+ic/Ap3gg6fXzBJR8zLkt5lQjvKMdbHYMGv7yrsZg==",
          "url": "https://ct.googleapis.com/racketeer/",
          "mmd": 86400
        },
        {
          "description": "Google 'Rocketeer' log",
          "log_id": "7ku9t3XOYLrhQmkfq+GeZqMPfl+wctiDAMR7iXqo/cs=",
          "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIFsYyDzBi7MxCAC/oJBXK7dHjG+1aLCOkHjpoHPqTyghLpzA9BYbqvnV16mAw04vUjyYASVGJCUoI3ctBcJAeg==",
          "url": "https://ct.googleapis.com/rocketeer/",
          "mmd": 86400,
          "state": {
            "usable": {
              "timestamp": "2018-02-27T00:00:00Z"
            }
          }
        },
        {
          "description": "Google 'Argon2020' log",
          "log_id": "sh4FzIuizYogTodm+Su5iiUgZ2va+nDnsklTLe+LkF4=",
          "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6Tx2p1yKY4015NyIYvdrk36es0uAc1zA4PQ+TGRY+3ZjUTIYY9Wyu+3q/147JG4vNVKLtDWarZwVqGkg6lAYzA==",
          "url": "https://ct.googleapis.com/logs/argon2020/",
          "mmd": 86400,
          "state": {
            "qualified": {
              "timestamp": "2018-02-27T00:00:00Z"
            }
          },
          "temporal_interval": {
            "start_inclusive": "2018-02-27T00:00:00Z",
            "end_exclusive": "2020-01-01T00:00:00Z"
          }
        }
      ]
    },
    {
      "name": "Bob's CT Log Shop",
      "email": [
        "bob@example.com"
      ],
      "logs": [
        {
          "description": "Bob's Dubious Log",
          "log_id": "zbUXm3/BwEb+6jETaj+PAC5hgvr4iW/syLL1tatgSQA=",
          "key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECyPLhWKYYUgEc+tUXfPQB4wtGS2MNvXrjwFCCnyYJifBtd2Sk7Cu+Js9DNhMTh35FftHaHu6ZrclnNBKwmbbSA==",
          "url": "https://log.bob.io",
          "mmd": 86400,
          "state": {
            "retired": {
              "timestamp": "2016-04-15T00:00:00Z"
            }
          },
          "temporal_interval": {
            "start_inclusive": "2014-11-07T12:00:00Z",
            "end_exclusive": "2015-03-07T12:00:00Z"
          }
        }
      ]
    }
  ]
}
`

func TestParseLogListCTGo2022(t *testing.T) {
	// Racketeer's key is bad: it is skipped, the others are read.
	withBad, err := ParseLogList([]byte(ctgo2022LogList))
	if err != nil {
		t.Fatal(err)
	}
	want := `log list: operators[0].logs[2] ("Google 'Racketeer' log"): key: not a DER SubjectPublicKeyInfo`
	if len(withBad.Skipped) != 1 || withBad.Skipped[0].Error() != want || len(withBad.Logs) != 5 {
		t.Fatalf("skipped %v with %d logs read, want %q with 5", withBad.Skipped, len(withBad.Logs), want)
	}

	// Without Racketeer, the same logs.
	var j map[string]any
	if err := json.Unmarshal([]byte(ctgo2022LogList), &j); err != nil {
		t.Fatal(err)
	}
	google := j["operators"].([]any)[0].(map[string]any)
	logs := google["logs"].([]any)
	google["logs"] = append(logs[:2:2], logs[3:]...)
	data, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParseLogList(data)
	if err != nil {
		t.Fatal(err)
	}
	if l.Version != "9.4" || len(l.Logs) != 5 || len(l.Skipped) != 0 {
		t.Fatalf("version %q with %d logs, skipped %v; want 9.4 with 5", l.Version, len(l.Logs), l.Skipped)
	}
	aviator := findLog(t, l, "Google 'Aviator' log")
	if aviator.State != "readonly" || aviator.Type != LogRFC6962 || aviator.MMD != 24*time.Hour || !aviator.Interval.End.IsZero() {
		t.Errorf("Aviator = %+v", aviator)
	}
	bob := findLog(t, l, "Bob's Dubious Log")
	if bob.Operator != "Bob's CT Log Shop" || bob.State != "retired" || bob.Origin() != "log.bob.io" ||
		!bob.Interval.Start.Equal(time.Date(2014, 11, 7, 12, 0, 0, 0, time.UTC)) || !bob.Interval.End.Equal(time.Date(2015, 3, 7, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("Bob's Dubious Log = %+v", bob)
	}
	followable := l.Followable(time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC))
	if len(followable) != 3 || followable[0].Description != "Google 'Argon2020' log" {
		t.Errorf("Followable(2019-06-01) = %+v, want Argon2020, Icarus and Rocketeer", followable)
	}
}

// testLogListJSON returns a log list with one RFC 6962 log and one
// static-ct-api log, after edit has changed them.
func testLogListJSON(t *testing.T, edit func(rfc, static map[string]any)) []byte {
	t.Helper()
	k1, k2 := newTestLogKey(t), newTestLogKey(t)
	id := func(k *testLogKey) string { return base64.StdEncoding.EncodeToString(k.public().ID[:]) }
	rfc := map[string]any{
		"description": "Example 'Alpha'", "log_id": id(k1), "key": k1.publicB64(),
		"url": "https://alpha.example/", "mmd": 86400,
		"state":             map[string]any{"usable": map[string]any{"timestamp": "2026-01-01T00:00:00Z"}},
		"temporal_interval": map[string]any{"start_inclusive": "2026-01-01T00:00:00Z", "end_exclusive": "2027-01-01T00:00:00Z"},
	}
	static := map[string]any{
		"description": "Sectigo 'Elephant2026h1'", "log_id": id(k2), "key": k2.publicB64(),
		"submission_url": "https://elephant.example/2026h1/", "monitoring_url": "https://mon.elephant.example/2026h1/", "mmd": 60,
	}
	edit(rfc, static)
	data, err := json.Marshal(map[string]any{
		"version": "1.0", "log_list_timestamp": "2026-11-27T00:00:00Z",
		"operators": []any{
			map[string]any{"name": "Example", "logs": []any{rfc}},
			map[string]any{"name": "Empty"},
			map[string]any{"name": "Sectigo", "logs": []any{}, "tiled_logs": []any{static}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseLogList(t *testing.T) {
	l, err := ParseLogList(testLogListJSON(t, func(rfc, static map[string]any) {}))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Logs) != 2 || l.Logs[0].Type != LogRFC6962 || l.Logs[1].Type != LogStatic || l.Logs[1].Operator != "Sectigo" {
		t.Fatalf("parsed %+v", l.Logs)
	}
	if l.Logs[1].State != "" || l.Logs[1].MMD != time.Minute || !l.Logs[1].Interval.Start.IsZero() {
		t.Errorf("static log without state or interval: %+v", l.Logs[1])
	}

	const rfcLog = `log list: operators[0].logs[0] ("Example 'Alpha'"): `
	const staticLog = `log list: operators[2].tiled_logs[0] ("Sectigo 'Elephant2026h1'"): `
	rsa1024Key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsa1024 := spkiB64(t, &rsa1024Key.PublicKey)
	for _, tc := range []struct {
		name string
		edit func(rfc, static map[string]any)
		want string
	}{
		{"key not base64", func(_, s map[string]any) { s["key"] = "not base64!" }, staticLog + "key: not base64"},
		{"key missing", func(_, s map[string]any) { delete(s, "key") }, staticLog + "key: empty"},
		{"RSA-1024 key", func(r, _ map[string]any) { r["key"] = rsa1024 }, rfcLog + "key: RSA key of 1024 bits, need at least 2048"},
		{"log_id mismatch", func(r, s map[string]any) { r["log_id"] = s["log_id"] }, rfcLog + "log_id: does not match the key"},
		{"log_id short", func(r, _ map[string]any) { r["log_id"] = "AAAA" }, rfcLog + "log_id: not 32 bytes in base64"},
		{"url missing", func(r, _ map[string]any) { delete(r, "url") }, rfcLog + "url: missing"},
		{"url relative", func(r, _ map[string]any) { r["url"] = "alpha.example/" }, rfcLog + `url: "alpha.example/" is not an http(s) URL`},
		{"url ftp", func(r, _ map[string]any) { r["url"] = "ftp://alpha.example/" }, rfcLog + "url:"},
		{"static with url only", func(_, s map[string]any) {
			s["url"] = s["submission_url"]
			delete(s, "submission_url")
		}, staticLog + "submission_url: missing"},
		{"monitoring_url missing", func(_, s map[string]any) { delete(s, "monitoring_url") }, staticLog + "monitoring_url: missing"},
		{"mmd negative", func(r, _ map[string]any) { r["mmd"] = -1 }, rfcLog + "mmd: -1 seconds is negative"},
		{"mmd a string", func(r, _ map[string]any) { r["mmd"] = "86400" }, rfcLog + "json: cannot unmarshal"},
		{"two states", func(r, _ map[string]any) {
			r["state"] = map[string]any{"usable": map[string]any{}, "retired": map[string]any{}}
		}, rfcLog + "state: 2 states (retired, usable), want one"},
		{"bad interval start", func(r, _ map[string]any) {
			r["temporal_interval"] = map[string]any{"start_inclusive": "2026-01-01", "end_exclusive": "2027-01-01T00:00:00Z"}
		}, rfcLog + `temporal_interval.start_inclusive: "2026-01-01" is not an RFC 3339 time`},
		{"interval missing end", func(r, _ map[string]any) {
			r["temporal_interval"] = map[string]any{"start_inclusive": "2026-01-01T00:00:00Z"}
		}, rfcLog + "temporal_interval.end_exclusive"},
		{"interval backwards", func(r, _ map[string]any) {
			r["temporal_interval"] = map[string]any{"start_inclusive": "2027-01-01T00:00:00Z", "end_exclusive": "2026-01-01T00:00:00Z"}
		}, rfcLog + "temporal_interval: start 2027-01-01T00:00:00Z is not before end 2026-01-01T00:00:00Z"},
		{"no description", func(r, _ map[string]any) { delete(r, "description") }, "log list: operators[0].logs[0]: description: missing"},
		{"same log twice", func(r, s map[string]any) {
			s["key"], s["log_id"] = r["key"], r["log_id"]
		}, staticLog + `log_id: the same as operators[0].logs[0] ("Example 'Alpha'")`},
		{"two bad logs", func(r, s map[string]any) {
			r["url"] = ""
			s["key"] = "?"
		}, rfcLog + "url: missing\n" + staticLog + "key: not base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One bad log is skipped and the other read; with both bad,
			// the list fails.
			l, err := ParseLogList(testLogListJSON(t, tc.edit))
			var got string
			switch {
			case err != nil && tc.name == "two bad logs":
				got = err.Error()
			case err != nil:
				t.Fatalf("one bad log failed the list: %v", err)
			case len(l.Logs) != 1 || len(l.Skipped) != 1:
				t.Fatalf("read %d logs and skipped %v; want 1 and 1", len(l.Logs), l.Skipped)
			default:
				got = l.Skipped[0].Error()
			}
			if !strings.HasPrefix(got, tc.want) {
				t.Fatalf("ParseLogList skipped\n%v\nwant a reason starting\n%s", got, tc.want)
			}
		})
	}

	for name, data := range map[string]string{
		"not JSON":       "<html>",
		"truncated":      `{"version": "1", "operators": [`,
		"bad timestamp":  `{"version": "1", "log_list_timestamp": "yesterday", "operators": []}`,
		"operators type": `{"operators": {}}`,
	} {
		if _, err := ParseLogList([]byte(data)); err == nil || !strings.HasPrefix(err.Error(), "log list: ") {
			t.Errorf("%s: error = %v, want a log list error", name, err)
		}
	}
}

func FuzzParseLogList(f *testing.F) {
	f.Add([]byte(ctgo2022LogList))
	f.Add([]byte(`{"operators":[{"name":"x","tiled_logs":[{"description":"d","key":"","state":{"a":{},"b":{}}}]}]}`))
	f.Add([]byte(`{"log_list_timestamp":"2026-01-01T00:00:00Z","operators":[{"logs":[{}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLogList(data)
		if err != nil {
			return
		}
		for _, lg := range l.Logs {
			if lg.Key == nil || lg.Description == "" || lg.URL == "" || lg.SubmissionURL == "" {
				t.Fatalf("accepted an incomplete log: %+v", lg)
			}
		}
		l.Followable(time.Now())
	})
}
