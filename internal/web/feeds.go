package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ward-health/ward/internal/intel"
	"github.com/ward-health/ward/internal/store"
)

// maxMail bounds a submitted message.
const maxMail = 64 << 20

// maxHeavy is how many heavy requests (a whole feed written, a message
// judged) run at a time; the others wait up to Config.BusyWait, then get
// 503 with Retry-After.
const maxHeavy = 4

// heavy runs fn when one of the heavy slots is free.
func (s *server) heavy(w http.ResponseWriter, r *http.Request, fn func()) {
	t := time.NewTimer(s.busyWait)
	defer t.Stop()
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
		fn()
	case <-t.C:
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, "busy writing other feeds or judging other messages: try again in 30 s")
	case <-r.Context().Done():
	}
}

// feedTypes are the media types of the feeds.
var feedTypes = map[string]string{
	"rpz":   "text/dns; charset=utf-8", // RFC 4027
	"stix":  "application/stix+json;version=2.1",
	"csv":   "text/csv; charset=utf-8",
	"hosts": "text/plain; charset=utf-8",
}

// serveFeed writes a generated feed with an ETag, answering 304 to a
// matching If-None-Match.
func serveFeed(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "private, no-cache") // revalidate with the ETag; never in shared caches (TLP)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for t := range strings.SplitSeq(inm, ",") {
			if t = strings.TrimPrefix(strings.TrimSpace(t), "W/"); t == etag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func (s *server) feed(w http.ResponseWriter, r *http.Request, o *Org) {
	format := r.PathValue("format")
	ct, ok := feedTypes[format]
	if !ok || s.cfg.Feeds == nil {
		writeError(w, http.StatusNotFound, "no such feed: use /feeds/rpz, /feeds/stix, /feeds/csv, /feeds/hosts or /feeds/misp/manifest.json")
		return
	}
	s.heavy(w, r, func() {
		var b bytes.Buffer
		if err := s.cfg.Feeds.Write(r.Context(), &b, o.Name, format); err != nil {
			s.log.Error("api: writing a feed", "org", o.Name, "format", format, "err", err)
			writeError(w, http.StatusInternalServerError, "the feed could not be written; see the server log")
			return
		}
		serveFeed(w, r, ct, b.Bytes())
	})
}

// mispFeed serves the organisation's MISP feed: manifest.json,
// hashes.csv and UUID.json, as a MISP instance pulls a feed of format
// "MISP Feed" (give the token in the feed's headers).
func (s *server) mispFeed(w http.ResponseWriter, r *http.Request, o *Org) {
	if s.cfg.Feeds == nil {
		writeError(w, http.StatusNotFound, "feeds are off")
		return
	}
	s.heavy(w, r, func() { s.mispFile(w, r, o) })
}

func (s *server) mispFile(w http.ResponseWriter, r *http.Request, o *Org) {
	evs, err := s.cfg.Feeds.MISP(r.Context(), o.Name)
	if err != nil {
		s.log.Error("api: writing the MISP feed", "org", o.Name, "err", err)
		writeError(w, http.StatusInternalServerError, "the feed could not be written; see the server log")
		return
	}
	file := r.PathValue("file")
	switch file {
	case "manifest.json", "hashes.csv":
		manifest, hashes, err := intel.MISPIndex(evs)
		if err != nil {
			s.log.Error("api: writing the MISP feed", "org", o.Name, "err", err)
			writeError(w, http.StatusInternalServerError, "the feed could not be written; see the server log")
			return
		}
		if file == "manifest.json" {
			serveFeed(w, r, "application/json", manifest)
		} else {
			serveFeed(w, r, "text/csv; charset=utf-8", hashes)
		}
		return
	}
	id, ok := strings.CutSuffix(file, ".json")
	if ok {
		for _, ev := range evs {
			if ev.UUID == id {
				var b bytes.Buffer
				if err := intel.WriteMISPEvent(&b, ev); err != nil {
					s.log.Error("api: writing a MISP event", "org", o.Name, "err", err)
					writeError(w, http.StatusInternalServerError, "the event could not be written; see the server log")
					return
				}
				serveFeed(w, r, "application/json", b.Bytes())
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, "no such event in this feed: read manifest.json")
}

// indicatorBody is what POST /api/v1/indicators takes.
type indicatorBody struct {
	Type        string `json:"type"`
	Value       string `json:"value"`
	Scope       string `json:"scope"`
	TLP         string `json:"tlp"`
	Confidence  *int   `json:"confidence"`
	ValidFor    string `json:"valid_for"`
	Brand       string `json:"brand"`
	Description string `json:"description"`
}

func (s *server) addIndicator(w http.ResponseWriter, r *http.Request, o *Org) {
	var b indicatorBody
	if r.ContentLength == 0 {
		writeError(w, http.StatusBadRequest, `send {"value": "...", "type": "domain", ...}`)
		return
	}
	if !readBody(w, r, &b) {
		return
	}
	var x intel.Indicator
	var err error
	if b.Type != "" {
		if !slices.Contains(store.IndicatorTypes, b.Type) {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("type %q: use one of %s", b.Type, strings.Join(store.IndicatorTypes, ", ")))
			return
		}
		x, err = intel.Parse(intel.Type(b.Type), b.Value)
	} else {
		x, err = intel.Guess(b.Value)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	p := s.cfg.Indicators
	warn := p.Warninglist
	if warn == nil {
		warn, _ = intel.NewWarninglist()
	}
	if warn.Contains(x) {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("%s %s is on the warninglist (an official, configured or popular name): ward never blocks it", x.Type, x.Value))
		return
	}
	in := store.Indicator{Org: o.Name, Scope: b.Scope, Type: string(x.Type), Value: x.Value, Source: intel.SourceManual,
		Confidence: 80, TLP: b.TLP, Brand: b.Brand, Description: b.Description}
	if b.Confidence != nil {
		in.Confidence = *b.Confidence
	}
	if in.Scope == "" {
		in.Scope = cmp(p.Scope, "shared")
	}
	if in.TLP == "" {
		in.TLP = cmp(p.TLP, "green")
	}
	valid := p.ValidFor
	if b.ValidFor != "" {
		if valid, err = time.ParseDuration(b.ValidFor); err != nil || valid < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("valid_for %q: give a duration such as 720h, or 0s for never", b.ValidFor))
			return
		}
	}
	if valid > 0 {
		in.ValidUntil = s.now().Add(valid)
	}
	got, err := s.cfg.Store.UpsertIndicator(r.Context(), in)
	if errors.Is(err, store.ErrInvalid) {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err != nil {
		s.storeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, got)
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// indicatorError answers for a store error on one indicator: 404 for one
// that is not the organisation's or not standing, else as storeError.
func (s *server) indicatorError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no such indicator of this organisation standing")
		return
	}
	s.storeError(w, err)
}

