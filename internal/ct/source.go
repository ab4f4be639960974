package ct

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// source is the read API of one log, RFC 6962 or static-ct-api.
type source interface {
	// head returns the log's newest tree head, its signature verified.
	head(ctx context.Context) (TreeHead, error)
	// fetch returns entries from start on, in order: at least one and at
	// most end-start. treeSize is a verified size of at least end.
	fetch(ctx context.Context, start, end, treeSize uint64) ([]fetched, error)
	// batch is the preferred number of entries per fetch, and whether
	// fetches must start at multiples of it.
	batch() (n uint64, aligned bool)
	// leafHash returns the Merkle leaf hash of entry index.
	leafHash(ctx context.Context, index, treeSize uint64) ([32]byte, error)
	// proof returns the inclusion proof of entry index in the tree of
	// treeSize entries.
	proof(ctx context.Context, index, treeSize uint64, leaf [32]byte) ([][32]byte, error)
}

// fetched is one entry as fetched: decoded, or err says why it could not
// be (the entry is then counted and skipped). leaf is always its Merkle
// leaf hash, so that verification goes on past bad entries.
type fetched struct {
	entry Entry
	leaf  [32]byte
	err   error
}

// rfc6962Source reads a log through the RFC 6962 §4 JSON API.
type rfc6962Source struct {
	base string // ends in "/"
	key  *LogKey
	f    *fetcher
	// max is the batch size asked for; logs cap it (often at 256 or 1024),
	// and the follower adapts to what they return.
	mu  sync.Mutex
	max uint64
}

func (s *rfc6962Source) batch() (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, false
}

func (s *rfc6962Source) head(ctx context.Context) (TreeHead, error) {
	u := s.base + "ct/v1/get-sth"
	body, err := s.f.get(ctx, u, 64<<10)
	if err != nil {
		return TreeHead{}, err
	}
	var r struct {
		TreeSize  *uint64 `json:"tree_size"`
		Timestamp *uint64 `json:"timestamp"`
		Root      []byte  `json:"sha256_root_hash"`
		Signature []byte  `json:"tree_head_signature"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return TreeHead{}, &bodyError{u, err}
	}
	if r.TreeSize == nil || r.Timestamp == nil || len(r.Root) != 32 || len(r.Signature) == 0 {
		return TreeHead{}, &bodyError{u, errors.New("get-sth response lacks tree_size, timestamp, a 32-byte sha256_root_hash or tree_head_signature")}
	}
	th := TreeHead{Size: *r.TreeSize, Timestamp: time.UnixMilli(int64(*r.Timestamp)).UTC(), Root: [32]byte(r.Root)}
	if err := s.key.VerifySTH(th, r.Signature); err != nil {
		return TreeHead{}, fmt.Errorf("get-sth of size %d: %w", th.Size, err)
	}
	return th, nil
}

type rawEntry struct {
	LeafInput []byte `json:"leaf_input"`
	ExtraData []byte `json:"extra_data"`
}

func (s *rfc6962Source) getEntries(ctx context.Context, start, end uint64) ([]rawEntry, error) {
	u := fmt.Sprintf("%sct/v1/get-entries?start=%d&end=%d", s.base, start, end-1)
	body, err := s.f.get(ctx, u, 64<<20)
	if err != nil {
		return nil, err
	}
	var r struct {
		Entries []rawEntry `json:"entries"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &bodyError{u, err}
	}
	if len(r.Entries) == 0 {
		return nil, &bodyError{u, errors.New("no entries")}
	}
	if uint64(len(r.Entries)) > end-start {
		r.Entries = r.Entries[:end-start]
	}
	return r.Entries, nil
}

func (s *rfc6962Source) fetch(ctx context.Context, start, end, _ uint64) ([]fetched, error) {
	raw, err := s.getEntries(ctx, start, end)
	if err != nil {
		return nil, err
	}
	if n := uint64(len(raw)); n < end-start {
		// The log caps batches: ask for what it gives from now on.
		s.mu.Lock()
		s.max = max(min(s.max, n), 16)
		s.mu.Unlock()
	}
	out := make([]fetched, len(raw))
	for i, r := range raw {
		e, err := ParseRFC6962Entry(start+uint64(i), r.LeafInput, r.ExtraData)
		out[i] = fetched{entry: e, leaf: leafHash(r.LeafInput), err: err}
	}
	return out, nil
}

