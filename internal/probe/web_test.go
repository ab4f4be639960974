package probe

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// countingServer is an httptest server that counts the requests it saw.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newServer(t *testing.T, tlsOn bool, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	wrapped := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.hits.Add(1)
		h(w, r)
	})
	if tlsOn {
		cs.Server = httptest.NewTLSServer(wrapped)
	} else {
		cs.Server = httptest.NewServer(wrapped)
	}
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) port(t *testing.T) int {
	t.Helper()
	_, p, err := net.SplitHostPort(cs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

func TestWebFetchesBothSchemesAndRecordsHops(t *testing.T) {
	srv := startDNS(t)
	tlsSrv := newServer(t, true, func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "" || !strings.HasPrefix(r.Host, "live.test") {
			http.Error(w, "wrong host "+r.Host, 400)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<title>secure</title>")
	})
	plain := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			http.Redirect(w, r, "/login?x=1", http.StatusFound)
		case "/login":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<title>plain</title>")
		}
	})
	p := testProber(t, srv.addr, func(c *Config) {
		c.AllowPrivateTargets = true
		c.HTTPSPort, c.HTTPPort = tlsSrv.port(t), plain.port(t)
	})
	d := p.DNS(context.Background(), "live.test")
	w := p.Web(context.Background(), "live.test", d)

	if w.HTTPS.Status != 200 || string(w.HTTPS.Body()) != "<title>secure</title>" {
		t.Errorf("https: status %d body %q err %q", w.HTTPS.Status, w.HTTPS.Body(), w.HTTPS.Error)
	}
	if len(w.HTTPS.Hops) != 1 || w.HTTPS.Hops[0].IP != "127.0.0.1" {
		t.Errorf("https hops %+v, want one hop to 127.0.0.1", w.HTTPS.Hops)
	}
	tl := w.HTTPS.TLS
	if tl == nil {
		t.Fatal("no TLS info")
	}
	if !tl.SelfSigned || !tl.NameMismatch || tl.Verifies || tl.Expired {
		t.Errorf("TLS %+v: want self-signed, name mismatch (cert is for example.com), not verifying, not expired", tl)
	}
	if !strings.Contains(strings.Join(tl.SANs, " "), "example.com") {
		t.Errorf("SANs %v", tl.SANs)
	}

	h := w.HTTP.Hops
	if len(h) != 2 || h[0].Status != 302 || !strings.HasSuffix(h[0].Location, "/login?x=1") || h[1].Status != 200 {
		t.Fatalf("http hops %+v, want 302 then 200", h)
	}
	if !strings.HasSuffix(w.HTTP.FinalURL, "/login?x=1") || w.Final() != w.HTTPS {
		t.Errorf("final %q; Final() should prefer live https", w.HTTP.FinalURL)
	}
}

func TestWebCertificateVerifiesWithRoots(t *testing.T) {
	srv := startDNS(t)
	tlsSrv := newServer(t, true, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	pool := x509.NewCertPool()
	pool.AddCert(tlsSrv.Certificate())
	p := testProber(t, srv.addr, func(c *Config) {
		c.AllowPrivateTargets = true
		c.HTTPSPort = tlsSrv.port(t)
		c.RootCAs = pool
	})
	w := p.Web(context.Background(), "example.com", p.DNS(context.Background(), "example.com"))
	if tl := w.HTTPS.TLS; tl == nil || !tl.Verifies || tl.NameMismatch {
		t.Errorf("TLS %+v: want a certificate that verifies for example.com", tl)
	}
}

func TestWebBodyBoundsAndGzip(t *testing.T) {
	srv := startDNS(t)
	page := bytes.Repeat([]byte("<p>hello phishing</p>\n"), 1000) // 22 kB
	plain := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") == "gzip" {
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(page)
			zw.Close()
			return
		}
		w.Write(page)
	})
	for _, limit := range []int64{1000, 1 << 20} {
		p := testProber(t, srv.addr, func(c *Config) {
			c.AllowPrivateTargets = true
			c.HTTPPort = plain.port(t)
			c.MaxBody = limit
		})
		w := p.Web(context.Background(), "live.test", p.DNS(context.Background(), "live.test"))
		want := page[:min(int64(len(page)), limit)]
		if !bytes.Equal(w.HTTP.Body(), want) {
			t.Errorf("limit %d: got %d bytes, want %d decoded bytes", limit, len(w.HTTP.Body()), len(want))
		}
		if w.HTTP.Truncated != (limit < int64(len(page))) {
			t.Errorf("limit %d: truncated = %v", limit, w.HTTP.Truncated)
		}
	}
}

