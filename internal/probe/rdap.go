package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// RDAP is what a registry's RDAP server says about a domain
// (RFC 9083): when it was registered, by which registrar, and whom to
// send an abuse report.
type RDAP struct {
	// URL is the URL asked.
	URL string `json:"url"`
	// Status is the HTTP status; 404 means the registry does not know the
	// name (not registered, or the wrong server for the TLD).
	Status int `json:"status,omitempty"`
	// Registered is the date of the "registration" event; nil when absent.
	Registered *time.Time `json:"registered,omitempty"`
	// Expires is the date of the "expiration" event; nil when absent.
	Expires *time.Time `json:"expires,omitempty"`
	// Registrar is the formatted name of the entity with role
	// "registrar".
	Registrar string `json:"registrar,omitempty"`
	// AbuseEmail is the e-mail of the first entity with role "abuse",
	// at any nesting depth up to 4.
	AbuseEmail string `json:"abuse_email,omitempty"`
	// Error says why the answer is missing or incomplete.
	Error string `json:"error,omitempty"`
}

// rdapDomain is the subset of an RFC 9083 domain object read.
type rdapDomain struct {
	Events   []rdapEvent  `json:"events"`
	Entities []rdapEntity `json:"entities"`
}

type rdapEvent struct {
	Action string `json:"eventAction"`
	Date   string `json:"eventDate"`
}

type rdapEntity struct {
	Roles    []string        `json:"roles"`
	VCard    json.RawMessage `json:"vcardArray"`
	Entities []rdapEntity    `json:"entities"`
}

// ParseRDAP reads an RDAP domain response body into r's Registered,
// Expires, Registrar and AbuseEmail fields.
func ParseRDAP(body []byte, r *RDAP) error {
	var d rdapDomain
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("RDAP response is not a domain object: %w", err)
	}
	for _, ev := range d.Events {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(ev.Date))
		if err != nil {
			continue
		}
		t = t.UTC()
		switch strings.ToLower(ev.Action) {
		case "registration":
			if r.Registered == nil {
				r.Registered = &t
			}
		case "expiration":
			if r.Expires == nil {
				r.Expires = &t
			}
		}
	}
	walkEntities(d.Entities, 0, func(e rdapEntity) {
		for _, role := range e.Roles {
			switch strings.ToLower(role) {
			case "registrar":
				if r.Registrar == "" {
					r.Registrar = truncate(vcardValue(e.VCard, "fn"), 256)
				}
			case "abuse":
				if r.AbuseEmail == "" {
					r.AbuseEmail = truncate(strings.TrimPrefix(vcardValue(e.VCard, "email"), "mailto:"), 256)
				}
			}
		}
	})
	return nil
}

// walkEntities visits entities depth-first, at most 4 levels and 256
// entities deep.
func walkEntities(es []rdapEntity, depth int, visit func(rdapEntity)) {
	if depth > 4 {
		return
	}
	for i, e := range es {
		if i >= 256 {
			return
		}
		visit(e)
		walkEntities(e.Entities, depth+1, visit)
	}
}

// vcardValue returns the first text value of property name in a jCard
// (RFC 7095): ["vcard", [[name, params, type, value], ...]].
func vcardValue(raw json.RawMessage, name string) string {
	var card []json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &card) != nil || len(card) < 2 {
		return ""
	}
	var props [][]json.RawMessage
	if json.Unmarshal(card[1], &props) != nil {
		return ""
	}
	for _, p := range props {
		if len(p) < 4 {
			continue
		}
		var pn string
		if json.Unmarshal(p[0], &pn) != nil || !strings.EqualFold(pn, name) {
			continue
		}
		var v string
		if json.Unmarshal(p[3], &v) == nil && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// RDAP asks the configured RDAP server about name. It returns nil when
// RDAPBase is empty. The server is the operator's choice and is not
// subject to the guard; redirects are not followed.
func (p *Prober) RDAP(ctx context.Context, name string) *RDAP {
	if p.cfg.RDAPBase == "" {
		return nil
	}
	n, ok := normalizeName(name)
	r := &RDAP{URL: p.cfg.RDAPBase + "/domain/" + url.PathEscape(n)}
	if !ok {
		r.Error = "not a valid DNS name"
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL, nil)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	req.Header.Set("Accept", "application/rdap+json, application/json")
	req.Header.Set("User-Agent", p.cfg.UserAgent)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		r.Error = truncate(err.Error(), 300)
		return r
	}
	defer resp.Body.Close()
	r.Status = resp.StatusCode
	if resp.StatusCode != http.StatusOK {
		r.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
		return r
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRDAPBody+1))
	if err != nil {
		r.Error = "reading body: " + truncate(err.Error(), 200)
		return r
	}
	if len(body) > maxRDAPBody {
		r.Error = errors.New("response larger than 1 MiB: not read").Error()
		return r
	}
	if err := ParseRDAP(body, r); err != nil {
		r.Error = truncate(err.Error(), 300)
	}
	return r
}
