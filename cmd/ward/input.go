package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// lineReader reads lines of at most max bytes. A longer line is consumed
// and reported as errLineTooLong instead of being returned, so a hostile
// 10 MB line costs neither memory nor the rest of the input.
type lineReader struct {
	r    *bufio.Reader
	max  int
	line int
}

var errLineTooLong = errors.New("line too long")

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, max+1), max: max}
}

// next returns the next line without its line ending. At the end of input
// it returns io.EOF. The returned slice is valid until the next call.
func (l *lineReader) next() ([]byte, error) {
	l.line++
	b, err := l.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = l.r.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, errLineTooLong
	case errors.Is(err, io.EOF):
		if len(b) == 0 {
			return nil, io.EOF
		}
	case err != nil:
		return nil, err
	}
	b = bytes.TrimRight(b, "\r\n")
	if len(b) > l.max {
		return nil, errLineTooLong
	}
	return b, nil
}

// openInput returns the input named by -l, or stdin when path is "" or "-".
func openInput(e *env, path string) (io.Reader, func(), error) {
	if path == "" || path == "-" {
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening input list: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// openOutput returns the file named by -o, or stdout. The returned close
// function flushes and reports write errors.
func openOutput(e *env, path string) (*bufio.Writer, func() error, error) {
	if path == "" || path == "-" {
		w := bufio.NewWriterSize(e.stdout, 64<<10)
		return w, w.Flush, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("creating output: %w", err)
	}
	w := bufio.NewWriterSize(f, 64<<10)
	return w, func() error {
		if err := w.Flush(); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		return nil
	}, nil
}
