package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ward-health/ward/internal/lookalike"
	"github.com/ward-health/ward/internal/mail"
	"github.com/ward-health/ward/internal/mail/bayes"
	"github.com/ward-health/ward/internal/mail/finding"
)

const mailUsage = `Usage: ward mail COMMAND [flags]

Commands:
    analyze   judge messages: malicious, phishing, suspicious or clean
    learn     teach the content classifier your confirmed reports
    eval      measure the analyzer on ../shared/data/mail

Run "ward mail COMMAND -h" for the flags of a command.
`

const mailAnalyzeUsage = `Usage: ward mail analyze [flags] FILE|DIR|-...

Reads messages (RFC 5322 .eml files; mbox files, as mail clients export
folders, message by message; a directory is read recursively; "-" reads
stdin) and judges each: malicious (delivers malware),
phishing (credential theft or impersonation), suspicious (weaker signs, or
an analysis limit was reached) or clean, with a score and the reasons.
Results come in input order. docs/mail.md explains every reason.

Flags:
    -brands FILE     brands file (YAML or one domain per line); default: the
                     built-in health brand set (see "ward brands")
    -brand DOMAIN    protect DOMAIN too (repeatable)
    -iocs FILE       known indicators: a list (one URL, domain, IP or
                     MD5/SHA-1/SHA-256 hash a line), a STIX 2.1 bundle, a
                     MISP event or a MISP feed directory (as "ward feed
                     export" writes them)
    -own DOMAIN      your organisation's domain (repeatable): outside mail
                     that names it in the sender's name is flagged
    -trusted ID      believe Authentication-Results headers written by the
                     receiving server ID, e.g. mx.hospital.nl (repeatable)
    -dns HOST:PORT   verify DKIM signatures, asking this DNS server for the
                     keys (e.g. 127.0.0.1:53); default: DKIM not verified
    -jsonl           one JSON object per message: {"file","message_id",
                     "subject","from","verdict","score","reasons","iocs",
                     "attachments","errors"}
    -o FILE          write results to FILE instead of stdout
    -fail-on VERDICT exit with status 1 when a message is judged VERDICT or
                     worse (malicious, phishing, suspicious)
    -t N             messages analysed at once (default: the number of CPUs)
    -timeout D       time allowed per message (default 10s)
    -no-bayes        leave out the content classifier (bayes_spam)
    -learned FILE    classify with what "ward mail learn" taught FILE, on
                     top of the built-in model

Exit status: 0, or 1 for I/O errors and -fail-on, 2 for usage errors.

Examples:
    ward mail analyze reported/CORONAVIRUS_COVID-19.eml
    ward mail analyze -jsonl -fail-on phishing ./inbox-export/
    ward mail analyze -own mijnziekenhuis.nl -trusted mx.mijnziekenhuis.nl - < msg.eml
`

func runMail(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, mailUsage)
		return usagef("missing mail command")
	}
	switch args[0] {
	case "analyze":
		return usageOf(runMailAnalyze(ctx, e, args[1:]), "mail analyze")
	case "eval":
		return usageOf(runMailEval(ctx, e, args[1:]), "mail eval")
	case "learn":
		return usageOf(runMailLearn(ctx, e, args[1:]), "mail learn")
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, mailUsage)
		return nil
	}
	return usagef("unknown mail command %q: use analyze, learn or eval", args[0])
}

// usageOf makes the hint of a usage error name cmd, so that "ward mail
// analyze -x" suggests "ward mail analyze -h"; other errors pass through.
func usageOf(err error, cmd string) error {
	var ue usageError
	if errors.As(err, &ue) && ue.cmd == "" {
		ue.cmd = cmd
		return ue
	}
	return err
}

// mailFlags are the analyzer settings shared by analyze and eval.
type mailFlags struct {
	bf      brandFlags
	iocs    string
	own     stringList
	trusted stringList
	timeout time.Duration
	workers int
	dns     string
	noBayes bool
	learned string
}

