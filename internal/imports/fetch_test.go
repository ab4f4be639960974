package imports

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/intel"
)

const listBody = "# phishing domains\nrivm-covid19.example\nhxxps://who-login[.]example/owa\n0.0.0.0 evil.example\nnot a domain!\n"

// values returns the sorted "type value" of indicators, revoked ones
// prefixed with "revoked ".
func values(inds []intel.Indicator) []string {
	var out []string
	for _, in := range inds {
		s := string(in.Type) + " " + in.Value
		if in.Revoked {
			s = "revoked " + s
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func fetcher(t *testing.T) *Fetcher {
	t.Helper()
	return &Fetcher{Now: func() time.Time { return time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC) }}
}

func TestValidate(t *testing.T) {
	ok := Source{Name: "cert", URL: "https://feeds.example/list.txt", Format: FormatList}
	tests := []struct {
		name string
		mod  func(*Source)
		want string // "" valid
	}{
		{"valid", func(*Source) {}, ""},
		{"local path", func(s *Source) { s.URL = "/var/lib/ward/list.txt" }, ""},
		{"file url", func(s *Source) { s.URL = "file:///var/lib/ward/list.txt" }, ""},
		{"no name", func(s *Source) { s.Name = "" }, "name is empty"},
		{"bad name", func(s *Source) { s.Name = "a b" }, "name: use 1 to 64"},
		{"no format", func(s *Source) { s.Format = "" }, "format is empty: use misp, stix, taxii or list"},
		{"bad format", func(s *Source) { s.Format = "csv" }, `format "csv": use misp`},
		{"no url", func(s *Source) { s.URL = "" }, "url is empty"},
		{"relative path", func(s *Source) { s.URL = "feeds/list.txt" }, "neither a URL nor an absolute path"},
		{"ftp", func(s *Source) { s.URL = "ftp://x.example/l" }, `scheme "ftp" is not supported`},
		{"credentials in url", func(s *Source) { s.URL = "https://u:secret@x.example/l" }, "move them to username and password"},
		{"taxii without collection", func(s *Source) { s.Format = FormatTAXII }, "collection is empty"},
		{"taxii local", func(s *Source) { s.Format, s.URL, s.Collection = FormatTAXII, "/tmp/x", "c" }, "needs the server's https:// URL"},
		{"collection on list", func(s *Source) { s.Collection = "c" }, "collection and api_root are for format taxii"},
		{"bad api root", func(s *Source) { s.Format, s.Collection, s.APIRoot = FormatTAXII, "c", "api1/" }, "api_root \"api1/\": give the API root's full http(s) URL"},
		{"token and basic", func(s *Source) { s.Token, s.Username = "t", "u" }, "both token and username/password"},
		{"password alone", func(s *Source) { s.Password = "p" }, "password without username"},
		{"header newline", func(s *Source) { s.Headers = map[string]string{"X-Key": "a\r\nHost: x"} }, "line break"},
		{"header name", func(s *Source) { s.Headers = map[string]string{"X Key": "a"} }, "header name"},
		{"header host", func(s *Source) { s.Headers = map[string]string{"host": "a"} }, "set by ward itself"},
		{"tlp", func(s *Source) { s.TLP = "white" }, `tlp "white": use clear`},
		{"scope", func(s *Source) { s.Scope = "public" }, `scope "public"`},
		{"max bytes", func(s *Source) { s.MaxBytes = 1 << 40 }, "max_bytes"},
		{"max indicators", func(s *Source) { s.MaxIndicators = -1 }, "max_indicators"},
		{"timeout", func(s *Source) { s.Timeout = -time.Second }, "timeout -1s is negative"},
		{"auth on a file", func(s *Source) { s.URL, s.Token = "/tmp/l", "t" }, "for HTTP sources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.mod(&s)
			err := s.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestListETag: a list is a snapshot; the second fetch sends If-None-Match,
// gets 304 and reports the source unchanged.
func TestListETag(t *testing.T) {
	var mu sync.Mutex
	var gotINM []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gotINM = append(gotINM, r.Header.Get("If-None-Match"))
		mu.Unlock()
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, listBody)
	}))
	defer srv.Close()
	f := fetcher(t)
	src := Source{Name: "cert", URL: srv.URL + "/list.txt", Format: FormatList, TLP: intel.TLPGreen, Scope: intel.ScopeShared}
	up, st, err := f.Fetch(context.Background(), src, State{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"domain evil.example", "domain rivm-covid19.example", "url https://who-login.example/owa"}
	if got := values(up.Indicators); !slices.Equal(got, want) {
		t.Errorf("indicators = %q, want %q", got, want)
	}
	if !up.Snapshot || up.Unchanged || up.Skipped != 1 || len(up.SkipExamples) != 1 || up.SkipExamples[0].Item != "line 5" {
		t.Errorf("update = snapshot %v unchanged %v skipped %d %v; want a snapshot with line 5 skipped", up.Snapshot, up.Unchanged, up.Skipped, up.SkipExamples)
	}
	for _, in := range up.Indicators {
		if in.Source != "import cert" || in.TLP != intel.TLPGreen || in.Scope != intel.ScopeShared {
			t.Errorf("indicator %s: source %q tlp %q scope %q, want import cert, green, shared", in.Value, in.Source, in.TLP, in.Scope)
		}
	}
	if st.ETag != `"v1"` {
		t.Errorf("state ETag = %q", st.ETag)
	}
	up, st2, err := f.Fetch(context.Background(), src, st)
	if err != nil {
		t.Fatal(err)
	}
	if !up.Unchanged || len(up.Indicators) != 0 {
		t.Errorf("second fetch: unchanged %v with %d indicators, want unchanged", up.Unchanged, len(up.Indicators))
	}
	if st2.ETag != `"v1"` || st2.ContentHash != st.ContentHash {
		t.Errorf("state after 304 = %+v, want it kept", st2)
	}
	mu.Lock()
	if !slices.Equal(gotINM, []string{"", `"v1"`}) {
		t.Errorf("If-None-Match sent = %q", gotINM)
	}
	mu.Unlock()
	// A State of another URL is not reused.
	src.URL += "?v=2"
	if up, _, err := f.Fetch(context.Background(), src, st); err != nil || up.Unchanged {
		t.Errorf("fetch of another URL with the old state: unchanged %v, err %v; want a full read", up.Unchanged, err)
	}
}

// TestUnchangedContent: a server that ignores conditional requests but
// sends the same body is reported unchanged; a changed body is read.
func TestUnchangedContent(t *testing.T) {
	var mu sync.Mutex
	body := listBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	f := fetcher(t)
	src := Source{Name: "cert", URL: srv.URL, Format: FormatList}
	_, st, err := f.Fetch(context.Background(), src, State{})
	if err != nil {
		t.Fatal(err)
	}
	up, st, err := f.Fetch(context.Background(), src, st)
	if err != nil || !up.Unchanged {
		t.Fatalf("same body: unchanged %v, err %v", up.Unchanged, err)
	}
	mu.Lock()
	body = "new.example\n"
	mu.Unlock()
	up, _, err = f.Fetch(context.Background(), src, st)
	if err != nil || up.Unchanged || !slices.Equal(values(up.Indicators), []string{"domain new.example"}) {
		t.Fatalf("new body: unchanged %v, %q, err %v", up.Unchanged, values(up.Indicators), err)
	}
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGzip: a gzip-encoded answer and a .gz file are both read.
func TestGzip(t *testing.T) {
	gz := gzipped(t, listBody)
	mux := http.NewServeMux()
	mux.HandleFunc("/encoded", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			fmt.Fprint(w, listBody)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gz)
	})
	mux.HandleFunc("/list.txt.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(gz)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "list.txt.gz")
	if err := os.WriteFile(file, gz, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{srv.URL + "/encoded", srv.URL + "/list.txt.gz", file} {
		up, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "gz", URL: u, Format: FormatList}, State{})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		if len(up.Indicators) != 3 || up.Bytes != int64(len(listBody)) {
			t.Errorf("%s: %d indicators from %d bytes, want 3 from %d", u, len(up.Indicators), up.Bytes, len(listBody))
		}
	}
}

// TestTooBig: a body over max_bytes fails naming the limit and the fix,
// also when it only gets that big once decompressed.
func TestTooBig(t *testing.T) {
	big := strings.Repeat("a.example\n", 200)
	bomb := gzipped(t, strings.Repeat("a", 1<<20))
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, big) })
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) { w.Write(bomb) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/big", "/bomb"} {
		_, st, err := fetcher(t).Fetch(context.Background(), Source{Name: "big", URL: srv.URL + path, Format: FormatList, MaxBytes: 1000}, State{ETag: "x"})
		if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "max_bytes (1000 bytes): raise max_bytes") {
			t.Errorf("%s: err = %v, want ErrTooBig naming max_bytes", path, err)
		}
		if st.ETag != "x" {
			t.Errorf("%s: the state changed on error: %+v", path, st)
		}
	}
}

