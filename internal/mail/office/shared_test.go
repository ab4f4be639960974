package office

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ward-health/ward/internal/mail/finding"
)

// sharedOffice is the public Office sample set, relative to this package.
// It is not part of the repository; tests that read it skip without it.
const sharedOffice = "../../../../shared/data/office"

// manifestEntry is one row of MANIFEST.tsv.
type manifestEntry struct {
	path, container, notes string
}

func readManifest(t testing.TB) []manifestEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(sharedOffice, "MANIFEST.tsv"))
	if err != nil {
		t.Skip("shared/data/office not present")
	}
	defer f.Close()
	var out []manifestEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 6 || cols[0] == "path" {
			continue
		}
		out = append(out, manifestEntry{path: cols[0], container: cols[3], notes: cols[len(cols)-1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSharedOfficeCorpus walks every file of shared/data/office and
// checks its classification against what MANIFEST.tsv says it is.
func TestSharedOfficeCorpus(t *testing.T) {
	for _, e := range readManifest(t) {
		t.Run(e.path, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(sharedOffice, e.path))
			if err != nil {
				t.Fatal(err)
			}
			r := Analyze(context.Background(), data, Limits{})
			got := signals(r)
			need := func(s string) {
				t.Helper()
				if !slices.Contains(got, s) {
					t.Errorf("signal %q missing; got %v (errors %v)", s, got, r.Errors)
				}
			}
			malware := hasClass(r, finding.Malware)
			base := filepath.Base(e.path)
			ext := filepath.Ext(base)

			// The container decides the format.
			switch {
			case strings.HasPrefix(e.container, "OLE/CFB"):
				if r.Format != FormatOLE {
					t.Errorf("Format = %q, want ole", r.Format)
				}
			case e.container == "ZIP/OOXML" && !strings.HasPrefix(ext, ".od"):
				if r.Format != FormatOOXML {
					t.Errorf("Format = %q, want ooxml", r.Format)
				}
			case e.container == "RTF":
				if r.Format != FormatRTF {
					t.Errorf("Format = %q, want rtf", r.Format)
				}
			default: // XML, CSV, SLK, ODF, password-protected zips, text
				if r.Format != "" {
					t.Errorf("Format = %q for a %s file, want empty", r.Format, e.container)
				}
			}

			notes := strings.ToLower(e.notes)
			switch {
			case strings.Contains(e.container, "encrypted OOXML"),
				strings.HasPrefix(e.path, "oletools_test-data/encrypted/"):
				if !r.Encrypted {
					t.Errorf("Encrypted = false for an encrypted file")
				}
				need(SignalEncrypted)
			case strings.Contains(notes, "benign"), strings.HasPrefix(base, "harmless"),
				strings.Contains(notes, "negative control"):
				if malware {
					t.Errorf("benign file has a Malware-class finding: %+v", r.Findings)
				}
			}

			switch {
			case base == "macro.xls":
				need(SignalMacroPresent)
				need(SignalMacroAutoExec)
				if malware {
					t.Errorf("benign macro workbook has a Malware-class finding: %+v", r.Findings)
				}
			case base == "xlswithmacro.xlsm":
				need(SignalMacroAutoExecExec)
			case strings.HasPrefix(e.path, "oletools_test-data/excel4-macros/") && ext != ".slk":
				need(SignalXLMMacro)
				need(SignalXLMAutoOpen)
				if malware {
					t.Errorf("harmless ALERT() macro has a Malware-class finding: %+v", r.Findings)
				}
			case strings.HasPrefix(base, "dde-test.") && ext != ".xlsb":
				need(SignalDDE)
			case strings.Contains(e.path, "external_link/"):
				need(SignalRemoteTemplate)
				if len(r.URLs) == 0 {
					t.Errorf("no URL for the external link")
				}
			case strings.HasPrefix(base, "embedded-") && r.Format != "":
				if len(r.Embedded) == 0 {
					t.Errorf("no embedded object returned")
				}
			case strings.HasPrefix(base, "sample_with_lnk") || base == "sample_with_calc_embedded.doc":
				need(SignalEmbeddedExecutable)
			case base == "sample_with_vba.ppt":
				need(SignalMacroPresent)
			case base == "oleform-PR314.docm":
				need(SignalMacroPresent)
			case base == "issue_251.rtf":
				need(SignalRTFEquationEditor)
			case strings.HasPrefix(e.path, "mscfb/"):
				if len(r.Findings) != 0 {
					t.Errorf("plain OLE file has findings: %+v", r.Findings)
				}
			}
		})
	}
}
