package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/ward-health/ward/internal/mail"
)

// message is one message read from the inputs of the mail commands.
type message struct {
	name string
	raw  []byte
	err  error
}

// maxMboxMessages bounds the messages read from one mbox file.
const maxMboxMessages = 1 << 20

// postmark is the "From " line that opens each message of an mbox file
// ("From sender@example.org Mon Mar 16 09:12:01 2020", "From - Tue Jan 5
// 10:00:00 2021" as Thunderbird writes it). Only such a line, at the start
// of the file or after an empty line, separates messages, so a body line
// that merely begins with "From " does not.
var postmark = regexp.MustCompile(`^From \S+ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d{2}`)

// readMessages calls yield with each message of the inputs, in order,
// until yield returns false. A file is one message, unless it is an mbox
// file (its first line is a postmark): then each of its messages is one,
// named FILE#N when the file holds more than one. "-" is stdin, read the
// same way. Each message is cut at the analyzer's size limit plus one
// byte, so that an over-long message is still judged, as too large.
func readMessages(e *env, inputs []string, yield func(message) bool) {
	limit := mail.DefaultLimits().MaxSize + 1
	for _, in := range inputs {
		var r io.Reader = e.stdin
		var f *os.File
		if in != "-" {
			var err error
			if f, err = os.Open(in); err != nil {
				if !yield(message{name: in, err: fmt.Errorf("reading message: %w", err)}) {
					return
				}
				continue
			}
			r = f
		}
		ok := readFrom(bufio.NewReaderSize(r, 64<<10), in, limit, yield)
		if f != nil {
			f.Close()
		}
		if !ok {
			return
		}
	}
}

// readFrom reads one input: a message, or the messages of an mbox.
func readFrom(br *bufio.Reader, name string, limit int64, yield func(message) bool) bool {
	head, _ := br.Peek(256)
	if i := bytes.IndexByte(head, '\n'); i < 0 || !postmark.Match(head[:i]) {
		raw, err := io.ReadAll(io.LimitReader(br, limit))
		if err != nil {
			err = fmt.Errorf("reading message %s: %w", name, err)
		}
		return yield(message{name: name, raw: raw, err: err})
	}
	return splitMbox(br, name, limit, yield)
}

// splitMbox yields the messages of an mbox, without their postmark lines
// and with the ">From " escapes of mboxrd and mboxo undone (one ">" taken
// off a line of ">"s then "From "). The first message is held back until
// a second one starts, so that a file of one message keeps its plain name.
func splitMbox(br *bufio.Reader, name string, limit int64, yield func(message) bool) bool {
	var cur, held []byte
	n := 0
	started, lineStart, prevBlank := false, true, true
	emit := func(raw []byte) bool {
		n++
		if n == 1 {
			held = raw
			return true
		}
		if n == 2 {
			if !yield(message{name: name + "#1", raw: held}) {
				return false
			}
			held = nil
		}
		return yield(message{name: fmt.Sprintf("%s#%d", name, n), raw: raw})
	}
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			isPostmark := lineStart && prevBlank && len(chunk) < 1024 && postmark.Match(chunk)
			switch {
			case isPostmark:
				if started && !emit(cur) {
					return false
				}
				if n >= maxMboxMessages {
					return yield(message{name: name, err: fmt.Errorf("reading %s: more than %d messages in one mbox file; split it", name, maxMboxMessages)})
				}
				started, cur = true, nil
			case started:
				line := chunk
				if lineStart && escapedFrom(line) {
					line = line[1:]
				}
				if room := limit - int64(len(cur)); room > 0 {
					cur = append(cur, line[:min(int64(len(line)), room)]...)
				}
			}
			complete := chunk[len(chunk)-1] == '\n'
			prevBlank = lineStart && complete && len(bytes.TrimRight(chunk, "\r\n")) == 0
			lineStart = complete
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if started && !emit(cur) {
				return false
			}
			if n == 1 {
				if !yield(message{name: name, raw: held}) {
					return false
				}
			}
			if err != io.EOF {
				return yield(message{name: name, err: fmt.Errorf("reading %s: %w", name, err)})
			}
			return true
		}
	}
}

// escapedFrom reports whether a line is ">From ", ">>From ", ...: a body
// line that an mbox writer escaped.
func escapedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}
