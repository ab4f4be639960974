// Package cttest runs in-process Certificate Transparency logs for tests and
// benchmarks: an RFC 6962 log (get-sth, get-entries, get-proof-by-hash) or a
// static-ct-api log (checkpoint, data and hash tiles, partial tiles, gzip),
// with faults to inject: 429 and 500 responses, truncated bodies, short
// batches, heads signed by the wrong key, a shrinking tree and a rewritten
// history.
//
// It is written from RFC 6962 and c2sp.org/static-ct-api independently of
// package ct (it does not import it), so that a mistake in ct's hashing,
// proofs or signature checks is not mirrored here. Servers listen on
// loopback only.
package cttest

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is the API a log serves.
type Kind uint8

const (
	// RFC6962 serves /ct/v1/get-sth, get-entries and get-proof-by-hash.
	RFC6962 Kind = iota
	// Static serves the static-ct-api: /checkpoint and /tile/...
	Static
)

func (k Kind) String() string {
	if k == Static {
		return "static"
	}
	return "rfc6962"
}

// Faults are misbehaviours a log shows on its next requests.
type Faults struct {
	// Fail429 and Fail500 make the next N requests fail with that status
	// (429 with Retry-After: 0).
	Fail429, Fail500 int
	// Truncate cuts the next N get-entries responses or data tiles short.
	Truncate int
	// MaxBatch caps the entries of one get-entries response (RFC 6962);
	// zero means no cap.
	MaxBatch int
	// Gzip serves tiles gzip-compressed (static).
	Gzip bool
}

// CA issues the certificates a log records. Logs that share a CA and a
// serial base log identical certificates.
type CA struct {
	key     *ecdsa.PrivateKey
	keyHash [32]byte // SHA-256 of the DER SubjectPublicKeyInfo: a precert's issuer_key_hash
}

// NewCA returns a CA with a fresh P-256 key.
func NewCA() (*CA, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &CA{key: k, keyHash: sha256.Sum256(spki)}, nil
}

var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// Cert returns a certificate for names with the given serial, and the TBS
// of the same certificate as a precertificate entry carries it (without
// the SCT list extension). withSCT adds an SCT list extension to the
// certificate, as a final certificate has.
func (ca *CA) Cert(serial int64, names []string, withSCT bool) (der, tbs []byte, err error) {
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("cttest: a certificate needs at least one name")
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		Issuer:       pkix.Name{CommonName: "cttest CA"},
		DNSNames:     names,
		NotBefore:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
	}
	build := func() ([]byte, error) {
		return x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ca.key.PublicKey, ca.key)
	}
	plain, err := build()
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(plain)
	if err != nil {
		return nil, nil, err
	}
	if !withSCT {
		return plain, c.RawTBSCertificate, nil
	}
	tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSCTList, Value: []byte{4, 2, 0, 0}}}
	der, err = build()
	return der, c.RawTBSCertificate, err
}

// Log is one in-process CT log. Its methods are safe for concurrent use.
type Log struct {
	kind   Kind
	key    *ecdsa.PrivateKey
	spki   []byte
	srv    *httptest.Server
	origin string

	mu         sync.Mutex
	ca         *CA
	signer     *ecdsa.PrivateKey // signs tree heads: key, or another after SignWithOtherKey
	leaves     [][]byte          // RFC 6962: MerkleTreeLeaf; static: TileLeaf
	extra      [][]byte          // RFC 6962: extra_data
	tree       [][][32]byte      // tree[h][i]: root of the perfect subtree of 2^h leaves at i·2^h
	published  uint64            // size of the tree head served
	faults     Faults
	requests   int
	serialBase int64
	sameCert   []byte
}

// New starts a log of the given kind on a loopback port, with a fresh key
// and CA. Close stops it.
func New(kind Kind) (*Log, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	var sb [5]byte
	rand.Read(sb[:])
	l := &Log{kind: kind, key: key, spki: spki, ca: ca, signer: key, tree: make([][][32]byte, 1),
		serialBase: int64(binary.BigEndian.Uint32(sb[:4]))<<8 | int64(sb[4])}
	l.srv = httptest.NewServer(l)
	l.origin = strings.TrimPrefix(l.srv.URL, "http://") + "/log"
	return l, nil
}