func TestWebRedirectLimit(t *testing.T) {
	srv := startDNS(t)
	plain := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		http.Redirect(w, r, "/"+strconv.Itoa(n+1), http.StatusMovedPermanently)
	})
	p := testProber(t, srv.addr, func(c *Config) {
		c.AllowPrivateTargets = true
		c.HTTPPort = plain.port(t)
		c.MaxRedirects = 3
	})
	w := p.Web(context.Background(), "live.test", p.DNS(context.Background(), "live.test"))
	if len(w.HTTP.Hops) != 4 || !strings.Contains(w.HTTP.Error, "MaxRedirects") {
		t.Errorf("hops %d error %q, want 4 hops and a MaxRedirects error", len(w.HTTP.Hops), w.HTTP.Error)
	}
	if plain.hits.Load() != 4 {
		t.Errorf("server saw %d requests, want 4", plain.hits.Load())
	}
}

// TestGuardRefusesNames checks that a name resolving to a forbidden address
// is never dialled: the server listening there sees no request.
func TestGuardRefusesNames(t *testing.T) {
	srv := startDNS(t)
	target := newServer(t, false, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secret") })
	tests := []struct{ name, class string }{
		{"live.test", "loopback"}, // 127.0.0.1, where target listens, and ::1
		{"v6.test", "loopback"},
		{"mapped.test", "loopback"},
		{"private.test", "private"},
		{"meta.test", "metadata"},
	}
	p := testProber(t, srv.addr, func(c *Config) { c.HTTPPort, c.HTTPSPort = target.port(t), target.port(t) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := p.Web(context.Background(), tt.name, p.DNS(context.Background(), tt.name))
			for _, f := range []*Fetch{w.HTTP, w.HTTPS} {
				if !f.Refused || len(f.Hops) != 1 || f.Hops[0].Refused != tt.class || f.Status != 0 {
					t.Errorf("%s: refused %v hops %+v, want one hop refused as %s", f.URL, f.Refused, f.Hops, tt.class)
				}
			}
			if w.Final() != nil {
				t.Error("a refused fetch counts as live")
			}
		})
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("the forbidden server saw %d requests", n)
	}
}

// TestGuardRefusesRedirects stands a loopback server in for a public one
// (the only address the guard lets through) and makes it redirect to each
// forbidden target; the target server must see no request.
func TestGuardRefusesRedirects(t *testing.T) {
	srv := startDNS(t)
	inner := newServer(t, false, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "internal") })
	ip := inner.port(t)
	tests := []struct{ location, class string }{
		{fmt.Sprintf("http://127.0.0.1:%d/", ip), "loopback"},
		{fmt.Sprintf("http://[::1]:%d/", ip), "loopback"},
		{fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", ip), "loopback"},
		{fmt.Sprintf("http://2130706433:%d/", ip), "loopback"},
		{fmt.Sprintf("http://0x7f.1:%d/", ip), "loopback"},
		{fmt.Sprintf("http://0177.0.0.1:%d/admin", ip), "loopback"},
		{fmt.Sprintf("http://rebind.test:%d/", ip), "loopback"}, // DNS says 127.0.0.1
		{"http://169.254.169.254/latest/meta-data/", "metadata"},
		{"http://[fd00:ec2::254]/", "metadata"},
		{"http://10.0.0.1/", "private"},
		{"http://100.64.0.1/", "cgnat"},
		{"http://[64:ff9b::7f00:1]/", "nat64_loopback"},
		{"http://example.org:25/", "port"},
		{"ftp://example.org/", "scheme"},
		{"file:///etc/passwd", "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.location, func(t *testing.T) {
			public := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", tt.location)
				w.WriteHeader(http.StatusFound)
			})
			p := testProber(t, srv.addr, func(c *Config) { c.HTTPPort = public.port(t) })
			p.testExempt = netip.MustParseAddrPort(public.Listener.Addr().String())
			w := p.Web(context.Background(), "live.test", p.DNS(context.Background(), "live.test"))
			h := w.HTTP.Hops
			if len(h) != 2 || h[0].Status != 302 || h[1].Refused != tt.class || !w.HTTP.Refused {
				t.Errorf("hops %+v, want a 302 then a hop refused as %s", h, tt.class)
			}
			if public.hits.Load() != 1 {
				t.Errorf("public server saw %d requests, want 1", public.hits.Load())
			}
		})
	}
	if n := inner.hits.Load(); n != 0 {
		t.Fatalf("the internal server saw %d requests", n)
	}
}

func TestGuardRecordsNonStandardPort(t *testing.T) {
	srv := startDNS(t)
	other := newServer(t, false, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<title>x</title>") })
	public := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/", http.StatusFound)
	})
	p := testProber(t, srv.addr, func(c *Config) { c.HTTPPort = public.port(t); c.AllowPrivateTargets = true })
	w := p.Web(context.Background(), "live.test", p.DNS(context.Background(), "live.test"))
	if h := w.HTTP.Hops; len(h) != 2 || !h[1].NonStandardPort || h[1].Status != 200 {
		t.Errorf("hops %+v, want the second hop on a non-standard port, fetched", h)
	}
}

func TestGuardErrorNamesTheFix(t *testing.T) {
	err := error(guardError("127.0.0.1:80", "loopback"))
	if !errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), "AllowPrivateTargets") {
		t.Errorf("error %q", err)
	}
}
