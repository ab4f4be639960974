package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// The commented example in the repository is a valid configuration.
func TestExampleParses(t *testing.T) {
	path := filepath.Join("..", "..", "examples", "ward.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(path, data, env(map[string]string{
		"WARD_UMC_TOKEN": "0123456789abcdef0123", "WARD_HOOK_ID": "abc", "WARD_SMTP_PASSWORD": "s3cr$t",
		"WARD_RPZ_SECRET": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0Cg==",
	}))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Organisations[0]
	if o.Tokens[0] != "0123456789abcdef0123" || c.Alerts.Sinks[1].Password != "s3cr$t" || c.Alerts.Sinks[0].URL != "https://chat.example.org/hooks/abc" {
		t.Errorf("environment not expanded: %+v / %+v", o.Tokens, c.Alerts.Sinks)
	}
	// The brands file's brands and the inline one.
	if n := len(o.BrandSet.Brands); n < 50 || o.BrandSet.Brands[n-1].Name != "UMC Example" {
		t.Errorf("%d brands, last %q", n, o.BrandSet.Brands[n-1].Name)
	}
	if c.Sources.NRD[0].Every != time.Hour || c.Scoring.RecheckMax != 168*time.Hour || !c.Sources.CT.On() {
		t.Errorf("durations or defaults: %+v %+v", c.Sources, c.Scoring)
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	var probs []string
	c.check(func(path, msg string) { probs = append(probs, path+": "+msg) })
	if len(probs) > 0 {
		t.Fatalf("the default configuration does not pass its own checks: %v", probs)
	}
	if c.Storage.Driver != "sqlite" || c.Storage.Path != "ward-data/ward.db" || c.API.Listen != "127.0.0.1:8080" ||
		len(c.Organisations) != 1 || len(c.Organisations[0].BrandSet.Brands) < 50 || !c.Sources.CT.On() || c.Enrichment.AllowPrivateTargets {
		t.Errorf("default = %+v", c)
	}
}

// Each mistake is reported with its line, its field and a fix.
func TestProblems(t *testing.T) {
	const base = "organisations:\n  - name: demo\n    brands: [{name: X, domains: [x.example]}]\n"
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"empty", "", nil, "c.yaml: the file is empty"},
		{"not yaml", "organisations: [", nil, "c.yaml:1: did not find expected node content"},
		{"unknown field", base + "enrichment:\n  concurency: 4\n", nil, `c.yaml:5: unknown field "concurency" (in enrichment)`},
		{"wrong type", base + "enrichment:\n  concurrency: many\n", nil, "c.yaml:5: cannot unmarshal !!str `many` into int"},
		{"no organisation", "api:\n  listen: 127.0.0.1:8080\n", nil, "c.yaml: organisations: no organisation"},
		{"bad org name", "organisations:\n  - name: UMC Utrecht\n    brands: [{name: X, domains: [x.example]}]\n", nil,
			`c.yaml:2: organisations[0].name: "UMC Utrecht" is not a name`},
		{"no brands", "organisations:\n  - name: demo\n", nil, "c.yaml:2: organisations[0]: no brands"},
		{"bad brand", "organisations:\n  - name: demo\n    brands: [{name: X, domains: [\"http://x\"]}]\n", nil, "c.yaml:3: organisations[0].brands[0]:"},
		{"missing brands file", "organisations:\n  - name: demo\n    brands_file: nope.yaml\n", nil, "c.yaml:3: organisations[0].brands_file: reading brands:"},
		{"unset env", base + "storage:\n  driver: postgres\n  dsn: ${WARD_DSN}\n", nil, "c.yaml:6: storage.dsn: environment variable WARD_DSN is not set"},
		{"lone dollar", base + "storage:\n  driver: postgres\n  dsn: pa$word\n", nil, `c.yaml:6: storage.dsn: a lone "$"`},
		{"short token", "organisations:\n  - name: demo\n    tokens: [\"${T}\"]\n    brands: [{name: X, domains: [x.example]}]\n", map[string]string{"T": "short"},
			"c.yaml:3: organisations[0].tokens[0]: shorter than 16 characters"},
		{"unknown sink", base + "    alerts: [pager]\n", nil, `c.yaml:4: organisations[0].alerts[0]: no sink named "pager"`},
		{"sink type", base + "alerts:\n  sinks:\n    - {name: a, type: pager}\n", nil, `c.yaml:6: alerts.sinks[0]: alert sink: type "pager" is unknown: use webhook, smtp or syslog`},
		{"webhook url", base + "alerts:\n  sinks:\n    - {name: a, type: webhook, url: \"ftp://x\"}\n", nil, `alerts.sinks[0]: alert sink "a": webhook: url "ftp://x" is not an http(s) URL`},
		{"smtp starttls", base + "alerts:\n  sinks:\n    - {name: a, type: smtp, addr: \"m:25\", from: a@b, to: [c@d], starttls: maybe}\n", nil, `alerts.sinks[0]: alert sink "a": smtp: starttls "maybe" is unknown`},
		{"thresholds", base + "scoring:\n  suspicious: 90\n  malicious: 80\n", nil, "c.yaml:4: scoring: suspicious 90 and malicious 80"},
		{"feeds scope", base + "feeds:\n  scope: public\n", nil, `c.yaml:5: feeds.scope: "public": use shared or private`},
		{"ct start", base + "sources:\n  ct:\n    start: yesterday\n", nil, `c.yaml:6: sources.ct.start: "yesterday": use now or start`},
		{"nrd both", base + "sources:\n  nrd:\n    - {url: \"https://x/\", file: y}\n", nil, "c.yaml:6: sources.nrd[0]: give exactly one of url and file"},
		{"resolver", base + "enrichment:\n  resolvers: [\"9.9.9.9\"]\n", nil, `enrichment.resolvers[0]: "9.9.9.9" is not host:port`},
		{"postgres without dsn", base + "storage:\n  driver: postgres\n", nil, "storage.dsn: missing"},
		{"listen", base + "api:\n  listen: 8080\n", nil, `c.yaml:5: api.listen: "8080" is not host:port`},
		{"export tlp", base + "feeds:\n  export_tlp: red\n", nil, `c.yaml:5: feeds.export_tlp: "red": use clear, green, amber or amber+strict (red is never exported)`},
		{"mail verdict", base + "feeds:\n  mail_verdicts: [spam]\n", nil, `feeds.mail_verdicts[0]: "spam": use malicious, phishing or suspicious`},
		{"top list", base + "feeds:\n  warninglist:\n    top_lists: [nope.csv]\n", nil, "c.yaml:6: feeds.warninglist.top_lists[0]:"},
		{"rpz origin", base + "feeds:\n  rpz:\n    origin: \"bad origin\"\n", nil, "c.yaml:6: feeds.rpz.origin:"},
		{"tsig secret", base + "feeds:\n  rpz:\n    dns:\n      keys: [{name: k, secret: \"c2hvcnQ=\"}]\n", nil, "feeds.rpz.dns.keys[0].secret: not base64 of at least 16 bytes"},
		{"rpz key", base + "    rpz_key: nope\n", nil, `organisations[0].rpz_key: no key named "nope"`},
		{"unsigned prefix", base + "feeds:\n  rpz:\n    dns:\n      allow_unsigned: [localhost]\n", nil, `feeds.rpz.dns.allow_unsigned[0]: "localhost" is not an address prefix`},
		{"import format", base + "feeds:\n  imports:\n    - {name: cert, url: \"https://x/\", format: csv}\n", nil, `c.yaml:6: feeds.imports[0].format: "csv": use misp, stix, taxii or list`},
		{"taxii collection", base + "feeds:\n  imports:\n    - {name: cert, url: \"https://x/\", format: taxii}\n", nil, "feeds.imports[0].collection: missing"},
		{"import org", base + "feeds:\n  imports:\n    - {name: cert, url: \"https://x/\", format: list, org: other}\n", nil, `feeds.imports[0].org: no organisation named "other"`},
		{"block page", base + "feeds:\n  rpz:\n    block_page: {listen: \"80\"}\n", nil, `feeds.rpz.block_page.listen: "80" is not host:port`},
		{"block page org", base + "feeds:\n  rpz:\n    block_page: {listen: \":80\", org: nope}\n", nil, `feeds.rpz.block_page.org: no organisation named "nope"`},
		{"trusted receiver", base + "    trusted_receivers: [\"mx umc\"]\n", nil, `organisations[0].trusted_receivers[0]: "mx umc" is not an authserv-id`},
		{"learning directory", base + "    mail_learning: nope/demo.learn\n", nil, "c.yaml:4: organisations[0].mail_learning: the directory"},
		{"import every", base + "feeds:\n  imports:\n    - {name: cert, url: l.txt, format: list, every: 1s}\n", nil, "feeds.imports[0].every: 1s is too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(tc.yaml), env(tc.env))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *config.Error", err)
			}
			got := err.Error()
			if i := strings.Index(got, "c.yaml"); i >= 0 {
				got = got[i:]
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("error:\n%s\nwant it to contain\n%s", got, tc.want)
			}
		})
	}
}

