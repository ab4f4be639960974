package ct

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
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeLog is an in-process CT log serving the RFC 6962 API or the
// static-ct-api, with faults to inject.
type fakeLog struct {
	t      testing.TB
	static bool
	key    *testLogKey
	origin string
	srv    *httptest.Server

	mu        sync.Mutex
	leaves    [][]byte // RFC 6962: MerkleTreeLeaf; static: TileLeaf
	extra     [][]byte // RFC 6962 extra_data
	hashes    [][32]byte
	published uint64 // the size of the tree head served
	// faults
	fail429, fail500 int  // the next N requests fail so
	truncate         int  // the next N entry responses are cut short
	maxBatch         int  // RFC 6962: at most this many entries per get-entries
	gzip             bool // static: tiles gzipped
	signer           *testLogKey
	requests         int
	// serialBase makes each log's certificates its own.
	serialBase int64
	// sameCert, when set, is logged for every x509 entry: fast to build.
	sameCert []byte
	rootAt   uint64
	root     [32]byte
}

var (
	fakeCAKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	oidSCTList   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}
)

func newFakeLog(t testing.TB, static bool) *fakeLog {
	fl := &fakeLog{t: t, static: static, key: newTestLogKey(t), serialBase: mrand.Int64N(1 << 40)}
	fl.signer = fl.key
	fl.srv = httptest.NewServer(http.HandlerFunc(fl.serve))
	t.Cleanup(fl.srv.Close)
	fl.origin = strings.TrimPrefix(fl.srv.URL, "http://") + "/log"
	return fl
}

func (fl *fakeLog) log() Log {
	typ := LogRFC6962
	if fl.static {
		typ = LogStatic
	}
	return Log{Description: "fake " + string(typ) + " " + fl.srv.URL, Type: typ, URL: fl.srv.URL + "/log/", Key: fl.key.public()}
}

// makeCert returns a certificate for names, and the TBS of the same
// certificate as a precertificate would be logged (no SCT extension).
func makeCert(t testing.TB, serial int64, names []string, withSCT bool) (der, tbs []byte) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: names[0]},
		Issuer:       pkix.Name{CommonName: "Fake CA"},
		DNSNames:     names,
		NotBefore:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
	}
	if withSCT {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSCTList, Value: []byte{4, 2, 0, 0}}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &fakeCAKey.PublicKey, fakeCAKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return der, c.RawTBSCertificate
}

func u24(b []byte, n int) []byte { return append(b, byte(n>>16), byte(n>>8), byte(n)) }

// add appends an entry to the log (not yet published). precert logs the
// certificate's TBS as a precertificate entry.
func (fl *fakeLog) add(names []string, precert bool) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	idx := uint64(len(fl.leaves))
	var der, tbs []byte
	if fl.sameCert != nil && !precert {
		der = fl.sameCert
	} else {
		der, tbs = makeCert(fl.t, int64(idx)+fl.serialBase, names, !precert)
	}
	var te []byte // TimestampedEntry
	te = binary.BigEndian.AppendUint64(te, uint64(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).UnixMilli())+idx)
	if precert {
		te = append(te, 0, 1)
		ikh := sha256.Sum256([]byte("issuer key"))
		te = append(te, ikh[:]...)
		te = append(u24(te, len(tbs)), tbs...)
	} else {
		te = append(te, 0, 0)
		te = append(u24(te, len(der)), der...)
	}
	if fl.static {
		te = append(te, 0, 8, 0, 0, 5)
		te = append(te, byte(idx>>32), byte(idx>>24), byte(idx>>16), byte(idx>>8), byte(idx))
	} else {
		te = append(te, 0, 0)
	}
	mtl := append([]byte{0, 0}, te...)
	fl.hashes = append(fl.hashes, leafHash(mtl))
	if fl.static {
		leaf := append([]byte(nil), te...)
		if precert {
			leaf = append(u24(leaf, len(der)), der...)
		}
		leaf = append(leaf, 0, 32)
		ca := sha256.Sum256([]byte("ca"))
		leaf = append(leaf, ca[:]...)
		fl.leaves = append(fl.leaves, leaf)
		return
	}
	fl.leaves = append(fl.leaves, mtl)
	var ex []byte
	if precert {
		ex = append(u24(ex, len(der)), der...)
		ex = u24(ex, 0)
	} else {
		ex = u24(ex, 0)
	}
	fl.extra = append(fl.extra, ex)
}

// addN adds n certificates named host<i>.example.<tld>.
func (fl *fakeLog) addN(n int, tld string) {
	for i := 0; i < n; i++ {
		fl.mu.Lock()
		k := len(fl.leaves)
		fl.mu.Unlock()
		fl.add([]string{fmt.Sprintf("host%d.example.%s", k, tld)}, false)
	}
}

func (fl *fakeLog) publish() {
	fl.mu.Lock()
	fl.published = uint64(len(fl.leaves))
	fl.mu.Unlock()
}

