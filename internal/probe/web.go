package probe

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Hop is one request of a fetch: the first one, or one made to follow a
// redirect.
type Hop struct {
	// URL is the URL requested (at most 2048 bytes).
	URL string `json:"url"`
	// Status is the HTTP status code; 0 when no response came.
	Status int `json:"status,omitempty"`
	// Location is the redirect target as the server wrote it.
	Location string `json:"location,omitempty"`
	// IP is the address connected to.
	IP string `json:"ip,omitempty"`
	// NonStandardPort is set when the URL names a port other than 80 and
	// 443 (allowed only after a redirect, on a public address).
	NonStandardPort bool `json:"non_standard_port,omitempty"`
	// Refused names the guard class that stopped this hop before any
	// connection ("loopback", "metadata", "port", "scheme", ...).
	Refused string `json:"refused,omitempty"`
	// Error says why the hop failed.
	Error string `json:"error,omitempty"`
}

// TLSInfo describes the certificate a server presented. The fetch does
// not verify it (a phishing site's certificate is evidence, not a reason
// to stop), but records whether it would verify.
type TLSInfo struct {
	// Version is the TLS version negotiated ("TLS 1.3").
	Version string `json:"version"`
	// Subject and Issuer are the leaf's distinguished names.
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// SANs are the leaf's DNS names and IP addresses, at most 64.
	SANs []string `json:"sans,omitempty"`
	// NotBefore and NotAfter bound the leaf's validity.
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// SHA256 is the hex SHA-256 of the leaf's DER encoding.
	SHA256 string `json:"sha256"`
	// SelfSigned is set when the leaf is signed by its own key.
	SelfSigned bool `json:"self_signed"`
	// Expired and NotYetValid compare the validity with the fetch time.
	Expired     bool `json:"expired"`
	NotYetValid bool `json:"not_yet_valid,omitempty"`
	// NameMismatch is set when the leaf does not cover the host asked.
	NameMismatch bool `json:"name_mismatch"`
	// Verifies is set when the chain verifies against the roots (system
	// roots unless Config.RootCAs) for the host asked; VerifyError says
	// why not.
	Verifies    bool   `json:"verifies"`
	VerifyError string `json:"verify_error,omitempty"`
}

// Fetch is the result of fetching one start URL and following its
// redirects.
type Fetch struct {
	// URL is the start URL, "https://name/" or "http://name/".
	URL string `json:"url"`
	// Hops are the requests made, in order, the first one included.
	Hops []Hop `json:"hops"`
	// FinalURL is the URL of the last response.
	FinalURL string `json:"final_url,omitempty"`
	// Status is the status code of the last response; 0 when none.
	Status int `json:"status,omitempty"`
	// ContentType and ContentDisposition are the last response's headers.
	ContentType        string `json:"content_type,omitempty"`
	ContentDisposition string `json:"content_disposition,omitempty"`
	// Attachment is set when Content-Disposition says "attachment".
	Attachment bool `json:"attachment,omitempty"`
	// BodyBytes is the number of body bytes kept (after gzip decoding);
	// BodySHA256 their hex SHA-256.
	BodyBytes  int    `json:"body_bytes"`
	BodySHA256 string `json:"body_sha256,omitempty"`
	// Truncated is set when the body was longer than MaxBody.
	Truncated bool `json:"truncated,omitempty"`
	// TLS is the certificate of the first HTTPS hop.
	TLS *TLSInfo `json:"tls,omitempty"`
	// Refused is set when the guard stopped a hop.
	Refused bool `json:"refused,omitempty"`
	// Error says why the fetch ended without a final response, or why
	// its body is incomplete.
	Error string `json:"error,omitempty"`

	body []byte
}

// Body returns the body of the last response, at most MaxBody bytes.
func (f *Fetch) Body() []byte {
	if f == nil {
		return nil
	}
	return f.body
}

// Live reports whether the fetch ended with a response that is not an
// error (status 200 to 399).
func (f *Fetch) Live() bool { return f != nil && f.Status >= 200 && f.Status < 400 }

// WebResult is the outcome of fetching a name over HTTPS and HTTP.
type WebResult struct {
	HTTPS *Fetch `json:"https"`
	HTTP  *Fetch `json:"http"`
}

// Final returns the fetch whose page is analysed: HTTPS when it is live,
// else HTTP when it is live, else nil.
func (w WebResult) Final() *Fetch {
	switch {
	case w.HTTPS.Live():
		return w.HTTPS
	case w.HTTP.Live():
		return w.HTTP
	}
	return nil
}

// webSession is the state of one Web call: the addresses DNS gave for the
// name, and a client whose every connection goes through the guard.
type webSession struct {
	p      *Prober
	name   string
	addrs  []netip.Addr
	client *http.Client
}

func (p *Prober) newSession(name string, addrs []netip.Addr) *webSession {
	s := &webSession{p: p, name: name, addrs: addrs}
	tr := &http.Transport{
		Proxy:                  nil, // never: a proxy would dial for us, past the guard
		DialContext:            s.dial,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}, //nolint:gosec // certificates are recorded and verified separately
		TLSHandshakeTimeout:    p.cfg.FetchTimeout,
		ResponseHeaderTimeout:  p.cfg.FetchTimeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableKeepAlives:      true,
		DisableCompression:     true,
	}
	s.client = &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s
}

