package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zone.rpz")
	if err := WriteBytes(path, 0o644, []byte("first")); err != nil {
		t.Fatal(err)
	}
	// A failed write leaves the old file whole and no temporary file.
	err := Write(path, 0o644, func(w io.Writer) error {
		w.Write([]byte("half of the sec"))
		return errors.New("the store went away")
	})
	if err == nil {
		t.Fatal("a failing writer gave no error")
	}
	if b, _ := os.ReadFile(path); string(b) != "first" {
		t.Errorf("after a failed write the file holds %q", b)
	}
	if err := WriteBytes(path, 0o600, []byte("second")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if b, _ := os.ReadFile(path); string(b) != "second" || fi.Mode().Perm() != 0o600 {
		t.Errorf("file %q mode %v", b, fi.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory, want 1 (temporary files left behind?)", len(ents))
	}
	if err := WriteBytes(filepath.Join(dir, "no", "such", "dir"), 0o644, nil); err == nil {
		t.Error("a missing directory gave no error")
	}
}