func (s *rfc6962Source) leafHash(ctx context.Context, index, _ uint64) ([32]byte, error) {
	raw, err := s.getEntries(ctx, index, index+1)
	if err != nil {
		return [32]byte{}, err
	}
	return leafHash(raw[0].LeafInput), nil
}

func (s *rfc6962Source) proof(ctx context.Context, index, treeSize uint64, leaf [32]byte) ([][32]byte, error) {
	u := fmt.Sprintf("%sct/v1/get-proof-by-hash?hash=%s&tree_size=%d", s.base,
		url.QueryEscape(base64.StdEncoding.EncodeToString(leaf[:])), treeSize)
	body, err := s.f.get(ctx, u, 64<<10)
	if err != nil {
		return nil, err
	}
	var r struct {
		LeafIndex *uint64  `json:"leaf_index"`
		AuditPath [][]byte `json:"audit_path"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, &bodyError{u, err}
	}
	if r.LeafIndex == nil || len(r.AuditPath) > 64 {
		return nil, &bodyError{u, errors.New("get-proof-by-hash response lacks leaf_index or has an audit path of more than 64 hashes")}
	}
	if *r.LeafIndex != index {
		return nil, fmt.Errorf("%w: entry %d's leaf hash is at index %d by get-proof-by-hash", ErrInconsistent, index, *r.LeafIndex)
	}
	path := make([][32]byte, len(r.AuditPath))
	for i, h := range r.AuditPath {
		if len(h) != 32 {
			return nil, &bodyError{u, fmt.Errorf("audit path hash %d has %d bytes", i, len(h))}
		}
		path[i] = [32]byte(h)
	}
	return path, nil
}

// staticSource reads a log through the static-ct-api (c2sp.org/static-ct-api).
type staticSource struct {
	base   string // the monitoring prefix, ending in "/"
	origin string // the checkpoint origin; "" takes the checkpoint's own
	key    *LogKey
	f      *fetcher

	mu    sync.Mutex
	tiles map[tileKey][]byte // hash tiles, for proofs; small and bounded
}

type tileKey struct {
	level uint8
	index uint64
	width int
}

const tileWidth = 256

func (s *staticSource) batch() (uint64, bool) { return tileWidth, true }

func (s *staticSource) head(ctx context.Context) (TreeHead, error) {
	u := s.base + "checkpoint"
	body, err := s.f.get(ctx, u, 1<<20)
	if err != nil {
		return TreeHead{}, err
	}
	origin := s.origin
	if origin == "" {
		// The origin line is not covered by the signature (static-ct-api
		// says so); the key name on the signature line must match it.
		origin, _, _ = strings.Cut(string(body), "\n")
	}
	th, err := ParseCheckpoint(body, origin, s.key)
	if err != nil {
		if errors.Is(err, ErrBadSignature) {
			return TreeHead{}, err
		}
		return TreeHead{}, &bodyError{u, err}
	}
	return th, nil
}

// tilePath encodes a tile index as c2sp.org/tlog-tiles says: groups of
// three digits, all but the last prefixed with "x".
func tilePath(n uint64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n /= 1000; n > 0; n /= 1000 {
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return s
}

// tileURL returns the URL of a tile; level -1 is a data tile.
func (s *staticSource) tileURL(level int, n uint64, width int) string {
	l := "data"
	if level >= 0 {
		l = fmt.Sprint(level)
	}
	u := fmt.Sprintf("%stile/%s/%s", s.base, l, tilePath(n))
	if width < tileWidth {
		u += fmt.Sprintf(".p/%d", width)
	}
	return u
}

// widthAt returns the width of tile n at level in a tree of size entries.
func widthAt(level uint8, n, size uint64) int {
	hashes := size >> (8 * level)
	if (n+1)*tileWidth <= hashes {
		return tileWidth
	}
	return int(hashes % tileWidth)
}

// getTile fetches a tile of width entries; a missing partial tile is
// looked for as the full tile, which logs may publish in its place.
func (s *staticSource) getTile(ctx context.Context, level int, n uint64, width int, limit int64) ([]byte, error) {
	b, err := s.f.get(ctx, s.tileURL(level, n, width), limit)
	if errors.Is(err, errNotFound) && width < tileWidth {
		b, err = s.f.get(ctx, s.tileURL(level, n, tileWidth), limit)
	}
	return b, err
}

func (s *staticSource) fetch(ctx context.Context, start, end, treeSize uint64) ([]fetched, error) {
	n := start / tileWidth
	width := widthAt(0, n, treeSize)
	body, err := s.getTile(ctx, -1, n, width, 64<<20)
	if err != nil {
		return nil, err
	}
	end = min(end, (n+1)*tileWidth)
	out := make([]fetched, 0, end-start)
	rest := body
	for i := n * tileWidth; i < end; i++ {
		var e Entry
		e, rest, err = ParseTileLeaf(i, rest)
		if err != nil {
			// Without the entry's length the rest of the tile cannot be
			// read: the caller retries, then falls back on the hash tile.
			return nil, &bodyError{s.tileURL(-1, n, width), fmt.Errorf("entry %d: %w", i, err)}
		}
		if i >= start {
			out = append(out, fetched{entry: e, leaf: e.LeafHash})
		}
	}
	return out, nil
}

// hashTile returns hash tile n of level in a tree of treeSize entries.
func (s *staticSource) hashTile(ctx context.Context, level uint8, n, treeSize uint64) ([]byte, error) {
	width := widthAt(level, n, treeSize)
	if width == 0 {
		return nil, fmt.Errorf("hash tile %d/%d is empty in a tree of %d", level, n, treeSize)
	}
	k := tileKey{level, n, width}
	s.mu.Lock()
	b, ok := s.tiles[k]
	s.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := s.getTile(ctx, int(level), n, width, tileWidth*32)
	if err != nil {
		return nil, err
	}
	if len(b) < width*32 || len(b)%32 != 0 {
		return nil, &bodyError{s.tileURL(int(level), n, width), fmt.Errorf("hash tile of %d bytes, want %d", len(b), width*32)}
	}
	b = b[:width*32]
	s.mu.Lock()
	if s.tiles == nil || len(s.tiles) >= 64 {
		s.tiles = map[tileKey][]byte{}
	}
	s.tiles[k] = b
	s.mu.Unlock()
	return b, nil
}

// perfect returns subtree hashes of the tree of treeSize entries, read
// from hash tiles: heights that are multiples of 8 are stored, the others
// are hashed up from the tile below.
func (s *staticSource) perfect(ctx context.Context, treeSize uint64) perfectHash {
	return func(h uint8, i uint64) ([32]byte, error) {
		level, r := h/8, h%8
		first := i << r // index of the first stored hash at the tile level
		tile, err := s.hashTile(ctx, level, first/tileWidth, treeSize)
		if err != nil {
			return [32]byte{}, err
		}
		off, count := int(first%tileWidth), 1<<r
		if (off+count)*32 > len(tile) {
			return [32]byte{}, fmt.Errorf("subtree %d/%d lies beyond hash tile %d/%d", h, i, level, first/tileWidth)
		}
		hs := make([][32]byte, count)
		for j := range hs {
			hs[j] = [32]byte(tile[(off+j)*32:])
		}
		for len(hs) > 1 {
			for j := 0; j < len(hs)/2; j++ {
				hs[j] = nodeHash(hs[2*j], hs[2*j+1])
			}
			hs = hs[:len(hs)/2]
		}
		return hs[0], nil
	}
}

func (s *staticSource) leafHash(ctx context.Context, index, treeSize uint64) ([32]byte, error) {
	return s.perfect(ctx, treeSize)(0, index)
}

func (s *staticSource) proof(ctx context.Context, index, treeSize uint64, _ [32]byte) ([][32]byte, error) {
	return inclusionPath(index, treeSize, s.perfect(ctx, treeSize))
}
