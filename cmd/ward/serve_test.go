package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ward-health/ward/internal/ct/cttest"
	"github.com/ward-health/ward/internal/mail/bayes"
)

// ward serve, end to end: it follows a CT log, records the look-alike it
// logs, answers the API with the generated token, serves metrics, and
// stops cleanly.
func TestServe(t *testing.T) {
	log, err := cttest.New(cttest.Static)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for _, n := range []string{"www.example.com", "rivm-coronatest.nl"} {
		if err := log.Add([]string{n}, false); err != nil {
			t.Fatal(err)
		}
	}
	log.Publish()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`organisations:
  - name: demo
    brands: [{name: RIVM, domains: [rivm.nl], keywords: [coronatest]}]
    mail_learning: demo.learn
sources:
  ct:
    log_list: none
    logs: [{url: %q, key: %q, type: static}]
    start: start
    poll: 100ms
enrichment:
  resolvers: ["127.0.0.1:9"]
  timeout: 1s
storage:
  path: %q
api:
  listen: 127.0.0.1:0
`, log.URL(), log.Key(), filepath.Join(dir, "ward.db"))
	base, stderr, stop := startServe(t, dir, cfg, "")
	defer stop()
	deadline := time.Now().Add(20 * time.Second)
	tok, err := os.ReadFile(filepath.Join(dir, "data", "tokens", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, auth bool) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	for time.Now().Before(deadline) && !strings.Contains(body, "rivm-coronatest.nl") {
		_, body = get("/api/v1/findings", true)
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, `"domain":"rivm-coronatest.nl"`) || strings.Contains(body, "example.com") {
		t.Fatalf("findings: %s\nlog:\n%s", body, stderr.String())
	}
	if code, _ := get("/api/v1/findings", false); code != http.StatusUnauthorized {
		t.Errorf("findings without a token: %d", code)
	}
	if code, m := get("/metrics", false); code != 200 || !strings.Contains(m, "ward_engine_findings_created_total 1") || !strings.Contains(m, "ward_ct_entries_total") ||
		!strings.Contains(m, `ward_feed_indicators{org="demo"} 0`) {
		t.Errorf("metrics: %d\n%s", code, m)
	}
	if code, h := get("/healthz", false); code != 200 || !strings.Contains(h, `"ok"`) {
		t.Errorf("health: %d %s", code, h)
	}

	// Staff report a phishing mail: it is judged, its look-alike link and
	// sender become indicators, and the organisation's zone blocks them.
	msg := "From: RIVM <info@rivm-coronatest.nl>\r\nTo: a@umc.example\r\nSubject: Uw coronatest uitslag\r\n" +
		"Content-Type: text/html\r\n\r\n<p>Uw COVID-19 testuitslag staat klaar. Log in met uw wachtwoord:</p>" +
		"<a href=\"https://rivm-coronatest.nl/login\">https://www.rivm.nl/uitslag</a>\r\n"
	req, _ := http.NewRequest("POST", base+"/api/v1/mail", strings.NewReader(msg))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"verdict":"phishing"`) || !strings.Contains(string(b), `"value":"https://rivm-coronatest.nl/login"`) {
		t.Errorf("mail: %d %s", resp.StatusCode, b)
	}
	// TAXII serves a change once it is 2 s old (a settle window).
	var col string
	code := 0
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !strings.Contains(col, "rivm-coronatest.nl/login"); {
		time.Sleep(200 * time.Millisecond)
		code, col = get("/taxii2/ward/collections/demo/objects/?match[type]=indicator", true)
	}
	if code != 200 || !strings.Contains(col, "[url:value = 'https://rivm-coronatest.nl/login']") {
		t.Errorf("taxii: %d\n%s", code, col)
	}
	if code, zone := get("/feeds/rpz", true); code != 200 || !strings.Contains(zone, "\nrivm-coronatest.nl.demo.rpz.ward.invalid. IN CNAME .\n") || strings.Contains(zone, "rivm.nl.demo") {
		t.Errorf("zone: %d\n%s", code, zone)
	}
	// The analyst confirms it: the organisation's learning file holds it.
	req, _ = http.NewRequest("POST", base+"/api/v1/mail/learn?as=spam", strings.NewReader(msg))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"outcome":"learned"`) || !strings.Contains(string(b), `"spam":1`) {
		t.Errorf("learn: %d %s", resp.StatusCode, b)
	}
	if l, err := bayes.ReadLearningFile(filepath.Join(dir, "demo.learn")); err != nil {
		t.Errorf("learning file: %v", err)
	} else if s, h, _ := l.Size(); s != 1 || h != 0 {
		t.Errorf("learning file holds %d spam, %d ham; want 1, 0", s, h)
	}
	if code, m := get("/metrics", false); code != 200 || !strings.Contains(m, "ward_engine_mail_learned_total 1") ||
		!strings.Contains(m, `ward_mail_learning_messages{class="spam",org="demo"} 1`) || !strings.Contains(m, `ward_mail_learning_messages{class="ham",org="demo"} 0`) {
		t.Errorf("metrics after learning: %d", code)
	}
}