func (s *webSession) close() { s.client.CloseIdleConnections() }

// dial connects to one of host's addresses. Host is an IP literal (in any
// form browsers accept), the probed name (whose addresses DNS already
// gave: no second resolution, so no rebinding) or a redirect target,
// resolved with the prober's own DNS client. Every address is checked by
// the guard before the dial and again by the dialer's Control function on
// the socket's actual peer.
func (s *webSession) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", portStr)
	}
	var ips []netip.Addr
	if ip, ok := parseHostIP(host); ok {
		ips = []netip.Addr{ip}
	} else if strings.EqualFold(strings.TrimSuffix(host, "."), s.name) {
		ips = s.addrs
	} else {
		ips = s.p.resolve(ctx, host)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("no address for %s", host)
	}
	d := &net.Dialer{Timeout: s.p.cfg.FetchTimeout, Control: s.p.control}
	var errs []error
	for _, ip := range ips {
		ap := netip.AddrPortFrom(ip.WithZone(""), uint16(port))
		if c := s.p.refusal(ap); c != "" {
			errs = append(errs, guardError(ap.String(), c))
			continue
		}
		conn, err := d.DialContext(ctx, network, ap.String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// resolve returns the A and AAAA addresses of a redirect target.
func (p *Prober) resolve(ctx context.Context, host string) []netip.Addr {
	n, ok := normalizeName(host)
	if !ok {
		return nil
	}
	var out []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		rrs, _, _ := p.lookup(ctx, n, t)
		for _, s := range addrStrings(rrs) {
			if a, err := netip.ParseAddr(s); err == nil {
				out = append(out, a)
			}
		}
	}
	return out
}

// Web fetches https://name/ and http://name/, following redirects, and
// records each hop, the certificate and the final body. It connects only to
// the addresses in dns (and, after a redirect to another host, to the
// addresses the prober's DNS client finds for it), through the guard.
func (p *Prober) Web(ctx context.Context, name string, d DNSResult) WebResult {
	n, ok := normalizeName(name)
	httpsURL := startURL("https", n, p.cfg.HTTPSPort, 443)
	httpURL := startURL("http", n, p.cfg.HTTPPort, 80)
	res := WebResult{HTTPS: &Fetch{URL: httpsURL}, HTTP: &Fetch{URL: httpURL}}
	if !ok {
		res.HTTPS.Error, res.HTTP.Error = "not a valid DNS name", "not a valid DNS name"
		return res
	}
	addrs := d.Addrs()
	if len(addrs) == 0 {
		res.HTTPS.Error, res.HTTP.Error = "no address in DNS", "no address in DNS"
		return res
	}
	s := p.newSession(n, addrs)
	defer s.close()
	var wg sync.WaitGroup
	wg.Go(func() { res.HTTPS = s.fetch(ctx, httpsURL, p.cfg.MaxBody) })
	wg.Go(func() { res.HTTP = s.fetch(ctx, httpURL, p.cfg.MaxBody) })
	wg.Wait()
	return res
}

func startURL(scheme, name string, port, def int) string {
	if port == def {
		return scheme + "://" + name + "/"
	}
	return scheme + "://" + net.JoinHostPort(name, strconv.Itoa(port)) + "/"
}

// checkURL applies the guard's URL rules to a hop before any connection:
// http or https only, no bad port, no forbidden IP literal. It returns the
// refusal class, or "".
func (s *webSession) checkURL(u *url.URL, h *Hop) string {
	if u.Scheme != "http" && u.Scheme != "https" {
		return "scheme"
	}
	if u.Hostname() == "" {
		return "no_host"
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if ps := u.Port(); ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > 65535 {
			return "port"
		}
		port = n
		cfg := s.p.cfg
		if port != 80 && port != 443 && port != cfg.HTTPPort && port != cfg.HTTPSPort {
			h.NonStandardPort = true
		}
	}
	if ip, ok := parseHostIP(u.Hostname()); ok {
		return s.p.refusal(netip.AddrPortFrom(ip, uint16(port)))
	}
	if !s.p.cfg.AllowPrivateTargets && badPorts[port] {
		return "port"
	}
	return ""
}

// fetch GETs start and follows up to MaxRedirects redirects, keeping at
// most limit body bytes of the last response.
func (s *webSession) fetch(ctx context.Context, start string, limit int64) *Fetch {
	f := &Fetch{URL: start}
	cur := start
	for hop := 0; ; hop++ {
		h := Hop{URL: truncate(cur, maxURLLen)}
		u, err := url.Parse(cur)
		if err != nil {
			h.Error = "bad URL"
			f.Hops = append(f.Hops, h)
			f.Error = "bad redirect URL"
			return f
		}
		u.User = nil
		u.Fragment = ""
		if c := s.checkURL(u, &h); c != "" {
			h.Refused = c
			h.Error = "refused by the guard before connecting"
			f.Hops = append(f.Hops, h)
			f.Refused = true
			f.Error = fmt.Sprintf("hop %d to %s refused (%s)", hop, truncate(cur, 200), c)
			return f
		}
		next, done := s.hop(ctx, u, &h, f, limit)
		f.Hops = append(f.Hops, h)
		if done {
			return f
		}
		if hop >= s.p.cfg.MaxRedirects {
			f.Error = fmt.Sprintf("stopped after %d redirects (MaxRedirects)", s.p.cfg.MaxRedirects)
			return f
		}
		cur = next
	}
}

// hop makes one request. It returns the next URL and false for a redirect
// to follow, or done true when the fetch ends here (f is then complete).
func (s *webSession) hop(ctx context.Context, u *url.URL, h *Hop, f *Fetch, limit int64) (next string, done bool) {
	ctx, cancel := context.WithTimeout(ctx, s.p.cfg.FetchTimeout)
	defer cancel()
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if ap, err := netip.ParseAddrPort(ci.Conn.RemoteAddr().String()); err == nil {
			h.IP = ap.Addr().Unmap().String()
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, u.String(), nil)
	if err != nil {
		h.Error = truncate(err.Error(), 300)
		f.Error = h.Error
		return "", true
	}
	req.Header.Set("User-Agent", s.p.cfg.UserAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Accept-Language", "en,nl;q=0.8,*;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := s.client.Do(req)
	if err != nil {
		var ge *GuardError
		if errors.As(err, &ge) {
			h.Refused = ge.Class
			f.Refused = true
		}
		h.Error = truncate(err.Error(), 300)
		f.Error = h.Error
		return "", true
	}
	defer resp.Body.Close()
	h.Status = resp.StatusCode
	if resp.TLS != nil && f.TLS == nil {
		f.TLS = s.p.tlsInfo(resp.TLS, u.Hostname(), time.Now())
	}
	f.FinalURL = truncate(u.String(), maxURLLen)
	f.Status = resp.StatusCode
	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		h.Location = truncate(loc, maxURLLen)
		target, err := u.Parse(loc)
		if err != nil {
			f.Error = "bad Location header"
			return "", true
		}
		return target.String(), false
	}
	f.ContentType = truncate(resp.Header.Get("Content-Type"), 256)
	f.ContentDisposition = truncate(resp.Header.Get("Content-Disposition"), 512)
	f.Attachment = isAttachment(f.ContentDisposition)
	body, truncated, err := readBody(resp, limit)
	f.body, f.Truncated = body, truncated
	f.BodyBytes = len(body)
	sum := sha256.Sum256(body)
	f.BodySHA256 = hex.EncodeToString(sum[:])
	if err != nil {
		f.Error = "reading body: " + truncate(err.Error(), 200)
	}
	return "", true
}

// readBody reads at most limit bytes of the (gzip-decoded) body; truncated
// is set when more was there. Compressed input is bounded too.
func readBody(resp *http.Response, limit int64) (body []byte, truncated bool, err error) {
	var r io.Reader = io.LimitReader(resp.Body, limit+1)
	if strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, false, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, io.LimitReader(r, limit+1))
	body = buf.Bytes()
	if int64(len(body)) > limit {
		body, truncated = body[:limit], true
	}
	if err != nil && truncated {
		err = nil // the cut-off compressed stream is our doing
	}
	return body, truncated, err
}