// Close stops the log's server.
func (l *Log) Close() { l.srv.Close() }

// Kind returns the API the log serves.
func (l *Log) Kind() Kind { return l.kind }

// URL returns the log's URL as a log list gives it, with a trailing slash:
// the RFC 6962 base or the static-ct-api monitoring prefix.
func (l *Log) URL() string { return l.srv.URL + "/log/" }

// Key returns the log's public key as a log list gives it: base64 DER
// SubjectPublicKeyInfo.
func (l *Log) Key() string { return base64.StdEncoding.EncodeToString(l.spki) }

// Origin returns the checkpoint origin line of a static log.
func (l *Log) Origin() string { return l.origin }

// CA returns the CA that issues the log's certificates.
func (l *Log) CA() *CA { l.mu.Lock(); defer l.mu.Unlock(); return l.ca }

// SetCA makes the log issue its certificates from ca.
func (l *Log) SetCA(ca *CA) { l.mu.Lock(); l.ca = ca; l.mu.Unlock() }

// SerialBase returns the serial of the log's entry 0; entry i has
// SerialBase()+i.
func (l *Log) SerialBase() int64 { l.mu.Lock(); defer l.mu.Unlock(); return l.serialBase }

// SetSerialBase sets the serial of entry 0 for the entries added next.
func (l *Log) SetSerialBase(n int64) { l.mu.Lock(); l.serialBase = n; l.mu.Unlock() }

// SetSameCert makes every x509 entry added next log der, which is much
// faster than issuing a certificate per entry.
func (l *Log) SetSameCert(der []byte) { l.mu.Lock(); l.sameCert = der; l.mu.Unlock() }

// SetFaults sets the faults shown on the next requests.
func (l *Log) SetFaults(f Faults) { l.mu.Lock(); l.faults = f; l.mu.Unlock() }

// Requests returns the number of requests served so far.
func (l *Log) Requests() int { l.mu.Lock(); defer l.mu.Unlock(); return l.requests }

// Size returns the number of entries added, published or not.
func (l *Log) Size() uint64 { l.mu.Lock(); defer l.mu.Unlock(); return uint64(len(l.leaves)) }

// Published returns the size of the tree head served.
func (l *Log) Published() uint64 { l.mu.Lock(); defer l.mu.Unlock(); return l.published }

// Publish makes every entry added so far part of the tree head served.
func (l *Log) Publish() { l.mu.Lock(); l.published = uint64(len(l.leaves)); l.mu.Unlock() }

// Rewind serves a tree head of size n, smaller than the one served before:
// a log that shrinks.
func (l *Log) Rewind(n uint64) {
	l.mu.Lock()
	l.published = min(n, l.published)
	l.mu.Unlock()
}

// SignWithOtherKey makes the log sign its tree heads with a key that is not
// the one Key returns: every signature is then bad.
func (l *Log) SignWithOtherKey() error {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.signer = k
	l.mu.Unlock()
	return nil
}

// Add appends an entry for names (not yet published). precert logs the
// certificate as a precertificate entry.
func (l *Log) Add(names []string, precert bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	mtl, leaf, extra, err := l.entry(uint64(len(l.leaves)), names, precert)
	if err != nil {
		return err
	}
	l.push(mtl, leaf, extra)
	return nil
}

// AddCert appends an x509 entry logging der, a certificate made
// beforehand (CA.Cert): a feed can then run at a set rate.
func (l *Log) AddCert(der []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	saved := l.sameCert
	l.sameCert = der
	mtl, leaf, extra, err := l.entry(uint64(len(l.leaves)), nil, false)
	l.sameCert = saved
	if err != nil {
		return err
	}
	l.push(mtl, leaf, extra)
	return nil
}

// push appends an entry built by entry.
func (l *Log) push(mtl, leaf, extra []byte) {
	l.leaves = append(l.leaves, leaf)
	if l.kind == RFC6962 {
		l.extra = append(l.extra, extra)
	}
	l.appendHash(leafHash(mtl))
}

