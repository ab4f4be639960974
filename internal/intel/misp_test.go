package intel

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMISPFeed(t *testing.T) {
	dir := t.TempDir()
	events := MISPEvents(sample(), MISPOptions{})
	if err := WriteMISPFeed(dir, events); err != nil {
		t.Fatal(err)
	}
	// Golden: the manifest and the RIVM green event.
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "misp-manifest.json", manifest)
	var m map[string]struct {
		Info string    `json:"info"`
		Tags []MISPTag `json:"Tag"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != len(events) || len(events) != 4 {
		t.Fatalf("%d events in the manifest, %d written; want 4 (RIVM green, RIVM amber, no brand green, no brand clear)", len(m), len(events))
	}
	for _, ev := range events {
		b, err := os.ReadFile(filepath.Join(dir, ev.UUID+".json"))
		if err != nil {
			t.Fatalf("event file of %s: %v", ev.UUID, err)
		}
		if strings.Contains(ev.Info, "RIVM") && ev.Tags[0].Name == "tlp:green" {
			golden(t, "misp-event.json", b)
		}
	}
	// hashes.csv: md5 of each value, comma, event uuid.
	h, err := os.ReadFile(filepath.Join(dir, "hashes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("rivm-covid19.example"))
	if !strings.Contains(string(h), hex.EncodeToString(sum[:])+",") {
		t.Errorf("hashes.csv lacks the md5 of rivm-covid19.example:\n%s", h)
	}
	if n := strings.Count(string(h), "\n"); n != 9 {
		t.Errorf("hashes.csv has %d lines, want one per attribute (9)", n)
	}
	// Read back through an fs.FS.
	res, err := ReadMISPFeed(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if res.SkippedCount != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
	checkRoundTrip(t, sample(), res.Indicators, false)
	// A second export of the same indicators is byte-identical.
	dir2 := t.TempDir()
	if err := WriteMISPFeed(dir2, MISPEvents(sample(), MISPOptions{})); err != nil {
		t.Fatal(err)
	}
	m2, _ := os.ReadFile(filepath.Join(dir2, "manifest.json"))
	if !bytes.Equal(manifest, m2) {
		t.Errorf("a second export changed the manifest")
	}
}

func TestWriteMISPFeedRejectsBadUUID(t *testing.T) {
	for _, id := range []string{"../../etc/passwd", "", "5E0C8A4C-0000-4000-8000-000000000000"} {
		if err := WriteMISPFeed(t.TempDir(), []MISPEvent{{UUID: id}}); err == nil {
			t.Errorf("event uuid %q accepted", id)
		}
	}
}

func TestReadMISPFeedHostile(t *testing.T) {
	ev := `{"Event":{"Tag":[{"name":"tlp:amber"},{"name":"ward:brand=\"WHO\""}],"Attribute":[
		{"uuid":"a1","type":"domain","value":"Evil.Example","to_ids":true,"timestamp":"1584000000","Tag":[{"name":"tlp:red"}]},
		{"uuid":"a2","type":"domain","value":"benign.example","to_ids":false},
		{"uuid":"a3","type":"regkey","value":"HKLM\\x","to_ids":true},
		{"uuid":"a4","type":"domain|ip","value":"c2.example|192.0.2.9","to_ids":true,"timestamp":1584000000},
		{"uuid":"a5","type":"url","value":"javascript:alert(1)","to_ids":true},
		{"uuid":"a6","type":"ip-dst","value":"198.51.100.1","to_ids":true,"deleted":true}],
		"Object":[{"Attribute":[{"uuid":"o1","type":"sha256","value":"` + strings.Repeat("A", 64) + `","to_ids":true}]}]}}`
	fsys := fstest.MapFS{
		"manifest.json": {Data: []byte(`{"11111111-1111-4111-8111-111111111111":{},"../secret":{},"22222222-2222-4222-8222-222222222222":{}}`)},
		"11111111-1111-4111-8111-111111111111.json": {Data: []byte(ev)},
		"22222222-2222-4222-8222-222222222222.json": {Data: []byte(`{"Event":` + strings.Repeat("[", 200) + `}`)},
	}
	res, err := ReadMISPFeed(fsys)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Indicator{}
	for _, in := range res.Indicators {
		got[in.Value] = in
	}
	if len(got) != 4 {
		t.Errorf("read %d indicators, want 4 (evil.example, c2.example, 192.0.2.9, the hash): %+v", len(got), res.Indicators)
	}
	if e := got["evil.example"]; e.TLP != TLPRed || e.Brand != "WHO" || e.FirstSeen.Unix() != 1584000000 {
		t.Errorf("evil.example = %+v; want tlp red (the attribute's, narrower), brand WHO, first seen 1584000000", e)
	}
	if got["c2.example"].TLP != TLPAmber || got["192.0.2.9"].Type != TypeIP {
		t.Errorf("domain|ip attribute read as %+v and %+v", got["c2.example"], got["192.0.2.9"])
	}
	// to_ids false, regkey, bad URL, deleted; the ../secret key; the deep event.
	if res.SkippedCount != 6 {
		t.Errorf("skipped %d, want 6: %+v", res.SkippedCount, res.Skipped)
	}
	if _, err := ReadMISPFeed(fstest.MapFS{}); err == nil {
		t.Errorf("a feed without manifest.json was read")
	}
}

// TestReadMISPEventCIRCL reads the real CIRCL feed event kept in shared/data.
func TestReadMISPEventCIRCL(t *testing.T) {
	f, err := os.Open("../../../shared/data/stix/misp/57c4445b-c548-4654-af0b-4be3950d210f.json")
	if err != nil {
		t.Skip("shared/data not present:", err)
	}
	defer f.Close()
	res, err := ReadMISPEvent(f)
	if err != nil {
		t.Fatal(err)
	}
	types := map[Type]int{}
	for _, in := range res.Indicators {
		types[in.Type]++
		if in.TLP != TLPClear {
			t.Errorf("%s: tlp %q, want clear (the event is tlp:white)", in.Value, in.TLP)
		}
	}
	if types[TypeFilename] != 1 || types[TypeMD5] != 1 || types[TypeSHA1] != 1 || types[TypeSHA256] != 1 {
		t.Errorf("indicator types %v, want one filename, md5, sha1, sha256", types)
	}
}
