// Package taxii serves STIX 2.1 objects over TAXII 2.1 (OASIS Standard, 10
// June 2021) as read-only collections: discovery, one API root, the
// collections a principal may read, their objects, manifests, single
// objects and their versions, with the specification's filters
// (added_after, limit, next, match[id], match[type], match[version],
// match[spec_version]), media types, error messages and pagination.
//
// The objects come from a Backend, which decides what each principal may
// read; MemoryBackend holds fixed collections. Authentication is the
// caller's Config.Authenticate.
//
// Paging. Collections are served in (date_added, id, version) order. A
// next token names the position of the last object served, so paging with
// next never misses or repeats an object, whatever their date_added. A
// client may also page with added_after set to the X-TAXII-Date-Added-Last
// of the page before; for that to be exact too, the server never ends a
// page inside a run of objects that share a date_added when it can end it
// before the run (it serves fewer objects instead). Only a run longer than
// a page cannot be paged by added_after, which is why a store should give
// every object it adds its own date_added.
//
// Every request is bounded: query string, filter values, page size (limit
// is capped by Config.MaxPageSize), response size and Accept header; next
// tokens are checked, and a tampered one is a 400.
package taxii

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Config configures a Server. Only the Backend (given to New) is required.
type Config struct {
	// Title, Description and Contact describe the server in the discovery
	// resource; zero Title: "ward".
	Title, Description, Contact string
	// Prefix is the path of the discovery resource, which the API root is
	// under; zero: "/taxii2/". It must start and end with '/'.
	Prefix string
	// APIRoot names the single API root, a path segment under Prefix;
	// zero: "ward" (so "/taxii2/ward/").
	APIRoot string
	// BaseURL is the scheme and host clients reach the server at, such as
	// "https://ward.example.org", used for the absolute URLs of the
	// discovery resource; zero: taken from each request (its Host and
	// whether it came over TLS), which is wrong behind a TLS-terminating
	// proxy.
	BaseURL string
	// Authenticate returns the principal of a request, or ok false when
	// the request has no valid credentials (the server answers 401 with
	// Bearer and Basic challenges). Nil: every request is the anonymous
	// principal "".
	Authenticate func(*http.Request) (principal string, ok bool)
	// Realm is the realm of the WWW-Authenticate challenges; zero: "ward".
	Realm string
	// MaxPageSize is the most objects in one response, whatever limit the
	// client asks for; zero: 1000.
	MaxPageSize int
	// DefaultPageSize is the page size when the client gives no limit;
	// zero: MaxPageSize.
	DefaultPageSize int
	// MaxResponseBytes bounds the size of one response's objects, in
	// bytes: a page ends early (with more and next) rather than exceed it,
	// though it always holds at least one object; zero: 16 MiB.
	MaxResponseBytes int
	// Logger receives backend failures; nil: discard.
	Logger *slog.Logger
}

// Server is the TAXII 2.1 http.Handler. It is safe for concurrent use.
type Server struct {
	b    Backend
	cfg  Config
	root string // Prefix + APIRoot + "/"
	log  *slog.Logger
}