func (s *server) removeIndicator(w http.ResponseWriter, r *http.Request, o *Org) {
	id, ok := pathID(w, r, "indicator")
	if !ok {
		return
	}
	if err := s.cfg.Store.RemoveIndicator(r.Context(), o.Name, id); err != nil {
		s.indicatorError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) expireIndicator(w http.ResponseWriter, r *http.Request, o *Org) {
	id, ok := pathID(w, r, "indicator")
	if !ok {
		return
	}
	var b struct {
		In    string `json:"in"`
		Never bool   `json:"never"`
	}
	if !readBody(w, r, &b) {
		return
	}
	until := s.now()
	if b.Never {
		until = time.Time{}
	} else if b.In != "" {
		d, err := time.ParseDuration(b.In)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf(`in %q: give a duration such as 24h ({"in": "0s"} or no body: now; {"never": true}: never)`, b.In))
			return
		}
		until = until.Add(d)
	}
	got, err := s.cfg.Store.ExpireIndicator(r.Context(), o.Name, id, until)
	if err != nil {
		s.indicatorError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (s *server) listIndicators(w http.ResponseWriter, r *http.Request, o *Org) {
	q := r.URL.Query()
	f := store.IndicatorFilter{Org: o.Name, Limit: 100, Revoked: q.Get("revoked") == "true"}
	for _, t := range q["type"] {
		for x := range strings.SplitSeq(t, ",") {
			if !slices.Contains(store.IndicatorTypes, x) {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("type %q: use one of %s", x, strings.Join(store.IndicatorTypes, ", ")))
				return
			}
			f.Types = append(f.Types, x)
		}
	}
	if !pageLimit(w, r, &f.Limit) {
		return
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("after %q: pass the next value of the previous page", v))
			return
		}
		f.AfterID = n
	}
	page, err := s.cfg.Store.Indicators(r.Context(), f)
	if err != nil {
		s.storeError(w, err)
		return
	}
	next := ""
	if len(page) == f.Limit {
		next = strconv.FormatInt(page[len(page)-1].ID, 10)
	}
	if page == nil {
		page = []store.Indicator{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"indicators": page, "next": next})
}

func (s *server) analyzeMail(w http.ResponseWriter, r *http.Request, o *Org) {
	if s.cfg.Mail == nil {
		writeError(w, http.StatusNotImplemented, "mail analysis is off")
		return
	}
	raw, ok := readMail(w, r)
	if !ok {
		return
	}
	name := r.URL.Query().Get("name")
	if len(name) > 256 {
		name = name[:256]
	}
	s.heavy(w, r, func() {
		res, err := s.cfg.Mail(r.Context(), o.Name, name, raw)
		if err != nil {
			s.log.Error("api: judging a message", "org", o.Name, "err", err)
			writeError(w, http.StatusInternalServerError, "the message could not be judged; see the server log")
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

// learnMail teaches the organisation's content classifier a reported
// message as an analyst judged it: ?as=spam, ham or forget.
func (s *server) learnMail(w http.ResponseWriter, r *http.Request, o *Org) {
	if s.cfg.Learn == nil {
		writeError(w, http.StatusNotImplemented, "mail learning is off")
		return
	}
	as := r.URL.Query().Get("as")
	if as != "spam" && as != "ham" && as != "forget" {
		writeError(w, http.StatusBadRequest, "give ?as=spam (phishing, scam or bulk mail), ?as=ham (legitimate mail) or ?as=forget")
		return
	}
	raw, ok := readMail(w, r)
	if !ok {
		return
	}
	s.heavy(w, r, func() {
		res, err := s.cfg.Learn(r.Context(), o.Name, as, raw)
		switch {
		case errors.Is(err, ErrLearningOff):
			writeError(w, http.StatusConflict, ErrLearningOff.Error())
		case errors.Is(err, ErrLearningBusy):
			w.Header().Set("Retry-After", "5")
			writeError(w, http.StatusServiceUnavailable, ErrLearningBusy.Error())
		case err != nil:
			s.log.Error("api: learning a message", "org", o.Name, "err", err)
			writeError(w, http.StatusInternalServerError, "the message could not be learned; see the server log")
		default:
			writeJSON(w, http.StatusOK, res)
		}
	})
}

// readMail reads a message sent as the request body, or answers the
// request with what is wrong.
func readMail(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the message is larger than %d MiB", maxMail>>20))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "reading the message: "+err.Error())
		return nil, false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		writeError(w, http.StatusBadRequest, "the body is empty: send the reported message as it is (message/rfc822)")
		return nil, false
	}
	return raw, true
}
