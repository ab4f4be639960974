package ct

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ward-health/ward/internal/ct/cttest"
)

// BenchmarkFollow follows a local log of 100,000 entries from the start
// to its head, verifying every entry, and reports entries per second of
// wall time. The same certificate is logged for every entry, so that
// building the log stays quick; de-duplication is off, so that every
// entry is decoded and formatted.
func BenchmarkFollow(b *testing.B) {
	const n = 100_000
	for _, static := range []bool{true, false} {
		b.Run(fmt.Sprint("static=", static), func(b *testing.B) {
			fl := newFakeLog(b, static)
			der, _, err := fl.CA().Cert(1, []string{"www.example.com", "example.com"}, true)
			must(b, err)
			fl.SetSameCert(der)
			fl.SetFaults(cttest.Faults{MaxBatch: 1000})
			must(b, fl.AddN(n, "com"))
			fl.Publish()
			b.ResetTimer()
			for b.Loop() {
				cfg := TailConfig{Logs: []Log{logOf(b, fl)}, Start: Start{FromStart: true}, Poll: 50 * time.Millisecond,
					Out: io.Discard, Format: func(ev Event) []byte { return append(ev.AppendJSON(nil), '\n') }, DedupWindow: -1}
				r := start(b, cfg)
				for r.Stats()[0].Next < n {
					time.Sleep(time.Millisecond)
				}
				r.stop(b)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
