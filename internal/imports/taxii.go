package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TAXIIMediaType is the media type of TAXII 2.1 resources, sent in Accept.
const TAXIIMediaType = "application/taxii+json;version=2.1"

// Bounds on TAXII resources.
const (
	maxAPIRoots    = 100
	maxCollections = 10_000
	maxURLLen      = 2048
	maxNextLen     = 1024
)

// taxiiDiscovery is the discovery resource (TAXII 2.1, section 4.1), and
// also what an API root resource (4.2) decodes into: an API root has
// versions and no api_roots.
type taxiiDiscovery struct {
	Title    string   `json:"title"`
	Default  string   `json:"default"`
	APIRoots []string `json:"api_roots"`
	Versions []string `json:"versions"`
}

// taxiiCollection is one entry of the collections resource (5.1).
type taxiiCollection struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Alias      string   `json:"alias"`
	CanRead    bool     `json:"can_read"`
	MediaTypes []string `json:"media_types"`
}

// taxiiEnvelope is the envelope of the objects resource (3.7).
type taxiiEnvelope struct {
	More    bool              `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

// parseEnvelope reads a TAXII 2.1 envelope, bounded in nesting, object
// count and the length of "next". An empty body or "{}" is an empty
// envelope, as the specification allows.
func parseEnvelope(body []byte) (taxiiEnvelope, error) {
	var env taxiiEnvelope
	if len(strings.TrimSpace(string(body))) == 0 {
		return env, nil
	}
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return env, fmt.Errorf("reading TAXII envelope: %w", err)
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return taxiiEnvelope{}, fmt.Errorf("%w: reading TAXII envelope: not a JSON envelope: %v", ErrProtocol, clipText(err.Error(), 200))
	}
	if len(env.Objects) > maxObjects {
		return taxiiEnvelope{}, fmt.Errorf("%w: TAXII envelope has %d objects, limit %d", ErrTooBig, len(env.Objects), maxObjects)
	}
	if len(env.Next) > maxNextLen || strings.ContainsFunc(env.Next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return taxiiEnvelope{}, fmt.Errorf("%w: TAXII envelope has a \"next\" longer than %d bytes or with control characters", ErrProtocol, maxNextLen)
	}
	return env, nil
}

// parseDiscovery reads a discovery or API root resource.
func parseDiscovery(body []byte) (taxiiDiscovery, error) {
	var d taxiiDiscovery
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return d, fmt.Errorf("reading TAXII discovery: %w", err)
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return taxiiDiscovery{}, fmt.Errorf("%w: reading TAXII discovery: not a TAXII resource: %v: check the url", ErrProtocol, clipText(err.Error(), 200))
	}
	if len(d.APIRoots) > maxAPIRoots || len(d.Versions) > maxAPIRoots {
		return taxiiDiscovery{}, fmt.Errorf("%w: TAXII discovery lists more than %d API roots or versions", ErrTooBig, maxAPIRoots)
	}
	return d, nil
}

// parseCollections reads the collections resource.
func parseCollections(body []byte) ([]taxiiCollection, error) {
	var c struct {
		Collections []taxiiCollection `json:"collections"`
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	if err := checkDepth(body, maxJSONDepth); err != nil {
		return nil, fmt.Errorf("reading TAXII collections: %w", err)
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, fmt.Errorf("%w: reading TAXII collections: %v", ErrProtocol, clipText(err.Error(), 200))
	}
	if len(c.Collections) > maxCollections {
		return nil, fmt.Errorf("%w: TAXII server lists %d collections, limit %d", ErrTooBig, len(c.Collections), maxCollections)
	}
	return c.Collections, nil
}

// taxiiGet fetches one TAXII resource and checks that it is JSON.
func (r *run) taxiiGet(ctx context.Context, u *url.URL, q url.Values) (*response, error) {
	resp, err := r.get(ctx, u, getOptions{accept: TAXIIMediaType, query: q})
	if err != nil {
		return nil, err
	}
	if ct := resp.header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		if !strings.Contains(mt, "json") {
			return nil, fmt.Errorf("%w: GET %s answered %q, not TAXII JSON: check the url (and that it is a TAXII 2.1 server)", ErrProtocol, redact(u), clipText(mt, 60))
		}
	}
	return resp, nil
}

// taxii reads the objects added to a TAXII 2.1 collection since
// st.AddedAfter, page by page.
func (r *run) taxii(ctx context.Context, u *url.URL, st State) (State, error) {
	root, err := r.taxiiAPIRoot(ctx, u)
	if err != nil {
		return st, err
	}
	coll, err := r.taxiiCollection(ctx, root)
	if err != nil {
		return st, err
	}
	objects := root.JoinPath("collections", coll.ID, "objects")
	objects.Path += "/"
	objects.RawPath = ""

	added := st.AddedAfter
	next := ""
	var sr stixReader
	seenNext := map[string]bool{}
	pages := 0
	for {
		if pages == r.src.MaxPages {
			r.up.More = true
			r.f.logger().Info("taxii: page bound reached; the rest comes next time", "import", r.src.Name, "max_pages", r.src.MaxPages)
			break
		}
		pages++
		q := url.Values{"limit": {strconv.Itoa(r.src.PageSize)}}
		if !added.IsZero() {
			q.Set("added_after", added.UTC().Format(time.RFC3339Nano))
		}
		if next != "" {
			q.Set("next", next)
		}
		resp, err := r.taxiiGet(ctx, objects, q)
		if err != nil {
			return st, fmt.Errorf("TAXII collection %q page %d: %w", clipText(coll.Title, 80), pages, err)
		}
		env, err := parseEnvelope(resp.body)
		if err != nil {
			return st, fmt.Errorf("TAXII collection %q page %d: %w", clipText(coll.Title, 80), pages, err)
		}
		// Read the page on its own first: an increment stops before the
		// page that would pass max_indicators.
		page := Update{}
		pageSrc := r.src
		pageSrc.MaxIndicators = maxObjects
		if err := sr.read(env.Objects, pageSrc, &page); err != nil {
			return st, fmt.Errorf("TAXII collection %q page %d: %w", clipText(coll.Title, 80), pages, err)
		}
		if len(r.up.Indicators)+len(page.Indicators) > r.src.MaxIndicators {
			if pages == 1 {
				return st, fmt.Errorf("%w: one TAXII page has %d indicators, more than max_indicators (%d): lower page_size or raise max_indicators",
					ErrTooBig, len(page.Indicators), r.src.MaxIndicators)
			}
			r.up.More = true
			break
		}
		r.up.Indicators = append(r.up.Indicators, page.Indicators...)
		r.up.Skipped += page.Skipped
		for _, s := range page.SkipExamples {
			if len(r.up.SkipExamples) < MaxSkipExamples {
				r.up.SkipExamples = append(r.up.SkipExamples, s)
			}
		}
		last := parseTAXIITime(resp.header.Get("X-TAXII-Date-Added-Last"))
		if !last.IsZero() && last.After(st.AddedAfter) {
			st.AddedAfter = last
		} else if len(env.Objects) > 0 && last.IsZero() {
			r.f.logger().Warn("taxii: the server sent objects without X-TAXII-Date-Added-Last; the next fetch asks for them again", "import", r.src.Name)
		}
		if !env.More {
			break
		}
		switch {
		case env.Next != "":
			if seenNext[env.Next] {
				return st, fmt.Errorf("%w: TAXII collection %q: the server sent the same \"next\" twice (a paging loop)", ErrProtocol, clipText(coll.Title, 80))
			}
			seenNext[env.Next] = true
			next = env.Next
		case !last.IsZero() && (added.IsZero() || last.After(added)):
			added, next = last, "" // paging by added_after, as TAXII 2.1 also allows
		default:
			return st, fmt.Errorf("%w: TAXII collection %q: the server says there is more but gives neither \"next\" nor a later X-TAXII-Date-Added-Last", ErrProtocol, clipText(coll.Title, 80))
		}
	}
	r.up.Snapshot = false
	r.up.Unchanged = len(r.up.Indicators) == 0 && r.up.Skipped == 0 && !r.up.More
	return st, nil
}

// parseTAXIITime reads a TAXII timestamp; zero when absent or unreadable.
func parseTAXIITime(s string) time.Time {
	if len(s) > 64 {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// taxiiAPIRoot finds the API root: Source.APIRoot, or what the discovery
// resource at u names. u may also be an API root itself.
func (r *run) taxiiAPIRoot(ctx context.Context, u *url.URL) (*url.URL, error) {
	if r.src.APIRoot != "" {
		root, err := url.Parse(r.src.APIRoot)
		if err != nil {
			return nil, fmt.Errorf("api_root: %w", err)
		}
		return withSlash(root), r.taxiiCheckRoot(ctx, root)
	}
	disc := withSlash(u)
	if disc.Path == "/" {
		disc.Path = "/taxii2/"
	}
	resp, err := r.taxiiGet(ctx, disc, nil)
	if err != nil {
		return nil, fmt.Errorf("TAXII discovery: %w", err)
	}
	d, err := parseDiscovery(resp.body)
	if err != nil {
		return nil, err
	}
	if len(d.APIRoots) == 0 && d.Default == "" {
		if len(d.Versions) > 0 || d.Title != "" {
			if err := checkVersions(d.Versions, disc); err != nil {
				return nil, err
			}
			return disc, nil // the URL is an API root
		}
		return nil, fmt.Errorf("%w: %s lists no API roots: set api_root", ErrProtocol, redact(disc))
	}
	pick := d.Default
	if pick == "" {
		if len(d.APIRoots) != 1 {
			return nil, fmt.Errorf("%w: %s lists %d API roots and no default: set api_root to one of %s", ErrProtocol, redact(disc), len(d.APIRoots), listRoots(d.APIRoots))
		}
		pick = d.APIRoots[0]
	}
	if len(pick) > maxURLLen {
		return nil, fmt.Errorf("%w: the API root named by %s is longer than %d bytes", ErrProtocol, redact(disc), maxURLLen)
	}
	ref, err := url.Parse(pick)
	if err != nil {
		return nil, fmt.Errorf("%w: %s names API root %q, not a URL: set api_root", ErrProtocol, redact(disc), clipText(pick, 200))
	}
	root := disc.ResolveReference(ref)
	if root.Scheme != disc.Scheme || root.Host != disc.Host {
		// A hostile or misconfigured discovery must not send ward's
		// credentials elsewhere.
		return nil, fmt.Errorf("%w: %s names API root %s on another host: set api_root to it if you trust it", ErrProtocol, redact(disc), redact(root))
	}
	root = withSlash(root)
	return root, r.taxiiCheckRoot(ctx, root)
}

func listRoots(roots []string) string {
	var b strings.Builder
	for i, s := range roots {
		if i == 5 {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(clipText(s, 200)))
	}
	return b.String()
}

// taxiiCheckRoot reads the API root resource and checks that it serves
// TAXII 2.1.
func (r *run) taxiiCheckRoot(ctx context.Context, root *url.URL) error {
	resp, err := r.taxiiGet(ctx, withSlash(root), nil)
	if err != nil {
		return fmt.Errorf("TAXII API root: %w", err)
	}
	d, err := parseDiscovery(resp.body)
	if err != nil {
		return err
	}
	return checkVersions(d.Versions, root)
}

// checkVersions fails when an API root lists versions and 2.1 is not one.
func checkVersions(versions []string, root *url.URL) error {
	if len(versions) == 0 {
		return nil
	}
	for _, v := range versions {
		if strings.Contains(strings.ReplaceAll(strings.ToLower(v), " ", ""), "version=2.1") {
			return nil
		}
	}
	return fmt.Errorf("%w: API root %s offers TAXII versions %q, not 2.1: ward speaks TAXII 2.1 only", ErrProtocol, redact(root), clipText(strings.Join(versions, ", "), 200))
}

// taxiiCollection finds Source.Collection by id, then by title or alias.
func (r *run) taxiiCollection(ctx context.Context, root *url.URL) (taxiiCollection, error) {
	cu := root.JoinPath("collections")
	cu.Path += "/"
	resp, err := r.taxiiGet(ctx, cu, nil)
	if err != nil {
		return taxiiCollection{}, fmt.Errorf("TAXII collections: %w", err)
	}
	cols, err := parseCollections(resp.body)
	if err != nil {
		return taxiiCollection{}, err
	}
	want := strings.TrimSpace(r.src.Collection)
	var found []taxiiCollection
	for _, c := range cols {
		if c.ID == want {
			found = []taxiiCollection{c}
			break
		}
		if strings.EqualFold(c.Title, want) || c.Alias != "" && strings.EqualFold(c.Alias, want) {
			found = append(found, c)
		}
	}
	var names []string
	for i, c := range cols {
		if i == 10 {
			names = append(names, "…")
			break
		}
		names = append(names, fmt.Sprintf("%q (%s)", clipText(c.Title, 80), clipText(c.ID, 60)))
	}
	switch {
	case len(found) == 0:
		return taxiiCollection{}, fmt.Errorf("%w: TAXII collection %q is not among the %d the server shows these credentials: use one of %s",
			ErrNotFound, want, len(cols), strings.Join(names, ", "))
	case len(found) > 1:
		return taxiiCollection{}, fmt.Errorf("%w: %d TAXII collections are titled %q: give the collection's id instead", ErrProtocol, len(found), want)
	}
	c := found[0]
	if !c.CanRead {
		return taxiiCollection{}, fmt.Errorf("%w: TAXII collection %q (%s) is not readable with these credentials: check the token or ask the server's operator for read access",
			ErrUnauthorized, clipText(c.Title, 80), clipText(c.ID, 60))
	}
	if c.ID == "" || len(c.ID) > 256 || strings.ContainsAny(c.ID, "/?#%\\") {
		return taxiiCollection{}, fmt.Errorf("%w: TAXII collection %q has id %q, which is not a usable path segment", ErrProtocol, clipText(c.Title, 80), clipText(c.ID, 80))
	}
	return c, nil
}

// withSlash returns a copy of u whose path ends with "/", as TAXII URLs do.
func withSlash(u *url.URL) *url.URL {
	c := *u
	if !strings.HasSuffix(c.Path, "/") {
		c.Path += "/"
		c.RawPath = ""
	}
	return &c
}