// New returns a server of b's collections. Errors name the field to fix.
func New(b Backend, cfg Config) (*Server, error) {
	if b == nil {
		return nil, errors.New("taxii: no backend: pass one (NewMemoryBackend for fixed collections)")
	}
	if cfg.Title == "" {
		cfg.Title = "ward"
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/taxii2/"
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || !strings.HasSuffix(cfg.Prefix, "/") || len(cfg.Prefix) > 200 {
		return nil, fmt.Errorf("taxii: Prefix %q must start and end with '/', such as /taxii2/", cfg.Prefix)
	}
	if cfg.APIRoot == "" {
		cfg.APIRoot = "ward"
	}
	if !validCollectionID(cfg.APIRoot) {
		return nil, fmt.Errorf("taxii: APIRoot %q must be one path segment of letters, digits, '-', '_', '.' or '~'", cfg.APIRoot)
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("taxii: BaseURL %q must be a scheme and host only, such as https://ward.example.org", cfg.BaseURL)
		}
		cfg.BaseURL = u.Scheme + "://" + u.Host
	}
	if cfg.Realm == "" {
		cfg.Realm = "ward"
	}
	if strings.ContainsAny(cfg.Realm, "\"\\\r\n") {
		return nil, fmt.Errorf("taxii: Realm %q must not contain quotes, backslashes or line breaks", cfg.Realm)
	}
	if cfg.MaxPageSize == 0 {
		cfg.MaxPageSize = 1000
	}
	if cfg.MaxPageSize < 1 || cfg.MaxPageSize > 100_000 {
		return nil, fmt.Errorf("taxii: MaxPageSize %d: use 1 to 100000 (zero: 1000)", cfg.MaxPageSize)
	}
	if cfg.DefaultPageSize == 0 {
		cfg.DefaultPageSize = cfg.MaxPageSize
	}
	if cfg.DefaultPageSize < 1 || cfg.DefaultPageSize > cfg.MaxPageSize {
		return nil, fmt.Errorf("taxii: DefaultPageSize %d: use 1 to MaxPageSize (%d)", cfg.DefaultPageSize, cfg.MaxPageSize)
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = 16 << 20
	}
	if cfg.MaxResponseBytes < 4096 {
		return nil, fmt.Errorf("taxii: MaxResponseBytes %d: use 4096 or more (zero: 16 MiB)", cfg.MaxResponseBytes)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{b: b, cfg: cfg, root: cfg.Prefix + cfg.APIRoot + "/", log: log}, nil
}

// errorMessage is the TAXII error resource.
type errorMessage struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

// fail writes a TAXII error message.
func (s *Server) fail(w http.ResponseWriter, status int, title, desc string) {
	body, _ := json.Marshal(errorMessage{Title: title, Description: desc, HTTPStatus: strconv.Itoa(status)})
	s.write(w, status, body)
}

// failErr writes err: a requestError as itself, ErrNoCollection as 404,
// anything else as a logged 500 that tells the client nothing more.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	switch {
	case errors.As(err, &re):
		s.fail(w, re.status, re.title, re.desc)
	case errors.Is(err, ErrNoCollection):
		s.notFound(w)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.fail(w, http.StatusServiceUnavailable, "request ended", "the request was cancelled or ran out of time: try again")
	default:
		s.log.Error("taxii backend failed", "path", clip(r.URL.Path), "err", err)
		s.fail(w, http.StatusInternalServerError, "internal error", "the server could not read the collection: try again later")
	}
}

func (s *Server) notFound(w http.ResponseWriter) {
	s.fail(w, http.StatusNotFound, "not found", "no such resource, or not one your credentials may read")
}

func (s *Server) write(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", MediaType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, "internal error", "the response could not be encoded")
		return
	}
	s.write(w, http.StatusOK, body)
}

// route is a parsed request path.
type route struct {
	kind       string // discovery, root, status, collections, collection, objects, manifest, object, versions
	collection string
	object     string
}

// parseRoute maps a path to a route; ok false: not a TAXII resource.
func (s *Server) parseRoute(p string) (route, bool) {
	if len(p) > maxPathLen {
		return route{}, false
	}
	if p+"/" == s.cfg.Prefix {
		p += "/"
	}
	rest, ok := strings.CutPrefix(p, s.cfg.Prefix)
	if !ok {
		return route{}, false
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return route{kind: "discovery"}, true
	}
	seg := strings.Split(rest, "/")
	if seg[0] != s.cfg.APIRoot || slices.Contains(seg, "") {
		return route{}, false
	}
	seg = seg[1:]
	switch {
	case len(seg) == 0:
		return route{kind: "root"}, true
	case len(seg) == 2 && seg[0] == "status":
		return route{kind: "status"}, true
	case seg[0] != "collections":
		return route{}, false
	case len(seg) == 1:
		return route{kind: "collections"}, true
	}
	rt := route{collection: seg[1]}
	if !validCollectionID(rt.collection) {
		return route{}, false
	}
	switch {
	case len(seg) == 2:
		rt.kind = "collection"
	case len(seg) == 3 && seg[2] == "objects":
		rt.kind = "objects"
	case len(seg) == 3 && seg[2] == "manifest":
		rt.kind = "manifest"
	case len(seg) >= 4 && len(seg) <= 5 && seg[2] == "objects" && validSTIXID(seg[3]):
		rt.object = seg[3]
		rt.kind = "object"
		if len(seg) == 5 {
			if seg[4] != "versions" {
				return route{}, false
			}
			rt.kind = "versions"
		}
	default:
		return route{}, false
	}
	return rt, true
}