// AddN appends n x509 entries named host<i>.example.<tld>, i being the
// entry's index.
func (l *Log) AddN(n int, tld string) error {
	for range n {
		if err := l.Add([]string{fmt.Sprintf("host%d.example.%s", l.Size(), tld)}, false); err != nil {
			return err
		}
	}
	return nil
}

// Replace rewrites entry i with a certificate for names: a log that
// changes its history (a fork).
func (l *Log) Replace(i uint64, names []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= uint64(len(l.leaves)) {
		return fmt.Errorf("cttest: no entry %d", i)
	}
	// A different serial makes a different certificate.
	saved := l.serialBase
	l.serialBase += 1 << 40
	mtl, leaf, extra, err := l.entry(i, names, false)
	l.serialBase = saved
	if err != nil {
		return err
	}
	l.leaves[i] = leaf
	if l.kind == RFC6962 {
		l.extra[i] = extra
	}
	hashes := make([][32]byte, len(l.leaves))
	copy(hashes, l.tree[0])
	hashes[i] = leafHash(mtl)
	l.tree = make([][][32]byte, 1)
	for _, h := range hashes {
		l.appendHash(h)
	}
	return nil
}

func u24(b []byte, n int) []byte { return append(b, byte(n>>16), byte(n>>8), byte(n)) }

// entry builds entry idx: its MerkleTreeLeaf, what the log serves for it
// (the MerkleTreeLeaf for RFC 6962, the TileLeaf for static) and the
// RFC 6962 extra_data.
func (l *Log) entry(idx uint64, names []string, precert bool) (mtl, leaf, extra []byte, err error) {
	var der, tbs []byte
	if l.sameCert != nil && !precert {
		der = l.sameCert
	} else if der, tbs, err = l.ca.Cert(l.serialBase+int64(idx), names, !precert); err != nil {
		return nil, nil, nil, err
	}
	// TimestampedEntry
	ts := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).UnixMilli() + int64(idx)
	te := binary.BigEndian.AppendUint64(nil, uint64(ts))
	if precert {
		te = append(te, 0, 1) // precert_entry
		te = append(te, l.ca.keyHash[:]...)
		te = append(u24(te, len(tbs)), tbs...)
	} else {
		te = append(te, 0, 0) // x509_entry
		te = append(u24(te, len(der)), der...)
	}
	if l.kind == Static {
		// CtExtensions with the leaf_index extension (type 0, 40 bits).
		te = append(te, 0, 8, 0, 0, 5)
		te = append(te, byte(idx>>32), byte(idx>>24), byte(idx>>16), byte(idx>>8), byte(idx))
	} else {
		te = append(te, 0, 0)
	}
	mtl = append([]byte{0, 0}, te...) // version v1, timestamped_entry
	if l.kind == Static {
		leaf = append([]byte(nil), te...)
		if precert {
			leaf = append(u24(leaf, len(der)), der...) // pre_certificate
		}
		fp := sha256.Sum256([]byte("cttest root"))
		leaf = append(leaf, 0, 32) // certificate_chain: one fingerprint
		leaf = append(leaf, fp[:]...)
		return mtl, leaf, nil, nil
	}
	if precert {
		extra = append(u24(nil, len(der)), der...) // pre_certificate
		extra = u24(extra, 0)                      // empty chain
	} else {
		extra = u24(nil, 0)
	}
	return mtl, mtl, extra, nil
}

func leafHash(leaf []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(leaf)
	return [32]byte(h.Sum(nil))
}

func nodeHash(l, r [32]byte) [32]byte {
	var b [65]byte
	b[0] = 1
	copy(b[1:], l[:])
	copy(b[33:], r[:])
	return sha256.Sum256(b[:])
}