func (fl *fakeLog) head() TreeHead {
	if fl.rootAt != fl.published || fl.published == 0 {
		fl.root, fl.rootAt = mth(fl.hashes[:fl.published]), fl.published
	}
	return TreeHead{Size: fl.published, Timestamp: time.UnixMilli(time.Now().UnixMilli()).UTC(), Root: fl.root}
}

func (fl *fakeLog) serve(w http.ResponseWriter, r *http.Request) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.requests++
	if fl.fail429 > 0 {
		fl.fail429--
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	if fl.fail500 > 0 {
		fl.fail500--
		http.Error(w, "oops", http.StatusInternalServerError)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/log/")
	if fl.static {
		fl.serveStatic(w, p)
		return
	}
	q := r.URL.Query()
	switch p {
	case "ct/v1/get-sth":
		th := fl.head()
		json.NewEncoder(w).Encode(map[string]any{"tree_size": th.Size, "timestamp": th.Timestamp.UnixMilli(),
			"sha256_root_hash": th.Root[:], "tree_head_signature": fl.signer.signSTH(th)})
	case "ct/v1/get-entries":
		start, err1 := strconv.ParseUint(q.Get("start"), 10, 64)
		end, err2 := strconv.ParseUint(q.Get("end"), 10, 64)
		if err1 != nil || err2 != nil || start > end || start >= fl.published {
			http.Error(w, "bad range", http.StatusBadRequest)
			return
		}
		end = min(end+1, fl.published)
		if fl.maxBatch > 0 {
			end = min(end, start+uint64(fl.maxBatch))
		}
		var es []map[string][]byte
		for i := start; i < end; i++ {
			es = append(es, map[string][]byte{"leaf_input": fl.leaves[i], "extra_data": fl.extra[i]})
		}
		b, _ := json.Marshal(map[string]any{"entries": es})
		if fl.truncate > 0 {
			fl.truncate--
			b = b[:len(b)/2]
		}
		w.Write(b)
	case "ct/v1/get-proof-by-hash":
		h, err := base64.StdEncoding.DecodeString(q.Get("hash"))
		size, err2 := strconv.ParseUint(q.Get("tree_size"), 10, 64)
		if err != nil || err2 != nil || len(h) != 32 || size > fl.published {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		for i := uint64(0); i < size; i++ {
			if fl.hashes[i] == [32]byte(h) {
				path, _ := inclusionPath(i, size, perfectOf(fl.hashes[:size]))
				var ps [][]byte
				for _, x := range path {
					ps = append(ps, x[:])
				}
				json.NewEncoder(w).Encode(map[string]any{"leaf_index": i, "audit_path": ps})
				return
			}
		}
		http.Error(w, "no such leaf", http.StatusNotFound)
	default:
		http.NotFound(w, nil)
	}
}

// parseTile reads "<L>/<N>[.p/<W>]" tile paths.
func parseTile(p string) (level string, n uint64, width int, ok bool) {
	level, rest, ok := strings.Cut(p, "/")
	if !ok {
		return "", 0, 0, false
	}
	width = tileWidth
	if i := strings.Index(rest, ".p/"); i >= 0 {
		w, err := strconv.Atoi(rest[i+3:])
		if err != nil || w < 1 || w > 255 {
			return "", 0, 0, false
		}
		width, rest = w, rest[:i]
	}
	for _, g := range strings.Split(rest, "/") {
		g = strings.TrimPrefix(g, "x")
		d, err := strconv.ParseUint(g, 10, 64)
		if err != nil || len(g) != 3 {
			return "", 0, 0, false
		}
		n = n*1000 + d
	}
	return level, n, width, true
}

func (fl *fakeLog) serveStatic(w http.ResponseWriter, p string) {
	if p == "checkpoint" {
		w.Write(fl.signer.checkpoint(fl.origin, fl.head()))
		return
	}
	level, n, width, ok := parseTile(strings.TrimPrefix(p, "tile/"))
	if !ok || !strings.HasPrefix(p, "tile/") {
		http.NotFound(w, nil)
		return
	}
	var body []byte
	if level == "data" {
		if n*tileWidth+uint64(width) > fl.published || width < tileWidth && widthAt(0, n, fl.published) != width {
			http.NotFound(w, nil)
			return
		}
		for i := n * tileWidth; i < n*tileWidth+uint64(width); i++ {
			body = append(body, fl.leaves[i]...)
		}
		if fl.truncate > 0 {
			fl.truncate--
			body = body[:len(body)-7]
		}
	} else {
		l, err := strconv.Atoi(level)
		if err != nil || l > 5 || widthAt(uint8(l), n, fl.published) < width || width < tileWidth && widthAt(uint8(l), n, fl.published) != width {
			http.NotFound(w, nil)
			return
		}
		span := uint64(1) << (8 * l)
		for i := uint64(0); i < uint64(width); i++ {
			a := (n*tileWidth + i) * span
			h := mth(fl.hashes[a : a+span])
			body = append(body, h[:]...)
		}
	}
	if fl.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	w.Write(body)
}