// ServeHTTP answers TAXII requests: authentication first (401), then the
// Accept header (406), then the resource (404) and the method (405; 403
// for a write to a collection the principal can see).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	principal := ""
	if s.cfg.Authenticate != nil {
		p, ok := s.cfg.Authenticate(r)
		if !ok {
			h := w.Header()
			h.Add("WWW-Authenticate", `Bearer realm="`+s.cfg.Realm+`"`)
			h.Add("WWW-Authenticate", `Basic realm="`+s.cfg.Realm+`", charset="UTF-8"`)
			s.fail(w, http.StatusUnauthorized, "authentication required", "give a valid bearer token or user name and password")
			return
		}
		principal = p
	}
	if !acceptable(r.Header.Values("Accept")) {
		s.fail(w, http.StatusNotAcceptable, "not acceptable",
			"this server answers only in "+MediaType+": send it in the Accept header")
		return
	}
	rt, ok := s.parseRoute(r.URL.Path)
	if !ok {
		s.notFound(w)
		return
	}
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	write := r.Method == http.MethodPost && rt.kind == "objects" || r.Method == http.MethodDelete && rt.kind == "object"
	if !read && !write {
		allow := "GET, HEAD"
		switch rt.kind {
		case "objects":
			allow += ", POST"
		case "object":
			allow += ", DELETE"
		}
		w.Header().Set("Allow", allow)
		s.fail(w, http.StatusMethodNotAllowed, "method not allowed", r.Method+" is not served here; use "+allow)
		return
	}
	ctx := r.Context()
	switch rt.kind {
	case "discovery":
		s.discovery(w, r)
		return
	case "root":
		s.writeJSON(w, map[string]any{"title": s.cfg.Title, "description": s.cfg.Description,
			"versions": []string{MediaType}, "max_content_length": 0})
		return
	case "status":
		s.fail(w, http.StatusNotFound, "no such status", "this server accepts no writes, so it has no status resources")
		return
	}
	cols, err := s.b.Collections(ctx, principal)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if rt.kind == "collections" {
		out := map[string]any{}
		if len(cols) > 0 {
			list := make([]collectionResource, 0, len(cols))
			for _, c := range cols {
				list = append(list, resource(c))
			}
			out["collections"] = list
		}
		s.writeJSON(w, out)
		return
	}
	i := slices.IndexFunc(cols, func(c Collection) bool { return c.ID == rt.collection })
	if i < 0 {
		s.notFound(w)
		return
	}
	if write {
		s.fail(w, http.StatusForbidden, "read-only collection", "this collection cannot be written to (can_write is false)")
		return
	}
	switch rt.kind {
	case "collection":
		s.writeJSON(w, resource(cols[i]))
	case "objects":
		s.page(w, r, principal, rt, epObjects)
	case "manifest":
		s.page(w, r, principal, rt, epManifest)
	case "object":
		s.page(w, r, principal, rt, epObject)
	case "versions":
		s.page(w, r, principal, rt, epVersions)
	}
}

// discovery writes the discovery resource with absolute URLs.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	base := s.cfg.BaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if h := r.Host; h != "" && len(h) <= 255 && strings.Trim(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == "" {
			base = scheme + "://" + h
		}
	}
	root := base + s.root
	out := map[string]any{"title": s.cfg.Title, "default": root, "api_roots": []string{root}}
	if s.cfg.Description != "" {
		out["description"] = s.cfg.Description
	}
	if s.cfg.Contact != "" {
		out["contact"] = s.cfg.Contact
	}
	s.writeJSON(w, out)
}