// appendHash adds a leaf hash and completes the perfect subtrees it ends.
func (l *Log) appendHash(h [32]byte) {
	l.tree[0] = append(l.tree[0], h)
	for lvl := 0; len(l.tree[lvl])%2 == 0; lvl++ {
		if lvl+1 == len(l.tree) {
			l.tree = append(l.tree, nil)
		}
		n := len(l.tree[lvl])
		l.tree[lvl+1] = append(l.tree[lvl+1], nodeHash(l.tree[lvl][n-2], l.tree[lvl][n-1]))
	}
}

// mth returns the Merkle tree hash of leaves [start, start+n), start being a
// multiple of the largest power of two below n (as in RFC 6962's recursion).
func (l *Log) mth(start, n uint64) [32]byte {
	if n == 0 {
		return sha256.Sum256(nil)
	}
	if n&(n-1) == 0 {
		lvl := 0
		for uint64(1)<<lvl < n {
			lvl++
		}
		return l.tree[lvl][start>>lvl]
	}
	k := split(n)
	return nodeHash(l.mth(start, k), l.mth(start+k, n-k))
}

// split returns the largest power of two smaller than n (n > 1).
func split(n uint64) uint64 {
	k := uint64(1)
	for k<<1 < n {
		k <<= 1
	}
	return k
}

// path returns the RFC 6962 audit path of leaf m in the tree of leaves
// [start, start+n).
func (l *Log) path(m, start, n uint64) [][32]byte {
	if n <= 1 {
		return nil
	}
	k := split(n)
	if m < k {
		return append(l.path(m, start, k), l.mth(start+k, n-k))
	}
	return append(l.path(m-k, start+k, n-k), l.mth(start, k))
}

// sign returns an RFC 6962 DigitallySigned TreeHeadSignature.
func (l *Log) sign(size uint64, ts int64, root [32]byte) []byte {
	var msg []byte
	msg = append(msg, 0, 1) // v1, tree_hash
	msg = binary.BigEndian.AppendUint64(msg, uint64(ts))
	msg = binary.BigEndian.AppendUint64(msg, size)
	msg = append(msg, root[:]...)
	d := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, l.signer, d[:])
	if err != nil {
		return nil
	}
	ds := []byte{4, 3} // sha256, ecdsa
	ds = binary.BigEndian.AppendUint16(ds, uint16(len(sig)))
	return append(ds, sig...)
}