// TestMailLearning checks organisations[].mail_learning: relative to the
// configuration file, one file per organisation, and a damaged file
// refused at load with the reason.
func TestMailLearning(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "c.yaml")
	two := "organisations:\n  - name: a\n    brands: [{name: X, domains: [x.example]}]\n    mail_learning: a.learn\n" +
		"  - name: b\n    brands: [{name: X, domains: [x.example]}]\n    mail_learning: %s\n"
	c, err := Parse(name, []byte(fmt.Sprintf(two, "b.learn")), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Organisations[0].MailLearning; got != filepath.Join(dir, "a.learn") {
		t.Errorf("mail_learning = %s, want it next to the configuration", got)
	}
	if _, err := Parse(name, []byte(fmt.Sprintf(two, filepath.Join(dir, "a.learn"))), env(nil)); err == nil || !strings.Contains(err.Error(), "organisations[1].mail_learning: the same file as organisations[0]") {
		t.Errorf("a shared file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.learn"), []byte("not a learning"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(name, []byte(fmt.Sprintf(two, "b.learn")), env(nil)); err == nil || !strings.Contains(err.Error(), "c.yaml:7: organisations[1].mail_learning") || !strings.Contains(err.Error(), "not a valid learning file") {
		t.Errorf("a damaged file: %v", err)
	}
}

// Several problems are all reported at once, in file order.
func TestProblemsTogether(t *testing.T) {
	_, err := Parse("c.yaml", []byte("organisations:\n  - name: Bad Name\n    brands: [{name: X, domains: [x.example]}]\napi:\n  listen: nope\nscoring:\n  suspicious: 0\n  malicious: 200\n"), env(nil))
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 3 || ce.Problems[0].Line != 2 || ce.Problems[1].Line != 5 || ce.Problems[2].Line != 6 {
		t.Fatalf("problems = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("organisations:\n  - name: demo\n    brands: [{name: X, domains: [x.example]}]\n"))
	f.Add([]byte("alerts:\n  sinks:\n    - {name: a, type: webhook, url: \"${X}\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data, env(map[string]string{"X": "https://x/"}))
		if err == nil && (len(c.Organisations) == 0 || c.Organisations[0].BrandSet == nil) {
			t.Fatalf("accepted a configuration without brands: %q", data)
		}
	})
}