// With its sources unreachable (no internet), ward serve reports their
// errors, retries, and keeps answering.
func TestServeSourcesDown(t *testing.T) {
	dir := t.TempDir()
	cfg := fmt.Sprintf(`organisations:
  - name: demo
    tokens: ["sources-down-token-0123456789"]
    brands: [{name: RIVM, domains: [rivm.nl]}]
sources:
  ct:
    log_list: none
    logs: [{url: "http://127.0.0.1:9/log/", key: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjicnerZVCXTrbEuUhGW85BXx6lrYfA43zro/bAna5ymW00VQb94etBzSg4j/KS/Oqf/fNN51D8DMGA2ULvw3AQ==", type: static}]
  nrd:
    - {name: feed, url: "http://127.0.0.1:9/nrd.txt", every: 1m}
enrichment:
  resolvers: ["127.0.0.1:9"]
storage:
  path: %q
api:
  listen: 127.0.0.1:0
`, filepath.Join(dir, "ward.db"))
	base, stderr, stop := startServe(t, dir, cfg, `"stage":"nrd feed"`)
	defer stop()
	if !strings.Contains(stderr.String(), "stage failed; retrying") {
		t.Fatalf("no retried source in the log:\n%s", stderr.String())
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("health with the sources down: %d", resp.StatusCode)
	}
}

// startServe runs ward serve in-process on the configuration text cfg,
// with its data in dir, until the log holds until (when not "") and the
// API's address; stop ends it and fails the test on a non-zero exit.
func startServe(t *testing.T, dir, cfg, until string) (base string, stderr *lockedBuffer, stop func()) {
	t.Helper()
	path := filepath.Join(dir, "ward.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr = &lockedBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, e, []string{"serve", "-config", path, "-data", filepath.Join(dir, "data")}) }()
	stop = func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	}
	apiRE := regexp.MustCompile(`"api":"(http://127\.0\.0\.1:\d+)/api/v1/"`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := apiRE.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), until) {
			return m[1], stderr, stop
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	t.Fatalf("ward serve did not log its API address and %q in 20 s:\n%s", until, stderr.String())
	return "", nil, nil
}

// SIGUSR1 turns debug logging on in a running daemon; SIGUSR2 turns it off.
func TestLevelSignals(t *testing.T) {
	lv := new(slog.LevelVar)
	lv.Set(slog.LevelInfo)
	var buf lockedBuffer
	stop := levelSignals(lv, slog.LevelInfo, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: lv})))
	defer stop()
	wait := func(want slog.Level) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for lv.Level() != want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if lv.Level() != want {
			t.Fatalf("level %v, want %v", lv.Level(), want)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	wait(slog.LevelDebug)
	syscall.Kill(os.Getpid(), syscall.SIGUSR2)
	wait(slog.LevelInfo)
	if !strings.Contains(buf.String(), "level=DEBUG") {
		t.Errorf("the change was not logged: %s", buf.String())
	}
}