// TestTimeout: a server that never answers, or stops in the middle of the
// body, fails after the source's timeout with a hint.
func TestTimeout(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "a.example\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/hang", "/slow-body"} {
		src := Source{Name: "slow", URL: srv.URL + path, Format: FormatList, Timeout: 50 * time.Millisecond}
		_, _, err := fetcher(t).Fetch(context.Background(), src, State{})
		if err == nil || !strings.Contains(err.Error(), "raise timeout") || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want a timeout naming the fix", path, err)
		}
	}
}

// TestStatus: status codes come back as errors that say what to do, and a
// 429's Retry-After is available to the caller.
func TestStatus(t *testing.T) {
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	mux := http.NewServeMux()
	mux.HandleFunc("/401", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid token\x1b[31m", http.StatusUnauthorized)
	})
	mux.HandleFunc("/404", http.NotFound)
	mux.HandleFunc("/429", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/503", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", now.Add(10*time.Minute).Format(http.TimeFormat))
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/429-huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "99999999999999")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tests := []struct {
		path, token string
		is          error
		want        string
		retry       time.Duration
	}{
		{"/401", "secret", ErrUnauthorized, `401 Unauthorized ("invalid token [31m"): check the token`, 0},
		{"/401", "", ErrUnauthorized, "the server wants credentials", 0},
		{"/404", "", ErrNotFound, "404 Not Found", 0},
		{"/429", "", ErrRateLimited, "retry after 2m0s", 2 * time.Minute},
		{"/503", "", ErrServer, "retry after 10m0s", 10 * time.Minute},
		{"/429-huge", "", ErrRateLimited, "retry after 24h0m0s", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f := &Fetcher{Now: func() time.Time { return now }}
			_, _, err := f.Fetch(context.Background(), Source{Name: "s", URL: srv.URL + tt.path + "?key=hidden", Format: FormatList, Token: tt.token}, State{})
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.is, tt.want)
			}
			if strings.Contains(err.Error(), "hidden") {
				t.Errorf("the error shows the query: %v", err)
			}
			d, ok := RetryAfter(err)
			if d != tt.retry || ok != (tt.retry > 0) {
				t.Errorf("RetryAfter = %v, %v; want %v", d, ok, tt.retry)
			}
		})
	}
}

