package mail

// DKIM signature verification, written from RFC 6376 (signatures,
// canonicalization, key records), RFC 8301 (algorithms) and RFC 8463
// (Ed25519). The standard library does the cryptography.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net"
	"strconv"
	"strings"
	"time"
)

// Bounds on DKIM verification.
const (
	maxSignedHeaders = 64
	maxKeyRecord     = 8192
)

// errNoKey says that the selector publishes no key.
var errNoKey = errors.New("dkim: no key")

// dkimResult is the outcome of verifying one signature.
type dkimResult struct {
	domain string
	err    error // nil when the signature verifies
}

// headerField is one raw header field, CRLF line endings, including the
// final CRLF.
type headerField struct {
	name string // as written
	raw  string
}

// splitMessage cuts raw into header fields and body, with line endings
// made CRLF (messages on disk often have bare LF).
func splitMessage(raw []byte) ([]headerField, []byte) {
	var fields []headerField
	rest := raw
	for len(rest) > 0 {
		end := bytes.IndexByte(rest, '\n')
		line := rest
		if end >= 0 {
			line = rest[:end]
			rest = rest[end+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1].raw += string(line) + "\r\n"
			continue
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		fields = append(fields, headerField{name: string(bytes.TrimSpace(line[:i])), raw: string(line) + "\r\n"})
	}
	return fields, rest
}

// tagList parses "a=b; c=d" into a map; it reports an error for a
// duplicated tag, as RFC 6376 section 3.2 requires.
func tagList(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok {
			if k == "" {
				continue
			}
			return nil, fmt.Errorf("malformed tag %q", truncate(k, 20))
		}
		if _, dup := m[k]; dup {
			return nil, fmt.Errorf("duplicated tag %q", truncate(k, 20))
		}
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}

func stripFWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// canonHeaderRelaxed is the relaxed header canonicalization.
func canonHeaderRelaxed(raw string) string {
	name, value, _ := strings.Cut(raw, ":")
	value = strings.NewReplacer("\r\n", "", "\n", "").Replace(value)
	var b strings.Builder
	b.WriteString(strings.ToLower(strings.TrimSpace(name)))
	b.WriteByte(':')
	space := false
	for _, c := range []byte(strings.Trim(value, " \t")) {
		if c == ' ' || c == '\t' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(c)
	}
	b.WriteString("\r\n")
	return b.String()
}

// canonBody canonicalizes a body ("simple" or "relaxed").
func canonBody(body []byte, relaxed bool) []byte {
	var out bytes.Buffer
	out.Grow(len(body) + len(body)/32)
	for len(body) > 0 {
		end := bytes.IndexByte(body, '\n')
		var line []byte
		if end >= 0 {
			line, body = body[:end], body[end+1:]
		} else {
			line, body = body, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if relaxed {
			line = bytes.TrimRight(line, " \t")
			space := false
			for _, c := range line {
				if c == ' ' || c == '\t' {
					space = true
					continue
				}
				if space {
					out.WriteByte(' ')
					space = false
				}
				out.WriteByte(c)
			}
		} else {
			out.Write(line)
		}
		out.WriteString("\r\n")
	}
	b := out.Bytes()
	for bytes.HasSuffix(b, []byte("\r\n\r\n")) {
		b = b[:len(b)-2]
	}
	if len(b) == 2 && b[0] == '\r' {
		b = b[:0]
	}
	if len(b) == 0 && !relaxed {
		return []byte("\r\n")
	}
	return b
}

// removeBValue empties the b= tag of a DKIM-Signature header field.
func removeBValue(raw string) string {
	i := 0
	for {
		j := strings.Index(raw[i:], "b")
		if j < 0 {
			return raw
		}
		j += i
		k := j + 1
		for k < len(raw) && (raw[k] == ' ' || raw[k] == '\t' || raw[k] == '\r' || raw[k] == '\n') {
			k++
		}
		prev := j - 1
		for prev >= 0 && (raw[prev] == ' ' || raw[prev] == '\t' || raw[prev] == '\r' || raw[prev] == '\n') {
			prev--
		}
		if k < len(raw) && raw[k] == '=' && prev >= 0 && (raw[prev] == ';' || raw[prev] == ':') {
			end := strings.IndexByte(raw[k:], ';')
			if end < 0 {
				// The last tag: keep the line ending.
				tail := strings.TrimRight(raw[k+1:], " \t\r\n")
				return raw[:k+1] + raw[k+1+len(tail):]
			}
			return raw[:k+1] + raw[k+end:]
		}
		i = j + 1
	}
}

// verifyDKIMSignatures verifies up to max signatures of raw, looking keys
// up with lookup. It returns one result per signature examined.
func verifyDKIMSignatures(ctx context.Context, raw []byte, lookup Resolver, max int, now time.Time) []dkimResult {
	fields, body := splitMessage(raw)
	var out []dkimResult
	for i, f := range fields {
		if !strings.EqualFold(f.name, "DKIM-Signature") {
			continue
		}
		if len(out) >= max || ctx.Err() != nil {
			break
		}
		d, err := verifyOne(ctx, fields, i, body, lookup, now)
		out = append(out, dkimResult{domain: d, err: err})
	}
	return out
}

func verifyOne(ctx context.Context, fields []headerField, sigIdx int, body []byte, lookup Resolver, now time.Time) (string, error) {
	sig := fields[sigIdx]
	_, value, _ := strings.Cut(sig.raw, ":")
	tags, err := tagList(value)
	if err != nil {
		return "", fmt.Errorf("malformed signature: %v", err)
	}
	domain := strings.ToLower(tags["d"])
	for _, k := range []string{"v", "a", "b", "bh", "d", "h", "s"} {
		if _, ok := tags[k]; !ok {
			return domain, fmt.Errorf("malformed signature: no %s= tag", k)
		}
	}
	if tags["v"] != "1" {
		return domain, fmt.Errorf("unsupported version v=%s", truncate(tags["v"], 10))
	}
	var hf crypto.Hash
	var newHash func() hash.Hash
	algo := strings.ToLower(stripFWS(tags["a"]))
	switch algo {
	case "rsa-sha256", "ed25519-sha256":
		hf, newHash = crypto.SHA256, sha256.New
	case "rsa-sha1":
		hf, newHash = crypto.SHA1, sha1.New
	default:
		return domain, fmt.Errorf("unsupported algorithm a=%s", truncate(algo, 20))
	}
	hc, bc, _ := strings.Cut(strings.ToLower(stripFWS(tags["c"])), "/")
	if hc == "" {
		hc = "simple"
	}
	if bc == "" {
		bc = "simple"
	}
	if hc != "simple" && hc != "relaxed" || bc != "simple" && bc != "relaxed" {
		return domain, fmt.Errorf("unsupported canonicalization c=%s", truncate(tags["c"], 30))
	}
	if x := tags["x"]; x != "" {
		if t, err := strconv.ParseInt(stripFWS(x), 10, 64); err == nil && now.Unix() > t {
			return domain, fmt.Errorf("the signature expired on %s", time.Unix(t, 0).UTC().Format(time.DateOnly))
		}
	}
	signed := strings.Split(stripFWS(tags["h"]), ":")
	if len(signed) > maxSignedHeaders {
		return domain, fmt.Errorf("signs %d header fields, more than the %d accepted", len(signed), maxSignedHeaders)
	}
	fromSigned := false
	for _, h := range signed {
		if strings.EqualFold(h, "from") {
			fromSigned = true
		}
	}
	if !fromSigned {
		return domain, errors.New("the signature does not cover the From header")
	}

	// Body hash.
	cb := canonBody(body, bc == "relaxed")
	if l := tags["l"]; l != "" {
		n, err := strconv.ParseInt(stripFWS(l), 10, 64)
		if err != nil || n < 0 || n > int64(len(cb)) {
			return domain, fmt.Errorf("bad body length l=%s", truncate(l, 20))
		}
		cb = cb[:n]
	}
	bh := newHash()
	bh.Write(cb)
	want, err := base64.StdEncoding.DecodeString(stripFWS(tags["bh"]))
	if err != nil {
		return domain, errors.New("malformed body hash bh=")
	}
	if !bytes.Equal(bh.Sum(nil), want) {
		return domain, errors.New("the body was changed after signing (body hash mismatch)")
	}

	// Header hash: for each signed name, the last field of that name not
	// used yet, then the signature field itself without its b= value.
	hh := newHash()
	used := make([]bool, len(fields))
	canon := func(raw string) string {
		if hc == "relaxed" {
			return canonHeaderRelaxed(raw)
		}
		return raw
	}
	for _, name := range signed {
		for j := len(fields) - 1; j >= 0; j-- {
			if !used[j] && strings.EqualFold(fields[j].name, name) {
				used[j] = true
				hh.Write([]byte(canon(fields[j].raw)))
				break
			}
		}
	}
	self := canon(removeBValue(sig.raw))
	hh.Write([]byte(strings.TrimSuffix(self, "\r\n")))
	digest := hh.Sum(nil)

	sigBytes, err := base64.StdEncoding.DecodeString(stripFWS(tags["b"]))
	if err != nil {
		return domain, errors.New("malformed signature b=")
	}
	sel := stripFWS(tags["s"])
	if sel == "" || domain == "" || len(sel)+len(domain) > 253 {
		return domain, errors.New("malformed selector or domain")
	}
	key, err := dkimKey(ctx, lookup, sel+"._domainkey."+domain)
	if err != nil {
		return domain, err
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(algo, "rsa-") {
			return domain, errors.New("the key is RSA but the signature is not")
		}
		if err := rsa.VerifyPKCS1v15(k, hf, digest, sigBytes); err != nil {
			return domain, errors.New("the signature does not match the signed headers (a header was changed, or the wrong key)")
		}
	case ed25519.PublicKey:
		if algo != "ed25519-sha256" {
			return domain, errors.New("the key is Ed25519 but the signature is not")
		}
		if !ed25519.Verify(k, digest, sigBytes) {
			return domain, errors.New("the signature does not match the signed headers (a header was changed, or the wrong key)")
		}
	}
	return domain, nil
}

// dkimKey fetches and parses the key record at name.
func dkimKey(ctx context.Context, lookup Resolver, name string) (any, error) {
	txts, err := lookup.LookupTXT(ctx, name)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, fmt.Errorf("%w published at %s", errNoKey, name)
		}
		return nil, fmt.Errorf("looking up the key at %s: %v", name, err)
	}
	if len(txts) == 0 {
		return nil, fmt.Errorf("%w published at %s", errNoKey, name)
	}
	if len(txts) > 1 {
		return nil, fmt.Errorf("%s publishes %d key records; one is required", name, len(txts))
	}
	rec := txts[0]
	if len(rec) > maxKeyRecord {
		return nil, fmt.Errorf("the key record at %s is too long", name)
	}
	tags, err := tagList(rec)
	if err != nil {
		return nil, fmt.Errorf("malformed key record at %s: %v", name, err)
	}
	if v, ok := tags["v"]; ok && v != "DKIM1" {
		return nil, fmt.Errorf("malformed key record at %s: v=%s", name, truncate(v, 10))
	}
	p := stripFWS(tags["p"])
	if p == "" {
		return nil, fmt.Errorf("the key at %s was revoked", name)
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("malformed key at %s", name)
	}
	switch strings.ToLower(tags["k"]) {
	case "", "rsa":
		if k, err := x509.ParsePKIXPublicKey(der); err == nil {
			if rk, ok := k.(*rsa.PublicKey); ok {
				return rk, nil
			}
			return nil, fmt.Errorf("the key at %s is not RSA", name)
		}
		k, err := x509.ParsePKCS1PublicKey(der)
		if err != nil {
			return nil, fmt.Errorf("malformed RSA key at %s", name)
		}
		return k, nil
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("malformed Ed25519 key at %s", name)
		}
		return ed25519.PublicKey(der), nil
	}
	return nil, fmt.Errorf("unsupported key type k=%s at %s", truncate(tags["k"], 10), name)
}