func (m *mailFlags) analyzer() (*mail.Analyzer, error) {
	set, err := m.bf.load()
	if err != nil {
		return nil, err
	}
	matcher, err := lookalike.NewMatcher(set)
	if err != nil {
		return nil, err
	}
	cfg := mail.Config{Brands: set, Matcher: matcher, TrustedReceivers: m.trusted, OwnDomains: m.own,
		Limits: mail.Limits{Timeout: m.timeout}, NoBayes: m.noBayes}
	if m.iocs != "" {
		if cfg.IOCs, err = mail.LoadIOCs(m.iocs); err != nil {
			return nil, err
		}
	}
	if m.dns != "" {
		if _, _, err := net.SplitHostPort(m.dns); err != nil {
			return nil, usagef("-dns %q: give HOST:PORT, e.g. 127.0.0.1:53", m.dns)
		}
		cfg.Resolver = mail.ResolverAt(m.dns)
	}
	if m.timeout < 0 {
		return nil, usagef("-timeout %v is negative", m.timeout)
	}
	if m.learned != "" {
		if m.noBayes {
			return nil, usagef("-learned and -no-bayes contradict each other: give one")
		}
		if cfg.Bayes, err = learnedModel(m.learned); err != nil {
			return nil, err
		}
	}
	a, err := mail.NewAnalyzer(cfg)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return a, nil
}

func runMailAnalyze(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("mail analyze")
	var mf mailFlags
	mf.bf.register(fs)
	fs.StringVar(&mf.iocs, "iocs", "", "")
	fs.Var(&mf.own, "own", "")
	fs.Var(&mf.trusted, "trusted", "")
	fs.StringVar(&mf.dns, "dns", "", "")
	fs.DurationVar(&mf.timeout, "timeout", 0, "")
	fs.IntVar(&mf.workers, "t", runtime.NumCPU(), "")
	fs.BoolVar(&mf.noBayes, "no-bayes", false, "")
	fs.StringVar(&mf.learned, "learned", "", "")
	jsonl := fs.Bool("jsonl", false, "")
	out := fs.String("o", "", "")
	failOn := fs.String("fail-on", "", "")
	if err := parseFlags(e, fs, mailAnalyzeUsage, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("give a message file, a directory or - for stdin")
	}
	if mf.workers < 1 || mf.workers > 256 {
		return usagef("-t %d is out of range: use 1 to 256", mf.workers)
	}
	var threshold mail.Verdict
	if *failOn != "" {
		v, err := mail.ParseVerdict(*failOn)
		if err != nil {
			return usagef("-fail-on: %v", err)
		}
		threshold = v
	}
	a, err := mf.analyzer()
	if err != nil {
		return err
	}
	inputs, err := listMessages(fs.Args(), false)
	if err != nil {
		return err
	}
	w, closeOut, err := openOutput(e, *out)
	if err != nil {
		return err
	}
	counts := map[mail.Verdict]int{}
	failed := 0
	err = analyzeAll(ctx, e, a, inputs, mf.workers, func(r mail.Result) error {
		counts[r.Verdict]++
		if threshold != "" && r.Verdict.Rank() >= threshold.Rank() {
			failed++
		}
		if *jsonl {
			return writeResultJSON(w, r)
		}
		return writeReport(w, r)
	})
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "ward: mail: %d messages: %d malicious, %d phishing, %d suspicious, %d clean\n",
		counts[mail.Malicious]+counts[mail.Phishing]+counts[mail.Suspicious]+counts[mail.Clean],
		counts[mail.Malicious], counts[mail.Phishing], counts[mail.Suspicious], counts[mail.Clean])
	if failed > 0 {
		fmt.Fprintf(e.stderr, "ward: mail: %d messages judged %s or worse (-fail-on)\n", failed, threshold)
		return errSilentExit
	}
	return nil
}