// With feeds.rpz.dns.listen, ward serve answers zone transfers of each
// organisation's zone signed with that organisation's key only.
func TestServeRPZTransfer(t *testing.T) {
	dir := t.TempDir()
	const secretA, secretB = "c2VjcmV0LWtleS1vZi11bWMtYS0wMTIzNDU2Nzg5", "c2VjcmV0LWtleS1vZi11bWMtYi0wMTIzNDU2Nzg5"
	cfg := fmt.Sprintf(`organisations:
  - name: umc-a
    tokens: ["umc-a-token-0123456789"]
    brands: [{name: RIVM, domains: [rivm.nl]}]
    rpz_key: key-a
  - name: umc-b
    tokens: ["umc-b-token-0123456789"]
    brands: [{name: WHO, domains: [who.int]}]
    rpz_key: key-b
sources:
  ct: {enabled: false}
feeds:
  rpz:
    origin: rpz.test
    dns:
      listen: 127.0.0.1:0
      keys:
        - {name: key-a, secret: %q}
        - {name: key-b, secret: %q}
    block_page: {listen: "127.0.0.1:0", org: umc-a, title: UMC A security}
storage:
  path: %q
api:
  listen: 127.0.0.1:0
`, secretA, secretB, filepath.Join(dir, "ward.db"))
	if err := os.WriteFile(filepath.Join(dir, "ward.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// An analyst's indicator, recorded before the start.
	var out lockedBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if code := run(context.Background(), e, []string{"ioc", "add", "-config", filepath.Join(dir, "ward.yaml"), "-org", "umc-a", "-scope", "private", "rivm-afspraak.nl"}); code != 0 {
		t.Fatalf("ioc add: %d %s", code, out.String())
	}
	_, stderr, stop := startServe(t, dir, cfg, "rpz: serving zone transfers")
	defer stop()
	addr := regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"`).FindStringSubmatch(stderr.String())
	if addr == nil {
		t.Fatalf("no DNS address in the log:\n%s", stderr.String())
	}
	axfr := func(zone, key, secret string) ([]dns.RR, error) {
		m := new(dns.Msg)
		m.SetAxfr(zone)
		m.SetTsig(key+".", dns.HmacSHA256, 300, time.Now().Unix())
		tr := &dns.Transfer{TsigSecret: map[string]string{key + ".": secret}, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second}
		ch, err := tr.In(m, addr[1])
		if err != nil {
			return nil, err
		}
		var rrs []dns.RR
		for env := range ch {
			if env.Error != nil {
				return rrs, env.Error
			}
			rrs = append(rrs, env.RR...)
		}
		return rrs, nil
	}
	var rrs []dns.RR
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if rrs, err = axfr("umc-a.rpz.test.", "key-a", secretA); err == nil {
			break
		}
	}
	var zone strings.Builder
	for _, rr := range rrs {
		zone.WriteString(rr.String() + "\n")
	}
	if err != nil || !strings.Contains(zone.String(), "rivm-afspraak.nl.umc-a.rpz.test.\t300\tIN\tCNAME\t.") {
		t.Fatalf("umc-a's zone (%v):\n%s", err, zone.String())
	}
	if rrs, err := axfr("umc-a.rpz.test.", "key-b", secretB); err == nil && len(rrs) > 0 {
		t.Errorf("umc-b's key transferred umc-a's zone: %d records", len(rrs))
	}
	// The zones are published one after the other: until umc-b's is,
	// its transfer is refused with SERVFAIL.
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if rrs, err = axfr("umc-b.rpz.test.", "key-b", secretB); err == nil {
			break
		}
	}
	if err != nil || len(rrs) == 0 || strings.Contains(fmt.Sprint(rrs), "rivm-afspraak") {
		t.Errorf("umc-b's zone: %v %v", rrs, err)
	}
	// The block page explains a blocked name to whoever lands on it.
	bp := regexp.MustCompile(`"msg":"rpz: serving the block page","addr":"(127\.0\.0\.1:\d+)"`).FindStringSubmatch(stderr.String())
	if bp == nil {
		t.Fatalf("no block page address in the log:\n%s", stderr.String())
	}
	req, _ := http.NewRequest("GET", "http://"+bp[1]+"/login", nil)
	req.Host = "www.rivm-afspraak.nl"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(page), "www.rivm-afspraak.nl</code> is blocked by UMC A security") {
		t.Errorf("block page: %d\n%s", resp.StatusCode, page)
	}
}
