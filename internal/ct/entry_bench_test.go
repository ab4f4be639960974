package ct

import (
	"testing"
)

// BenchmarkParseRFC6962Entry parses the six real entries of
// testdata/entries (four x509 entries of 2013, an x509 and a precert entry
// of 2014-15) in turn.
func BenchmarkParseRFC6962Entry(b *testing.B) {
	raws := allRealEntries(b)
	var bytes int64
	for _, r := range raws {
		bytes += int64(len(r.LeafInput) + len(r.ExtraData))
	}
	b.SetBytes(bytes / int64(len(raws)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r := raws[n%len(raws)]
		if _, err := ParseRFC6962Entry(uint64(n), r.LeafInput, r.ExtraData); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkParseTileLeaf parses a data tile made of the same six entries
// as TileLeafs, entry by entry; one op is one entry.
func BenchmarkParseTileLeaf(b *testing.B) {
	const tiles = 16
	var tile []byte
	for i := range tiles {
		t, _ := realTile(b, uint64(6*i))
		tile = append(tile, t...)
	}
	b.SetBytes(int64(len(tile) / (6 * tiles)))
	b.ReportAllocs()
	n := 0
	rest := tile
	for b.Loop() {
		if len(rest) == 0 {
			rest, n = tile, 0
		}
		var err error
		if _, rest, err = ParseTileLeaf(uint64(n), rest); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
