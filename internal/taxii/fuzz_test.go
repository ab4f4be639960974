package taxii

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedLines adds every line of testdata/name to f's corpus.
func seedLines(f *testing.F, name string, add func(string)) {
	fh, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		add(sc.Text())
	}
}

func FuzzParams(f *testing.F) {
	seedLines(f, "queries.txt", func(s string) { f.Add(s, byte('o')) })
	f.Fuzz(func(t *testing.T, raw string, ep byte) {
		e := []endpoint{epObjects, epManifest, epObject, epVersions}[int(ep)%4]
		p, err := parseParams(raw, e)
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if n := len(p.ids) + len(p.types) + len(p.specVersions) + len(p.versionText); n > maxMatchValues {
			t.Fatalf("%d match values accepted, limit %d", n, maxMatchValues)
		}
		if p.limit < 0 || len(p.next) > maxNextLen {
			t.Fatalf("limit %d, next of %d bytes", p.limit, len(p.next))
		}
		// The fingerprint is stable, and tells principals apart.
		if a, b := p.fingerprint(e, "a", "c", ""), p.fingerprint(e, "a", "c", ""); a != b {
			t.Fatal("fingerprint is not deterministic")
		}
		if p.fingerprint(e, "a", "c", "") == p.fingerprint(e, "b", "c", "") {
			t.Fatal("two principals share a fingerprint")
		}
	})
}

func FuzzNext(f *testing.F) {
	fp := [32]byte{1, 2, 3}
	good := encodeNext(Cursor{Added: time.Date(2026, 3, 1, 8, 0, 0, 1000, time.UTC), ID: "indicator--11111111-1111-4111-8111-111111111111",
		Version: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}, fp)
	f.Add(good)
	f.Add(good[:len(good)-1])
	seedLines(f, "queries.txt", func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := decodeNext(tok, fp)
		if err != nil {
			return
		}
		// Whatever decodes is a valid cursor that encodes back to a token
		// that decodes the same.
		if !validSTIXID(c.ID) {
			t.Fatalf("decoded an invalid id %q", c.ID)
		}
		c2, err := decodeNext(encodeNext(c, fp), fp)
		if err != nil || CompareCursors(c, c2) != 0 || !c.Added.Equal(c2.Added) {
			t.Fatalf("round trip: %+v → %+v, %v", c, c2, err)
		}
		if _, err := decodeNext(tok, [32]byte{9}); err == nil {
			t.Fatal("a token decoded under another request's fingerprint")
		}
	})
}

func FuzzAccept(f *testing.F) {
	seedLines(f, "accept.txt", func(s string) { f.Add(s) })
	f.Fuzz(func(t *testing.T, h string) {
		ok := acceptable([]string{h})
		if ok && !strings.Contains(strings.ToLower(h), "/") {
			t.Fatalf("%q, without any media range, was accepted", h)
		}
	})
}

// FuzzHandler sends hostile paths, query strings and Accept headers to a
// server over a memory backend: every answer is a TAXII response with a
// status a read-only server may give, never a 500.
func FuzzHandler(f *testing.F) {
	seedLines(f, "queries.txt", func(s string) {
		f.Add("/taxii2/ward/collections/c1/objects/", s, "application/taxii+json;version=2.1")
		f.Add("/taxii2/ward/collections/c1/manifest/", s, "*/*")
	})
	f.Add("/taxii2/ward/collections/c1/objects/indicator--11111111-1111-4111-8111-111111111111/versions/", "limit=1", "")
	f.Add("/taxii2/", "", "")
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var objs []Object
	for i, id := range []string{"indicator--11111111-1111-4111-8111-111111111111", "relationship--33333333-3333-4333-8333-333333333333"} {
		for v := range 3 {
			ver := at.Add(time.Duration(v) * time.Hour)
			objs = append(objs, Object{ID: id, Version: ver, Added: at.Add(time.Duration(i+v) * time.Minute), JSON: json.RawMessage(`{"id":"` + id + `"}`)})
		}
	}
	b, err := NewMemoryBackend([]MemoryCollection{{Collection: Collection{ID: "c1", Title: "t"}, Readers: []string{"*"}, Objects: objs}})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(b, Config{MaxPageSize: 2})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path, query, accept string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path, req.URL.RawQuery = path, query
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400, 404, 406:
		default:
			t.Fatalf("%q ? %q: status %d %s", path, query, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) || w.Header().Get("Content-Type") != MediaType {
			t.Fatalf("%q ? %q: not a TAXII response: %q", path, query, w.Body)
		}
		if w.Code == 200 && w.Header().Get("X-TAXII-Date-Added-First") != "" {
			var env struct {
				Objects  []json.RawMessage
				Versions []string
			}
			json.Unmarshal(w.Body.Bytes(), &env)
			if len(env.Objects)+len(env.Versions) > 2 {
				t.Fatalf("a page of %d, MaxPageSize 2", len(env.Objects)+len(env.Versions))
			}
		}
	})
}