func isAttachment(cd string) bool {
	if cd == "" {
		return false
	}
	disp, _, err := mime.ParseMediaType(cd)
	if err != nil {
		disp, _, _ = strings.Cut(cd, ";")
	}
	return strings.EqualFold(strings.TrimSpace(disp), "attachment")
}

// tlsInfo describes the leaf certificate of a connection to host.
func (p *Prober) tlsInfo(cs *tls.ConnectionState, host string, now time.Time) *TLSInfo {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	t := &TLSInfo{
		Version:   tls.VersionName(cs.Version),
		Subject:   truncate(leaf.Subject.String(), 512),
		Issuer:    truncate(leaf.Issuer.String(), 512),
		NotBefore: leaf.NotBefore.UTC(),
		NotAfter:  leaf.NotAfter.UTC(),
		SHA256:    hex.EncodeToString(sum[:]),
	}
	for _, n := range leaf.DNSNames {
		if len(t.SANs) < maxRecords {
			t.SANs = append(t.SANs, truncate(n, maxNameLen))
		}
	}
	for _, ip := range leaf.IPAddresses {
		if len(t.SANs) < maxRecords {
			t.SANs = append(t.SANs, ip.String())
		}
	}
	t.SelfSigned = bytes.Equal(leaf.RawSubject, leaf.RawIssuer) &&
		leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil
	t.Expired = now.After(leaf.NotAfter)
	t.NotYetValid = now.Before(leaf.NotBefore)
	t.NameMismatch = leaf.VerifyHostname(host) != nil
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:min(len(cs.PeerCertificates), 8)] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter, Roots: p.cfg.RootCAs, CurrentTime: now})
	t.Verifies = err == nil
	if err != nil {
		t.VerifyError = truncate(err.Error(), 300)
	}
	return t
}