// TestRedirects: a redirect loop stops with a clear error; a redirect to
// another host does not carry the configured API key header.
func TestRedirects(t *testing.T) {
	var gotKey, gotAuth string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotKey, gotAuth = r.Header.Get("X-Api-Key"), r.Header.Get("Authorization")
		fmt.Fprint(w, "moved.example\n")
	}))
	defer other.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/list", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	_, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "loop", URL: srv.URL + "/loop", Format: FormatList}, State{})
	if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") {
		t.Errorf("loop: err = %v", err)
	}
	src := Source{Name: "away", URL: srv.URL + "/away", Format: FormatList, Headers: map[string]string{"X-Api-Key": "k"}}
	up, _, err := fetcher(t).Fetch(context.Background(), src, State{})
	if err != nil || len(up.Indicators) != 1 {
		t.Fatalf("away: %v, %d indicators", err, len(up.Indicators))
	}
	if gotKey != "" || gotAuth != "" {
		t.Errorf("the other host got X-Api-Key %q, Authorization %q", gotKey, gotAuth)
	}
}

// TestAuthSent: Basic and Bearer credentials and headers reach the server.
func TestAuthSent(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization")+"|"+r.Header.Get("X-Key")+"|"+r.Header.Get("User-Agent"))
		mu.Unlock()
		fmt.Fprint(w, "a.example\n")
	}))
	defer srv.Close()
	f := &Fetcher{UserAgent: "ward-test"}
	for _, src := range []Source{
		{Name: "b", URL: srv.URL, Format: FormatList, Token: "tok"},
		{Name: "u", URL: srv.URL, Format: FormatList, Username: "u", Password: "p", Headers: map[string]string{"X-Key": "k"}},
	} {
		if _, _, err := f.Fetch(context.Background(), src, State{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Bearer tok||ward-test", "Basic dTpw|k|ward-test"}
	if !slices.Equal(got, want) {
		t.Errorf("server saw %q, want %q", got, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-5", 0}, {"30", 30 * time.Second}, {"soon", 0},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(72 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestLocalFiles: lists and bundles are read from paths and file URLs, and
// an unchanged file is recognised.
func TestLocalFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(path, []byte(listBody), 0o644); err != nil {
		t.Fatal(err)
	}
	f := fetcher(t)
	src := Source{Name: "local", URL: "file://" + path, Format: FormatList}
	up, st, err := f.Fetch(context.Background(), src, State{})
	if err != nil || len(up.Indicators) != 3 || !up.Snapshot {
		t.Fatalf("first read: %d indicators, snapshot %v, err %v", len(up.Indicators), up.Snapshot, err)
	}
	up, _, err = f.Fetch(context.Background(), src, st)
	if err != nil || !up.Unchanged {
		t.Fatalf("second read: unchanged %v, err %v", up.Unchanged, err)
	}
	_, _, err = f.Fetch(context.Background(), Source{Name: "gone", URL: filepath.Join(dir, "nope"), Format: FormatList}, State{})
	if err == nil || !strings.Contains(err.Error(), "check the url") {
		t.Errorf("missing file: err = %v", err)
	}
}

// TestMaxIndicators: a snapshot over max_indicators fails with the fix.
func TestMaxIndicators(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "list.txt")
	if err := os.WriteFile(path, []byte(listBody), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := fetcher(t).Fetch(context.Background(), Source{Name: "l", URL: path, Format: FormatList, MaxIndicators: 2}, State{})
	if !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "raise max_indicators") {
		t.Errorf("err = %v", err)
	}
}

// TestDedupe: one indicator per value, the newest version winning, so that
// a revocation followed by a re-publication leaves the value active.
func TestDedupe(t *testing.T) {
	d := func(v string, day int, revoked bool) intel.Indicator {
		return intel.Indicator{Type: intel.TypeDomain, Value: v, LastSeen: time.Date(2020, 3, day, 0, 0, 0, 0, time.UTC), Revoked: revoked}
	}
	got := dedupe([]intel.Indicator{d("a.example", 1, true), d("b.example", 1, false), d("a.example", 2, false),
		d("b.example", 3, true), d("c.example", 1, true), d("c.example", 1, false)})
	want := []string{"domain a.example", "domain c.example", "revoked domain b.example"}
	if !slices.Equal(values(got), want) || len(got) != 3 {
		t.Errorf("dedupe = %q, want %q", values(got), want)
	}
}
