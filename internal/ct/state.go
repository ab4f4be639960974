package ct

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ward-health/ward/internal/atomicfile"
)

// stateFile is the name of the positions file in the state directory.
const stateFile = "ct-positions.json"

// tailState is what Tail saves: each log's position, and how far the
// output file had been written when the positions were taken.
type tailState struct {
	Version int                  `json:"version"`
	Logs    map[string]*Position `json:"logs"` // by log URL
	Output  *outputMark          `json:"output,omitempty"`
}

type outputMark struct {
	Path   string `json:"path"`
	Offset int64  `json:"offset"`
}

// loadState reads the state of dir; a missing file is an empty state.
func loadState(dir string) (*tailState, error) {
	st := &tailState{Version: 1, Logs: map[string]*Position{}}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the CT state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("the CT state %s is damaged (%v): move it away to start again from the head of each log", filepath.Join(dir, stateFile), err)
	}
	if st.Version != 1 {
		return nil, fmt.Errorf("the CT state %s has version %d; this ward reads version 1", filepath.Join(dir, stateFile), st.Version)
	}
	if st.Logs == nil {
		st.Logs = map[string]*Position{}
	}
	return st, nil
}

// save writes the state atomically: a new file, synced, renamed over the
// old one, and the directory synced, so that a crash at any point leaves
// either the old state or the new one.
func (st *tailState) save(dir string) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("saving the CT state: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, stateFile), 0o600, b); err != nil {
		return fmt.Errorf("saving the CT state: %w", err)
	}
	return nil
}

// Hash is a SHA-256 hash; in JSON, standard base64 as in the CT APIs.
type Hash [32]byte

func (h Hash) MarshalText() ([]byte, error) {
	return []byte(base64.StdEncoding.EncodeToString(h[:])), nil
}

func (h *Hash) UnmarshalText(b []byte) error {
	d, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(d) != 32 {
		return fmt.Errorf("a hash must be 32 bytes in base64, not %q", b)
	}
	*h = Hash(d)
	return nil
}
