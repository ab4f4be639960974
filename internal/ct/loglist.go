package ct

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// LogType says which API a log serves for monitoring.
type LogType string

const (
	// LogRFC6962 logs serve the RFC 6962 get-sth and get-entries API.
	LogRFC6962 LogType = "rfc6962"
	// LogStatic logs serve the static-ct-api: a checkpoint and tiles.
	LogStatic LogType = "static"
)

// Log is one Certificate Transparency log from a log list.
type Log struct {
	// Description is the log's name in the list, such as
	// "Google 'Argon2026h2' log". It is unique in Google's lists.
	Description string
	// Operator is the name of the organisation that runs the log.
	Operator string
	// Type is the API the log serves for monitoring.
	Type LogType
	// URL is where to monitor the log: for RFC 6962 logs the log URL, for
	// static-ct-api logs the monitoring URL. It is as listed, usually with
	// a trailing slash.
	URL string
	// SubmissionURL is where certificates are submitted: for RFC 6962 logs
	// the same as URL, for static-ct-api logs the submission URL as listed.
	// A static-ct-api log's checkpoint origin derives from it (see Origin).
	SubmissionURL string
	// Key is the log's public key; Key.ID is its RFC 6962 log ID.
	Key *LogKey
	// MMD is the maximum merge delay; zero when the list gives none.
	MMD time.Duration
	// State is the log's state in the list: "usable", "qualified",
	// "readonly", "retired", "pending", "rejected", another name if a
	// future list adds one, or "" when the list gives no state.
	State string
	// Interval is the log's temporal interval: it accepts certificates
	// that expire at or after Start and before End. Both are zero when the
	// list gives no interval.
	Interval struct{ Start, End time.Time }
}

// Origin returns the checkpoint origin of a static-ct-api log, which
// c2sp.org/static-ct-api defines as the submission URL without the scheme
// and without trailing slashes, e.g. "log.sycamore.ct.letsencrypt.org/2026h2".
// It is not derived from the monitoring URL, which is often on another host.
// For an RFC 6962 log it is the log URL treated the same way.
//
// A few early static-ct-api logs used another origin; pass the origin such a
// log uses to ParseCheckpoint.
func (l Log) Origin() string {
	u := l.SubmissionURL
	if u == "" {
		u = l.URL
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+len("://"):]
	}
	return strings.TrimRight(u, "/")
}

// LogList is a parsed log list.
type LogList struct {
	// Version is the list's version string, such as "89.25".
	Version string
	// Timestamp is when the list was published (log_list_timestamp); zero
	// when absent.
	Timestamp time.Time
	// Logs are the list's RFC 6962 and static-ct-api logs, in list order.
	Logs []Log
	// Skipped says why each log left out of Logs was left out: a bad key,
	// a missing URL, a field of an unexpected type.
	Skipped []error
}

// jsonLogList is the part of Chrome's v3 log list schema that ParseLogList
// reads. Logs stay raw until each is decoded on its own, so that an error
// can name the log it is in.
type jsonLogList struct {
	Version   string `json:"version"`
	Timestamp string `json:"log_list_timestamp"`
	Operators []struct {
		Name      string            `json:"name"`
		Logs      []json.RawMessage `json:"logs"`
		TiledLogs []json.RawMessage `json:"tiled_logs"`
	} `json:"operators"`
}

// jsonLog is one entry of an operator's logs or tiled_logs.
type jsonLog struct {
	Description      string                     `json:"description"`
	LogID            string                     `json:"log_id"`
	Key              string                     `json:"key"`
	URL              string                     `json:"url"`
	SubmissionURL    string                     `json:"submission_url"`
	MonitoringURL    string                     `json:"monitoring_url"`
	MMD              int64                      `json:"mmd"`
	State            map[string]json.RawMessage `json:"state"`
	TemporalInterval *struct {
		StartInclusive string `json:"start_inclusive"`
		EndExclusive   string `json:"end_exclusive"`
	} `json:"temporal_interval"`
}