// listMessages expands the arguments into message paths ("-" is stdin),
// directories walked recursively in name order. For eval, the data set's
// licence and provenance files are skipped.
func listMessages(args []string, skipMeta bool) ([]string, error) {
	var out []string
	for _, arg := range args {
		if arg == "-" {
			out = append(out, "-")
			continue
		}
		st, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("reading messages: %w", err)
		}
		if !st.IsDir() {
			out = append(out, arg)
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if d.IsDir() {
				if p != arg && strings.HasPrefix(name, ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(name, ".") || skipMeta && isMetaFile(name) {
				return nil
			}
			if d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading messages: %w", err)
		}
	}
	return out, nil
}

func isMetaFile(name string) bool {
	u := strings.ToUpper(name)
	return u == "SOURCE.MD" || u == "MANIFEST.TSV" || u == "README.MD" || strings.HasPrefix(u, "LICENSE") || strings.HasPrefix(u, "NOTICE")
}

// analyzeAll analyses the messages of the inputs (files, mbox files,
// stdin; see readMessages) with n workers and hands the results to emit
// in input order.
func analyzeAll(ctx context.Context, e *env, a *mail.Analyzer, inputs []string, n int, emit func(mail.Result) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		i int
		m message
	}
	type done struct {
		i   int
		r   mail.Result
		err error
	}
	jobs := make(chan job)
	results := make(chan done, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				d := done{i: j.i, err: j.m.err}
				if j.m.err == nil {
					d.r = a.Analyze(ctx, j.m.name, j.m.raw)
				}
				select {
				case results <- d:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	total := 0 // messages read; set before jobs is closed
	go func() {
		defer close(jobs)
		readMessages(e, inputs, func(m message) bool {
			select {
			case jobs <- job{total, m}:
				total++
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	go func() { wg.Wait(); close(results) }()
	pending := map[int]done{}
	next, unread := 0, 0
	var firstErr error
	for d := range results {
		pending[d.i] = d
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if firstErr != nil {
				continue
			}
			if p.err != nil {
				// Say so and go on with the next message; the exit status
				// tells at the end.
				fmt.Fprintf(e.stderr, "ward: error: %v\n", p.err)
				unread++
				continue
			}
			if err := emit(p.r); err != nil {
				firstErr = err
				cancel()
			}
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err // the caller's context ended: not every message was judged
	}
	if unread > 0 {
		return fmt.Errorf("%d of %d messages could not be read", unread, total)
	}
	return nil
}

// readMessage reads one message, at most the analyzer's size limit plus
// one byte (so that an over-long message is still judged, as too large).
func readMessage(e *env, path string) ([]byte, error) {
	limit := mail.DefaultLimits().MaxSize + 1
	if path == "-" {
		return io.ReadAll(io.LimitReader(e.stdin, limit))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading message: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		return nil, fmt.Errorf("reading message %s: %w", path, err)
	}
	return b, nil
}

// writeResultJSON writes one result as a JSON line, with <, > and & kept
// as they are (addresses read better that way).
func writeResultJSON(w io.Writer, r mail.Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// writeReport prints a result for people.
func writeReport(w *bufio.Writer, r mail.Result) error {
	fmt.Fprintf(w, "%s: %s (score %d)\n", r.File, strings.ToUpper(string(r.Verdict)), r.Score)
	if r.From != "" {
		fmt.Fprintf(w, "  From:    %s\n", r.From)
	}
	if r.Subject != "" {
		fmt.Fprintf(w, "  Subject: %s\n", r.Subject)
	}
	switch r.Verdict {
	case mail.Malicious:
		fmt.Fprintln(w, "  What it means: this message carries malware. Do not open its attachments or links; report and delete it.")
	case mail.Phishing:
		fmt.Fprintln(w, "  What it means: this message tries to steal credentials or pretends to be someone it is not. Do not click or reply.")
	case mail.Suspicious:
		fmt.Fprintln(w, "  What it means: some warning signs; have a security officer look before you act on it.")
	}
	if len(r.Reasons) > 0 {
		fmt.Fprintln(w, "  Why:")
		for _, f := range r.Reasons {
			fmt.Fprintf(w, "    - %s (+%d, %s)\n", f.Detail, f.Score, f.Signal)
		}
	}
	for _, at := range r.Attachments {
		fmt.Fprintf(w, "  Attachment: %q, %s, %d bytes, sha256 %s\n", at.Name, at.Type, at.Size, at.SHA256)
	}
	for _, s := range r.Errors {
		fmt.Fprintf(w, "  Note: %s\n", s)
	}
	_, err := fmt.Fprintln(w)
	return err
}

const mailEvalUsage = `Usage: ward mail eval [-data DIR] [-v] [brand and analyzer flags]

Runs the analyzer over the public mail corpora in DIR (default
../shared/data/mail) and prints, per corpus, the count of each verdict and
the target checks:
  - no SpamAssassin ham message (easy-ham-1, hard-ham-1) malicious or
    phishing;
  - at least 95% of the phishing sample malicious, phishing or suspicious;
  - no ham set with 2% or more of its messages judged suspicious;
  - the spam_olevbmacro samples judged as their names say (macro.eml,
    renamedmacro.eml, zippwmacro.eml, target_uri.eml suspicious or worse;
    malicemacro.eml malicious; encrypted.eml suspicious; nomacro.eml and
    goodcsv.eml clean), each listed with PASS or FAIL.
The built-in Bayes model was trained on half of easy-ham-1, hard-ham-1 and
spam-2: each of these sets is shown twice, its "held-out" half (messages the
model never saw: the honest figures) and its "TRAINED" half (contaminated:
the model learnt from these very messages). Each check also says what the
verdicts would be without the bayes_spam signal, and a table shows how the
held-out halves spread over the classifier's probability.
The other corpora (rspamd, sublime, eml_analyzer, enmime) test robustness:
their counts and the number of messages with parse errors are shown.

Flags:
    -data DIR   mail data directory (default ../shared/data/mail)
    -v          list the ham judged malicious/phishing/suspicious and the
                phishing judged clean, with their reasons
    -brands, -brand, -iocs, -own, -trusted, -t, -timeout, -no-bayes as for
    analyze

Example:
    ward mail eval -v
`

// evalCorpus is one corpus of "ward mail eval". split corpora are those
// the Bayes model was trained on: they are reported as two rows, the
// held-out half and the trained-on half.
type evalCorpus struct {
	name, dir, kind string
	split           bool
}

func runMailEval(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("mail eval")
	var mf mailFlags
	mf.bf.register(fs)
	fs.StringVar(&mf.iocs, "iocs", "", "")
	fs.Var(&mf.own, "own", "")
	fs.Var(&mf.trusted, "trusted", "")
	fs.DurationVar(&mf.timeout, "timeout", 0, "")
	fs.IntVar(&mf.workers, "t", runtime.NumCPU(), "")
	fs.BoolVar(&mf.noBayes, "no-bayes", false, "")
	data := fs.String("data", "../shared/data/mail", "")
	verbose := fs.Bool("v", false, "")
	if err := parseFlags(e, fs, mailEvalUsage, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if mf.workers < 1 || mf.workers > 256 {
		return usagef("-t %d is out of range: use 1 to 256", mf.workers)
	}
	a, err := mf.analyzer()
	if err != nil {
		return err
	}
	const sa = "spamassassin_public_corpus/"
	corpora := []evalCorpus{
		{"easy-ham-1", sa + "easy-ham-1", "ham", true},
		{"hard-ham-1", sa + "hard-ham-1", "ham", true},
		{"spam-2", sa + "spam-2", "spam", true},
		{"phishing_pot", "phishing_pot_CC-BY-NC-4.0_EVALUATION-ONLY", "phishing", false},
		{"spamassassin nice", "spamassassin_testdata/nice", "ham", false},
		{"spam_olevbmacro", "spamassassin_testdata/spam_olevbmacro", "macro", false},
		{"sublime_rules", "sublime_rules", "robustness", false},
		{"rspamd", "rspamd_functional_messages", "robustness", false},
		{"eml_analyzer", "eml_analyzer_fixtures", "robustness", false},
		{"enmime", "enmime_testdata", "robustness", false},
	}
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%-34s %6s %9s %8s %10s %6s %7s  %s\n", "corpus", "msgs", "malicious", "phishing", "suspicious", "clean", "errors", "check")
	measured := 0
	for _, c := range corpora {
		dir := filepath.Join(*data, c.dir)
		if _, err := os.Stat(dir); err != nil {
			fmt.Fprintf(e.stderr, "ward: mail eval: skipping %s: %v\n", c.name, err)
			continue
		}
		inputs, err := listMessages([]string{dir}, true)
		if err != nil {
			return err
		}
		measured++
		if !c.split {
			if err := evalRow(ctx, e, w, a, mf.workers, c, c.name, dir, inputs, *verbose); err != nil {
				return err
			}
			continue
		}
		var held, trained []string
		for _, in := range inputs {
			if bayes.HeldOut(in) {
				held = append(held, in)
			} else {
				trained = append(trained, in)
			}
		}
		if err := evalRow(ctx, e, w, a, mf.workers, c, c.name+" held-out", dir, held, *verbose); err != nil {
			return err
		}
		if err := evalRow(ctx, e, w, a, mf.workers, c, c.name+" TRAINED (contaminated)", dir, trained, false); err != nil {
			return err
		}
	}
	if measured == 0 {
		return fmt.Errorf("nothing to evaluate: no corpus under %s; give -data DIR", *data)
	}
	if mf.noBayes {
		return nil
	}
	if err := evalBayesSpread(ctx, e, w, filepath.Join(*data, "spamassassin_public_corpus")); err != nil {
		return err
	}
	return evalLearning(ctx, e, w, a, mf.workers, *data, *verbose)
}

// evalRow analyses one corpus (or half of one) and prints its row, and
// with verbose the ham judged other than clean and the phishing judged
// clean.
func evalRow(ctx context.Context, e *env, w io.Writer, a *mail.Analyzer, workers int, c evalCorpus, label, dir string, inputs []string, verbose bool) error {
	macroExpect := macroExpectations()
	counts, without := map[mail.Verdict]int{}, map[mail.Verdict]int{}
	withErrors, macroFailed := 0, 0
	var notes []string
	start := time.Now()
	n := 0 // messages judged (an mbox file holds several)
	err := analyzeAll(ctx, e, a, inputs, workers, func(r mail.Result) error {
		n++
		counts[r.Verdict]++
		without[verdictWithoutBayes(r)]++
		if len(r.Errors) > 0 {
			withErrors++
		}
		rel, _ := filepath.Rel(dir, r.File)
		switch {
		case c.kind == "macro":
			want, known := macroExpect[filepath.Base(rel)]
			verdict := "(no expectation)"
			if known {
				ok := want.holds(r.Verdict)
				if !ok {
					macroFailed++
				}
				verdict = fmt.Sprintf("want %s: %s", want, passFail(ok))
			}
			notes = append(notes, fmt.Sprintf("  %-24s %-10s %s\t%s", rel, r.Verdict, verdict, reasonList(r)))
		case verbose && c.kind == "ham" && r.Verdict != mail.Clean,
			verbose && c.kind == "phishing" && r.Verdict == mail.Clean:
			notes = append(notes, fmt.Sprintf("  %s\t%s\t%d\t%s", rel, r.Verdict, r.Score, reasonList(r)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	check := ""
	switch c.kind {
	case "ham":
		bad := counts[mail.Malicious] + counts[mail.Phishing]
		sus := pct(counts[mail.Suspicious], n)
		check = fmt.Sprintf("malicious+phishing %d (target 0) %s; suspicious %.1f%% (target < 2%%) %s; without bayes_spam: suspicious %.1f%%",
			bad, passFail(bad == 0), sus, passFail(sus < 2), pct(without[mail.Suspicious], n))
	case "phishing":
		caught := n - counts[mail.Clean]
		check = fmt.Sprintf("caught %.1f%% (target >= 95%%) %s; without bayes_spam: caught %.1f%%",
			pct(caught, n), passFail(pct(caught, n) >= 95), pct(n-without[mail.Clean], n))
	case "spam":
		check = fmt.Sprintf("caught %.1f%%; without bayes_spam: caught %.1f%%", pct(n-counts[mail.Clean], n), pct(n-without[mail.Clean], n))
	case "macro":
		check = fmt.Sprintf("%d of %d as their names say %s", n-macroFailed, n, passFail(macroFailed == 0))
	}
	fmt.Fprintf(w, "%-34s %6d %9d %8d %10d %6d %7d  %s  [%.0f msgs/s]\n", label, n, counts[mail.Malicious], counts[mail.Phishing],
		counts[mail.Suspicious], counts[mail.Clean], withErrors, check, float64(n)/time.Since(start).Seconds())
	slices.Sort(notes)
	for _, s := range notes {
		fmt.Fprintln(w, s)
	}
	return nil
}

// verdictWithoutBayes is the verdict the message would have had without
// the bayes_spam signal.
func verdictWithoutBayes(r mail.Result) mail.Verdict {
	fs := make([]finding.Finding, 0, len(r.Reasons))
	found := false
	for _, f := range r.Reasons {
		if f.Signal == mail.SignalBayesSpam {
			found = true
			continue
		}
		fs = append(fs, f)
	}
	if !found {
		return r.Verdict
	}
	v, _ := mail.Decide(fs)
	return v
}

// evalBayesSpread prints how the held-out halves of the SpamAssassin sets
// spread over the classifier's spam probability: the figures that
// BayesThreshold and BayesSure were chosen from.
func evalBayesSpread(ctx context.Context, e *env, w io.Writer, dir string) error {
	m, err := bayes.Default()
	if err != nil {
		return err
	}
	cuts := []float64{0.5, mail.BayesThreshold, 0.95, 0.99, mail.BayesSure}
	sets := []string{"easy-ham-1", "hard-ham-1", "spam-2"}
	files := make([][]string, len(sets))
	for i, s := range sets {
		if files[i], err = listMessages([]string{filepath.Join(dir, s)}, true); err != nil {
			return nil // the corpus is absent: the rows above said so
		}
	}
	fmt.Fprintf(w, "\nbayes: share of each HELD-OUT half (never trained on) with spam probability >= p\n%-8s", "p")
	for _, s := range sets {
		fmt.Fprintf(w, " %22s", s+" held-out")
	}
	fmt.Fprintln(w)
	at := make([][]int, len(sets))
	total := make([]int, len(sets))
	for i := range sets {
		at[i] = make([]int, len(cuts))
		for _, in := range files[i] {
			if !bayes.HeldOut(in) {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			raw, err := readMessage(e, in)
			if err != nil {
				return err
			}
			total[i]++
			p := m.Classify(mail.ClassifierInput(ctx, raw)).Spam
			for j, c := range cuts {
				if p >= c {
					at[i][j]++
				}
			}
		}
	}
	for j, c := range cuts {
		fmt.Fprintf(w, "%-8g", c)
		for i := range sets {
			cell := fmt.Sprintf("%d/%d %.1f%%", at[i][j], total[i], pct(at[i][j], total[i]))
			fmt.Fprintf(w, " %22s", cell)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// verdictRange is what an evaluation sample should be judged: a verdict
// from min to max, by rank.
type verdictRange struct{ min, max mail.Verdict }

func (v verdictRange) holds(got mail.Verdict) bool {
	return got.Rank() >= v.min.Rank() && got.Rank() <= v.max.Rank()
}

func (v verdictRange) String() string {
	switch {
	case v.min == v.max:
		return string(v.min)
	case v.max == mail.Malicious:
		return string(v.min) + " or worse"
	}
	return string(v.min) + " to " + string(v.max)
}

// macroExpect says how each spam_olevbmacro sample must be judged, from
// what its name says (SpamAssassin's OLEVBMacro plugin tests).
func macroExpectations() map[string]verdictRange {
	return map[string]verdictRange{
		"macro.eml":        {mail.Suspicious, mail.Malicious}, // macro.xlsm: VBA present
		"malicemacro.eml":  {mail.Malicious, mail.Malicious},  // auto-exec macro
		"renamedmacro.eml": {mail.Suspicious, mail.Malicious}, // macro document named .jpg
		"zippwmacro.eml":   {mail.Suspicious, mail.Malicious}, // macro document in a password-protected zip
		"encrypted.eml":    {mail.Suspicious, mail.Suspicious},
		"target_uri.eml":   {mail.Suspicious, mail.Malicious}, // document with an external target URI
		"nomacro.eml":      {mail.Clean, mail.Clean},
		"goodcsv.eml":      {mail.Clean, mail.Clean},
	}
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func reasonList(r mail.Result) string {
	var s []string
	for _, f := range r.Reasons {
		s = append(s, fmt.Sprintf("%s(%d)", f.Signal, f.Score))
	}
	return strings.Join(s, " ")
}