type collectionResource struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Alias       string   `json:"alias,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
}

func resource(c Collection) collectionResource {
	mt := c.MediaTypes
	if len(mt) == 0 {
		mt = []string{stixMediaType + "2.1"}
	}
	return collectionResource{ID: c.ID, Title: c.Title, Description: c.Description, Alias: c.Alias,
		CanRead: true, MediaTypes: mt}
}

// page serves one page of a paging endpoint.
func (s *Server) page(w http.ResponseWriter, r *http.Request, principal string, rt route, ep endpoint) {
	p, err := parseParams(r.URL.RawQuery, ep)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	fp := p.fingerprint(ep, principal, rt.collection, rt.object)
	q := Query{AddedAfter: p.addedAfter, IDs: p.ids, Types: p.types, SpecVersions: p.specVersions,
		Versions: p.versions, OmitJSON: ep == epManifest || ep == epVersions}
	if rt.object != "" {
		q.IDs = []string{rt.object}
	}
	if p.next != "" {
		if q.After, err = decodeNext(p.next, fp); err != nil {
			s.failErr(w, r, err)
			return
		}
	}
	n := s.cfg.DefaultPageSize
	if p.limit > 0 {
		n = min(p.limit, s.cfg.MaxPageSize)
	}
	q.Limit = n + 1 // one more, to see what follows the page
	objs, more, err := s.b.Objects(r.Context(), principal, rt.collection, q)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	// The backend must keep the order and the cursor: a client would page
	// forever or miss objects otherwise.
	for i := range objs {
		if i > 0 && Compare(objs[i-1], objs[i]) >= 0 || !q.After.IsZero() && CompareCursors(objs[i].Position(), q.After) <= 0 {
			s.failErr(w, r, fmt.Errorf("backend returned collection %s out of order at %s", rt.collection, objs[i].ID))
			return
		}
	}
	if len(objs) > n {
		more = true
	}
	if len(objs) == 0 {
		more = false // nothing to continue from
	}
	cut := min(len(objs), n)
	if !q.OmitJSON {
		size := 0
		for i := 0; i < cut; i++ {
			size += len(objs[i].JSON) + 1
			if i > 0 && size > s.cfg.MaxResponseBytes {
				cut, more = i, true
				break
			}
		}
	}
	// Never end a page inside a run of equal date_added when the page can
	// end before it: a client paging by added_after would skip the rest
	// of the run. Unless the next object is known to be added later.
	if more && cut > 0 {
		last := objs[cut-1].Position().Added
		if cut >= len(objs) || objs[cut].Position().Added.Equal(last) {
			k := cut - 1
			for k > 0 && objs[k-1].Position().Added.Equal(last) {
				k--
			}
			if k > 0 {
				cut = k
			}
		}
	}
	page := objs[:cut]

	if len(page) == 0 && rt.object != "" && p.next == "" {
		// An object that does not exist is 404; one whose versions the
		// filters leave out is an empty page.
		any, _, err := s.b.Objects(r.Context(), principal, rt.collection,
			Query{IDs: []string{rt.object}, Versions: Versions{All: true}, Limit: 1, OmitJSON: true})
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		if len(any) == 0 {
			s.notFound(w)
			return
		}
	}

	var b bytes.Buffer
	grow := 64
	for i := range page {
		grow += len(page[i].JSON) + 160 // a manifest record or a version is under 160 bytes
	}
	b.Grow(grow)
	b.WriteString(`{"more":`)
	b.WriteString(strconv.FormatBool(more))
	if more {
		b.WriteString(`,"next":"`)
		b.WriteString(encodeNext(page[len(page)-1].Position(), fp))
		b.WriteByte('"')
	}
	if len(page) > 0 {
		h := w.Header()
		h.Set("X-TAXII-Date-Added-First", fmtAdded(page[0].Added))
		h.Set("X-TAXII-Date-Added-Last", fmtAdded(page[len(page)-1].Added))
		switch ep {
		case epObjects, epObject:
			b.WriteString(`,"objects":[`)
			wrote := 0
			for i := range page {
				if !json.Valid(page[i].JSON) {
					s.log.Error("taxii backend returned invalid JSON; object left out", "collection", rt.collection, "id", page[i].ID)
					continue
				}
				if wrote > 0 {
					b.WriteByte(',')
				}
				wrote++
				b.Write(page[i].JSON)
			}
			b.WriteByte(']')
		case epManifest:
			b.WriteString(`,"objects":[`)
			for i := range page {
				o := &page[i]
				if i > 0 {
					b.WriteByte(',')
				}
				rec, _ := json.Marshal(manifestRecord{ID: o.ID, DateAdded: fmtAdded(o.Added), Version: stixTimestamp(o.Version),
					MediaType: stixMediaType + o.specVersion()})
				b.Write(rec)
			}
			b.WriteByte(']')
		case epVersions:
			b.WriteString(`,"versions":[`)
			for i := range page {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"` + stixTimestamp(page[i].Version) + `"`)
			}
			b.WriteByte(']')
		}
	}
	b.WriteByte('}')
	s.write(w, http.StatusOK, b.Bytes())
}

type manifestRecord struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

var _ http.Handler = (*Server)(nil)
