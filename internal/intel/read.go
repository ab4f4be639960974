package intel

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Bounds on what the readers accept.
const (
	MaxDocumentSize = 64 << 20 // bytes of one STIX bundle, MISP event or list
	MaxIndicators   = 500_000  // indicators one read returns
	MaxSkips        = 1000     // skipped items listed with a reason (all are counted)
	maxJSONDepth    = 64       // nesting of JSON arrays and objects
	maxListLines    = 2_000_000
)

// ErrTooBig is returned when an input passes a bound; the message names it.
var ErrTooBig = errors.New("input too big")

// Skip is an item a reader left out and why.
type Skip struct {
	// Item locates it: "line 12", an object id, an attribute uuid.
	Item string `json:"item"`
	// Reason says why, e.g. "pattern is not a single equality comparison".
	Reason string `json:"reason"`
}

// Result is what a reader found.
type Result struct {
	Indicators []Indicator `json:"indicators"`
	// Skipped lists the first MaxSkips items left out; SkippedCount counts
	// them all.
	Skipped      []Skip `json:"skipped"`
	SkippedCount int    `json:"skipped_count"`
}

func (r *Result) skip(item, reason string) {
	r.SkippedCount++
	if len(r.Skipped) < MaxSkips {
		r.Skipped = append(r.Skipped, Skip{Item: clip(item, 200), Reason: clip(reason, 300)})
	}
}

func (r *Result) add(in Indicator) error {
	if len(r.Indicators) >= MaxIndicators {
		return fmt.Errorf("%w: more than %d indicators: split the input", ErrTooBig, MaxIndicators)
	}
	r.Indicators = append(r.Indicators, in)
	return nil
}

// clip shortens s to at most n bytes on a rune boundary, for messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// readAllLimited reads at most MaxDocumentSize bytes, failing beyond.
func readAllLimited(r io.Reader, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if len(b) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: %s larger than %d bytes", ErrTooBig, what, MaxDocumentSize)
	}
	return b, nil
}

// CheckJSONDepth fails with ErrTooBig when JSON nests arrays and objects
// deeper than max; it looks only at brackets outside strings, so it is
// cheap and never fails on valid shallow documents. Run it before
// decoding a hostile document.
func CheckJSONDepth(b []byte, max int) error {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: JSON nested deeper than %d", ErrTooBig, max)
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// ReadList reads a plain list, one indicator per line, its type guessed (see
// Guess). Blank lines and lines starting with "#" are ignored, as is the
// rest of a line after " #". Hosts-file lines ("0.0.0.0 evil.example") give
// their name. Lines that do not parse are skipped with their line number.
// Indicators get Source SourceImport; the caller sets the other fields.
func ReadList(r io.Reader) (Result, error) {
	var res Result
	sc := bufio.NewScanner(io.LimitReader(r, MaxDocumentSize+1))
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	n, size := 0, 0
	for sc.Scan() {
		n++
		size += len(sc.Bytes()) + 1
		if n > maxListLines || size > MaxDocumentSize {
			return res, fmt.Errorf("%w: list larger than %d lines or %d bytes: split it", ErrTooBig, maxListLines, MaxDocumentSize)
		}
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if f := strings.Fields(line); len(f) == 2 && (f[0] == "0.0.0.0" || f[0] == "127.0.0.1" || f[0] == "::") {
			line = f[1]
		}
		in, err := Guess(line)
		if err != nil {
			res.skip(fmt.Sprintf("line %d", n), err.Error())
			continue
		}
		in.Source = SourceImport
		if err := res.add(in); err != nil {
			return res, err
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("reading the list at line %d: %w (lines are limited to %d bytes)", n+1, err, maxLineLen)
	}
	return res, nil
}
