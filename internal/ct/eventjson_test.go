package ct

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestEventAppendJSONMatchesEncodingJSON(t *testing.T) {
	ts := time.Date(2026, 11, 27, 4, 5, 6, 789_000_000, time.UTC)
	for _, ev := range []Event{
		{},
		{Log: "https://log.example/", Index: 42, Timestamp: ts, Precert: true, Names: []string{"rivm-coronatest.nl", "www.rivm-coronatest.nl"},
			Issuer: "CN=R11,O=Let's Encrypt,C=US", NotBefore: ts, NotAfter: ts.Add(90 * 24 * time.Hour), SHA256: "ab01"},
		{Names: []string{}, Issuer: "CN=\"quoted\" \\ <b>&amp;</b>\n\t\r\b\f\x00\x1f\x7f", SHA256: "\u2028\u2029 é 日本 \xff\xfe"},
		{Timestamp: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), NotBefore: time.Date(1950, 1, 1, 0, 0, 0, 1, time.FixedZone("", 3600))},
	} {
		checkEventJSON(t, ev)
	}
}

func checkEventJSON(t *testing.T, ev Event) {
	t.Helper()
	want, err := json.Marshal(ev)
	if err != nil {
		t.Skip(err) // out-of-range time: encoding/json refuses it too
	}
	if got := ev.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("AppendJSON:\n got %s\nwant %s", got, want)
	}
}

func FuzzEventAppendJSON(f *testing.F) {
	f.Add("https://log.example/", "rivm.nl", "CN=R11,O=Let's Encrypt", int64(1764201600000), uint64(7), true)
	f.Add("<&>", "\xff\u2028", "\x00\"\\", int64(-1), uint64(0), false)
	f.Fuzz(func(t *testing.T, log, name, issuer string, ms int64, index uint64, precert bool) {
		ts := time.UnixMilli(ms).UTC()
		checkEventJSON(t, Event{Log: log, Index: index, Timestamp: ts, Precert: precert, Names: []string{name, issuer},
			Issuer: issuer, NotBefore: ts, NotAfter: ts, SHA256: name})
	})
}

func BenchmarkEventJSON(b *testing.B) {
	ts := time.Date(2026, 11, 27, 4, 5, 6, 0, time.UTC)
	ev := Event{Log: "https://log.example/", Index: 123456789, Timestamp: ts, Names: []string{"www.example.com", "example.com"},
		Issuer: "CN=R11,O=Let's Encrypt,C=US", NotBefore: ts, NotAfter: ts, SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf = ev.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(ev)
		}
	})
}