// ParseLogList parses a log list in Chrome's v3 JSON schema, as Google
// publishes at https://www.gstatic.com/ct/log_list/v3/all_logs_list.json.
// Both RFC 6962 logs ("logs") and static-ct-api logs ("tiled_logs") are
// read. Every log must have a description, a valid key whose SHA-256 is its
// log_id, and http(s) URLs. A log that falls short is left out and the
// reason kept in Skipped, naming the log by its place and description, and
// the field, e.g.
//
//	operators[2].tiled_logs[5] ("Sectigo 'Elephant2026h1'"): key: not base64
//
// so that one odd entry in a refreshed list does not stop the others from
// being followed. ParseLogList fails when the list itself is malformed, or
// when it has logs and none of them is usable.
//
// ParseLogList does not check the list's signature; see
// VerifyLogListSignature.
func ParseLogList(data []byte) (*LogList, error) {
	var j jsonLogList
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("log list: %w", err)
	}
	list := &LogList{Version: j.Version}
	var errs []error
	if j.Timestamp != "" {
		t, err := time.Parse(time.RFC3339, j.Timestamp)
		if err != nil {
			errs = append(errs, fmt.Errorf("log list: log_list_timestamp: %q is not an RFC 3339 time", j.Timestamp))
		}
		list.Timestamp = t.UTC()
	}
	seen := make(map[[32]byte]string)
	for i, op := range j.Operators {
		for _, kind := range []struct {
			field string
			typ   LogType
			logs  []json.RawMessage
		}{
			{"logs", LogRFC6962, op.Logs},
			{"tiled_logs", LogStatic, op.TiledLogs},
		} {
			for k, raw := range kind.logs {
				where := fmt.Sprintf("operators[%d].%s[%d]", i, kind.field, k)
				l, err := parseLog(raw, op.Name, kind.typ)
				if l.Description != "" {
					where += fmt.Sprintf(" (%q)", l.Description)
				}
				if err != nil {
					list.Skipped = append(list.Skipped, fmt.Errorf("log list: %s: %w", where, err))
					continue
				}
				if prev, dup := seen[l.Key.ID]; dup {
					list.Skipped = append(list.Skipped, fmt.Errorf("log list: %s: log_id: the same as %s", where, prev))
					continue
				}
				seen[l.Key.ID] = where
				list.Logs = append(list.Logs, l)
			}
		}
	}
	if len(list.Logs) == 0 {
		errs = append(errs, list.Skipped...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return list, nil
}

// parseLog decodes and checks one log entry. It returns the description it
// read even with an error, to name the log.
func parseLog(raw json.RawMessage, operator string, typ LogType) (Log, error) {
	var j jsonLog
	if err := json.Unmarshal(raw, &j); err != nil {
		// After a type error Unmarshal still fills the other fields, so
		// the description may name the log.
		return Log{Description: j.Description}, err
	}
	l := Log{Description: j.Description, Operator: operator, Type: typ}
	if j.Description == "" {
		return l, errors.New("description: missing")
	}

	key, err := parseLogKey(j.Key)
	if err != nil {
		return l, fmt.Errorf("key: %w", err)
	}
	l.Key = key
	id, err := base64.StdEncoding.DecodeString(j.LogID)
	if err != nil || len(id) != len(key.ID) {
		return l, errors.New("log_id: not 32 bytes in base64")
	}
	if [32]byte(id) != key.ID {
		return l, fmt.Errorf("log_id: does not match the key, whose SHA-256 is %s", base64.StdEncoding.EncodeToString(key.ID[:]))
	}

	switch typ {
	case LogRFC6962:
		if err := checkLogURL(j.URL); err != nil {
			return l, fmt.Errorf("url: %w", err)
		}
		l.URL, l.SubmissionURL = j.URL, j.URL
	case LogStatic:
		if err := checkLogURL(j.SubmissionURL); err != nil {
			return l, fmt.Errorf("submission_url: %w", err)
		}
		if err := checkLogURL(j.MonitoringURL); err != nil {
			return l, fmt.Errorf("monitoring_url: %w", err)
		}
		l.URL, l.SubmissionURL = j.MonitoringURL, j.SubmissionURL
	}

	if j.MMD < 0 {
		return l, fmt.Errorf("mmd: %d seconds is negative", j.MMD)
	}
	l.MMD = time.Duration(j.MMD) * time.Second

	switch len(j.State) {
	case 0:
	case 1:
		for s := range j.State {
			l.State = s
		}
	default:
		names := make([]string, 0, len(j.State))
		for s := range j.State {
			names = append(names, s)
		}
		slices.Sort(names)
		return l, fmt.Errorf("state: %d states (%s), want one", len(names), strings.Join(names, ", "))
	}

	if ti := j.TemporalInterval; ti != nil {
		start, err := time.Parse(time.RFC3339, ti.StartInclusive)
		if err != nil {
			return l, fmt.Errorf("temporal_interval.start_inclusive: %q is not an RFC 3339 time", ti.StartInclusive)
		}
		end, err := time.Parse(time.RFC3339, ti.EndExclusive)
		if err != nil {
			return l, fmt.Errorf("temporal_interval.end_exclusive: %q is not an RFC 3339 time", ti.EndExclusive)
		}
		if !start.Before(end) {
			return l, fmt.Errorf("temporal_interval: start %s is not before end %s", ti.StartInclusive, ti.EndExclusive)
		}
		l.Interval.Start, l.Interval.End = start.UTC(), end.UTC()
	}
	return l, nil
}

// checkLogURL reports whether s is an absolute http or https URL.
func checkLogURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// followGrace is how long after the end of its temporal interval a log is
// still followed: a shard keeps receiving entries for certificates issued
// just before the end, and logs merge them within the MMD.
const followGrace = 30 * 24 * time.Hour

// Followable returns the logs worth following at now: those in state
// "usable" or "qualified" whose temporal interval, if any, did not end more
// than 30 days before now. Logs whose interval has not started are included,
// as they already accept certificates that expire in it. The result is
// sorted by description.
func (l *LogList) Followable(now time.Time) []Log {
	var out []Log
	cutoff := now.Add(-followGrace)
	for _, lg := range l.Logs {
		if lg.State != "usable" && lg.State != "qualified" {
			continue
		}
		if end := lg.Interval.End; !end.IsZero() && end.Before(cutoff) {
			continue
		}
		out = append(out, lg)
	}
	slices.SortStableFunc(out, func(a, b Log) int {
		return cmp.Or(strings.Compare(a.Description, b.Description), strings.Compare(a.URL, b.URL))
	})
	return out
}

// The embedded snapshot of Google's all_logs_list.json, its signature and
// Google's log list key; see loglist/README.md.
var (
	//go:embed loglist/log_list.json
	defaultLogListJSON []byte
	//go:embed loglist/log_list.sig
	defaultLogListSig []byte

	// DefaultLogListKey is Google's log list signing key (PEM), which signs
	// https://www.gstatic.com/ct/log_list/v3/all_logs_list.json with
	// all_logs_list.sig. Pass it to VerifyLogListSignature; do not modify it.
	//
	//go:embed loglist/log_list_pubkey.pem
	DefaultLogListKey []byte
)

// defaultLogList parses the embedded snapshot once. TestDefaultLogList
// proves it parses; were it ever not to, the list would be empty rather than
// a panic.
var defaultLogList = sync.OnceValue(func() *LogList {
	l, err := ParseLogList(defaultLogListJSON)
	if err != nil {
		return &LogList{}
	}
	return l
})

// DefaultLogList returns the log list embedded in ward at build time: a
// snapshot of Google's all_logs_list.json (see loglist/README.md for its
// date). It goes stale within months; prefer a fresh list when the network
// allows. Each call returns a new LogList that the caller may modify; the
// LogKeys are shared and must not be modified.
func DefaultLogList() *LogList {
	l := *defaultLogList()
	l.Logs = slices.Clone(l.Logs)
	return &l
}

// VerifyLogListSignature verifies sig, an RSA PKCS #1 v1.5 signature with
// SHA-256 as Google publishes next to its log lists (all_logs_list.sig),
// over data, the log list exactly as fetched. pubPEM is the signer's RSA
// public key as a PEM "PUBLIC KEY" block, normally DefaultLogListKey. A
// signature that does not verify wraps ErrBadSignature.
func VerifyLogListSignature(data, sig, pubPEM []byte) error {
	block, _ := pem.Decode(pubPEM)
	if block == nil || block.Type != "PUBLIC KEY" {
		return errors.New("log list key: no PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("log list key: %w", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("log list key: %T, want an RSA key", pub)
	}
	if bits := rsaPub.N.BitLen(); bits < minRSABits {
		return fmt.Errorf("log list key: RSA key of %d bits, need at least %d", bits, minRSABits)
	}
	digest := sha256.Sum256(data)
	if err := rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("log list signature does not verify with the given key (was the list reformatted?): %w", ErrBadSignature)
	}
	return nil
}

// LoadLogList reads a log list from a file or an http(s) URL, or returns
// the built-in one when src is "". A list fetched from a URL is checked
// against the signature next to it (the .sig of the .json) with Google's
// log list key when the signature can be fetched; a bad signature fails.
// client nil means a client with a one-minute timeout.
func LoadLogList(ctx context.Context, src string, client *http.Client, logger *slog.Logger) (*LogList, error) {
	if src == "" {
		return DefaultLogList(), nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if client == nil {
		client = &http.Client{Timeout: time.Minute}
	}
	var data []byte
	var err error
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		if data, err = getBounded(ctx, client, src, 16<<20); err != nil {
			return nil, fmt.Errorf("fetching the log list: %w", err)
		}
		sigURL := strings.TrimSuffix(src, ".json") + ".sig"
		sig, serr := getBounded(ctx, client, sigURL, 64<<10)
		switch {
		case serr != nil:
			logger.Warn("ct: the log list has no signature to check", "url", sigURL, "err", serr)
		default:
			if err := VerifyLogListSignature(data, sig, DefaultLogListKey); err != nil {
				return nil, fmt.Errorf("the log list from %s: %w", src, err)
			}
		}
	} else if data, err = os.ReadFile(src); err != nil {
		return nil, fmt.Errorf("reading the log list: %w", err)
	}
	return ParseLogList(data)
}

// getBounded fetches url, refusing bodies over limit bytes.
func getBounded(ctx context.Context, client *http.Client, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, limit)
	}
	return b, nil
}
