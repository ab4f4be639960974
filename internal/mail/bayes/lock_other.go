//go:build !unix

package bayes

import "time"

// lockFile does not lock where flock(2) is missing: run one writer of a
// learning file at a time there.
func lockFile(path string, wait time.Duration) (unlock func(), err error) {
	return func() {}, nil
}