// ServeHTTP serves the log's API under /log/.
func (l *Log) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests++
	if l.faults.Fail429 > 0 {
		l.faults.Fail429--
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	if l.faults.Fail500 > 0 {
		l.faults.Fail500--
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p, ok := strings.CutPrefix(r.URL.Path, "/log/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if l.kind == Static {
		l.serveStatic(w, r, p)
		return
	}
	q := r.URL.Query()
	switch p {
	case "ct/v1/get-sth":
		ts := time.Now().UnixMilli()
		root := l.mth(0, l.published)
		json.NewEncoder(w).Encode(map[string]any{"tree_size": l.published, "timestamp": ts,
			"sha256_root_hash": root[:], "tree_head_signature": l.sign(l.published, ts, root)})
	case "ct/v1/get-entries":
		start, err1 := strconv.ParseUint(q.Get("start"), 10, 64)
		end, err2 := strconv.ParseUint(q.Get("end"), 10, 64)
		if err1 != nil || err2 != nil || start > end || start >= l.published {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		end = min(end+1, l.published)
		if l.faults.MaxBatch > 0 {
			end = min(end, start+uint64(l.faults.MaxBatch))
		}
		type entry struct {
			Leaf  []byte `json:"leaf_input"`
			Extra []byte `json:"extra_data"`
		}
		es := make([]entry, 0, end-start)
		for i := start; i < end; i++ {
			es = append(es, entry{l.leaves[i], l.extra[i]})
		}
		b, _ := json.Marshal(map[string]any{"entries": es})
		if l.faults.Truncate > 0 {
			l.faults.Truncate--
			b = b[:len(b)/2]
		}
		w.Write(b)
	case "ct/v1/get-proof-by-hash":
		h, err := base64.StdEncoding.DecodeString(q.Get("hash"))
		size, err2 := strconv.ParseUint(q.Get("tree_size"), 10, 64)
		if err != nil || err2 != nil || len(h) != 32 || size > l.published || size == 0 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		for i := uint64(0); i < size; i++ {
			if l.tree[0][i] == [32]byte(h) {
				path := l.path(i, 0, size)
				ps := make([][]byte, len(path))
				for j := range path {
					ps[j] = path[j][:]
				}
				json.NewEncoder(w).Encode(map[string]any{"leaf_index": i, "audit_path": ps})
				return
			}
		}
		http.Error(w, "no such leaf", http.StatusNotFound)
	default:
		http.NotFound(w, r)
	}
}

// checkpoint returns the signed checkpoint note: origin, size and root,
// then one RFC6962NoteSignature line by the log's key.
func (l *Log) checkpoint() []byte {
	ts := time.Now().UnixMilli()
	root := l.mth(0, l.published)
	text := fmt.Sprintf("%s\n%d\n%s\n", l.origin, l.published, base64.StdEncoding.EncodeToString(root[:]))
	logID := sha256.Sum256(l.spki)
	kh := sha256.New()
	kh.Write([]byte(l.origin + "\n\x05"))
	kh.Write(logID[:])
	sig := kh.Sum(nil)[:4]
	sig = binary.BigEndian.AppendUint64(sig, uint64(ts))
	sig = append(sig, l.sign(l.published, ts, root)...)
	return []byte(text + "\n\u2014 " + l.origin + " " + base64.StdEncoding.EncodeToString(sig) + "\n")
}

// tileIndex reads a tile path's index "x001/x234/067" and its partial
// width ".p/W"; width 256 for a full tile.
func tileIndex(s string) (n uint64, width int, ok bool) {
	width = 256
	if i := strings.Index(s, ".p/"); i >= 0 {
		w, err := strconv.Atoi(s[i+3:])
		if err != nil || w < 1 || w > 255 {
			return 0, 0, false
		}
		width, s = w, s[:i]
	}
	for _, g := range strings.Split(s, "/") {
		g = strings.TrimPrefix(g, "x")
		d, err := strconv.ParseUint(g, 10, 64)
		if err != nil || len(g) != 3 {
			return 0, 0, false
		}
		n = n*1000 + d
	}
	return n, width, true
}

// serveStatic serves the static-ct-api: the checkpoint, hash tiles at
// tile/<L>/<N>[.p/<W>] and data tiles at tile/data/<N>[.p/<W>], each tile
// served only when the published tree holds it at that width.
func (l *Log) serveStatic(w http.ResponseWriter, r *http.Request, p string) {
	if p == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(l.checkpoint())
		return
	}
	rest, ok := strings.CutPrefix(p, "tile/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	level, rest, _ := strings.Cut(rest, "/")
	n, width, ok := tileIndex(rest)
	if !ok {
		http.NotFound(w, r)
		return
	}
	lvl := 0
	if level != "data" {
		var err error
		if lvl, err = strconv.Atoi(level); err != nil || lvl < 0 || lvl > 5 {
			http.NotFound(w, r)
			return
		}
	}
	// Hashes at this level in the published tree. A full tile exists once
	// the tree holds it; its partial tiles are then deleted, as
	// c2sp.org/tlog-tiles allows. Until then, partial tiles of every
	// width up to the tree's edge are served, as earlier checkpoints
	// required them.
	have := l.published >> (8 * lvl)
	full := (n + 1) * 256
	if full <= have && width != 256 || full > have && (width == 256 || n*256+uint64(width) > have) {
		http.NotFound(w, r)
		return
	}
	var body []byte
	if level == "data" {
		for i := n * 256; i < n*256+uint64(width); i++ {
			body = append(body, l.leaves[i]...)
		}
		if l.faults.Truncate > 0 {
			l.faults.Truncate--
			body = body[:len(body)-7]
		}
	} else {
		for i := n * 256; i < n*256+uint64(width); i++ {
			h := l.tree[8*lvl][i]
			body = append(body, h[:]...)
		}
	}
	if l.faults.Gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	w.Write(body)
}
