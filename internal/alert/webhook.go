package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// Webhook formats.
const (
	FormatJSON       = "json"       // the Alert as JSON
	FormatSlack      = "slack"      // Slack incoming webhook, one attachment
	FormatMattermost = "mattermost" // Mattermost incoming webhook, one attachment
	FormatTeams      = "teams"      // Teams workflow or incoming webhook, an Adaptive Card
)

// WebhookConfig configures a webhook sink.
type WebhookConfig struct {
	// Name identifies the sink (Sink.Name). Zero means "webhook:FORMAT:HOST",
	// which does not contain the URL's path: Slack's holds its secret.
	Name string `yaml:"name" json:"name"`
	// Format is "json" (zero value), "slack", "mattermost" or "teams".
	Format string `yaml:"format" json:"format"`
	// URL is where alerts are POSTed. It must be https, or http to a
	// loopback address unless AllowHTTP is set. Redirects are not
	// followed: configure the final URL.
	URL string `yaml:"url" json:"url"`
	// AllowHTTP allows a plain-http URL to a non-loopback host, for a
	// collector inside the hospital network. Tokens in Headers and the
	// alerts then cross the network in clear.
	AllowHTTP bool `yaml:"allow_http" json:"allow_http"`
	// Headers are added to every request, such as
	// {"Authorization": "Bearer ..."}. They cannot replace Content-Type,
	// Content-Length, Host, Idempotency-Key or the X-Ward-* headers.
	Headers map[string]string `yaml:"headers" json:"headers"`
	// Secret, when set, signs each body: the header X-Ward-Signature is
	// "sha256=" and the hex HMAC-SHA256 of the body under Secret.
	Secret string `yaml:"secret" json:"secret"`
	// Timeout bounds one delivery, from connecting to reading the answer.
	// Zero means 15 seconds.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Client makes the requests. Nil means a client of its own; a given
	// client is copied and never follows redirects.
	Client *http.Client `yaml:"-" json:"-"`
}

// Bounds of a webhook exchange.
const (
	defaultWebhookTimeout = 15 * time.Second
	// maxWebhookBody bounds a request body. Slack and Teams refuse bodies
	// far smaller than this; a generic body whose Details make it larger
	// is sent without them.
	maxWebhookBody = 256 << 10
	// maxResponseRead is how much of an answer is read: enough for the
	// error text Slack, Mattermost and Teams send, no more.
	maxResponseRead = 64 << 10
	maxHeaders      = 32
)

// reservedHeaders are set by the sink and cannot be configured.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "Idempotency-Key", "Transfer-Encoding", "Connection"}

// webhook is a Sink that POSTs to a URL.
type webhook struct {
	name    string
	format  string
	url     string
	headers http.Header
	secret  []byte
	timeout time.Duration
	client  *http.Client
	now     func() time.Time
}

var _ Sink = (*webhook)(nil)

// NewWebhook returns a sink that POSTs each alert to cfg.URL in cfg.Format.
// Every request carries the alert's ID in the Idempotency-Key and
// X-Ward-Alert-ID headers. A 2xx answer is success; 408, 425, 429, 5xx and
// network errors are worth retrying (with RetryAfter when the server sent
// Retry-After); other answers, redirects included, are permanent.
func NewWebhook(cfg WebhookConfig) (Sink, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	u, _ := url.Parse(cfg.URL) // validated
	w := &webhook{
		name:    cfg.Name,
		format:  cfg.Format,
		url:     cfg.URL,
		headers: make(http.Header, len(cfg.Headers)),
		timeout: cfg.Timeout,
		now:     time.Now,
	}
	if w.format == "" {
		w.format = FormatJSON
	}
	if w.name == "" {
		w.name = "webhook:" + w.format + ":" + u.Hostname()
	}
	if w.timeout == 0 {
		w.timeout = defaultWebhookTimeout
	}
	if cfg.Secret != "" {
		w.secret = []byte(cfg.Secret)
	}
	for k, v := range cfg.Headers {
		w.headers.Set(k, v)
	}
	var c http.Client
	if cfg.Client != nil {
		c = *cfg.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w.client = &c
	return w, nil
}

func (cfg *WebhookConfig) validate() error {
	switch cfg.Format {
	case "", FormatJSON, FormatSlack, FormatMattermost, FormatTeams:
	default:
		return fmt.Errorf("webhook: format %q is unknown: use json, slack, mattermost or teams", cfg.Format)
	}
	if cfg.URL == "" {
		return errors.New("webhook: url is empty: set it to the webhook's https URL")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("webhook: url %q is not an http(s) URL with a host", redactURL(cfg.URL))
	}
	if u.User != nil {
		return errors.New("webhook: url holds a user name or password: put credentials in headers instead")
	}
	if u.Scheme == "http" && !cfg.AllowHTTP && !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("webhook: url %q is plain http to another host: use https, or set allow_http to accept alerts and tokens in clear", redactURL(cfg.URL))
	}
	if len(cfg.Headers) > maxHeaders {
		return fmt.Errorf("webhook: headers has %d entries: at most %d are allowed", len(cfg.Headers), maxHeaders)
	}
	for k, v := range cfg.Headers {
		if !httpguts.ValidHeaderFieldName(k) {
			return fmt.Errorf("webhook: headers: %q is not a valid header name", k)
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return fmt.Errorf("webhook: headers: the value of %s holds a control character: remove it", k)
		}
		ck := http.CanonicalHeaderKey(k)
		if slices.Contains(reservedHeaders, ck) || strings.HasPrefix(ck, "X-Ward-") {
			return fmt.Errorf("webhook: headers: %s is set by ward and cannot be configured: remove it", ck)
		}
	}
	if cfg.Timeout < 0 {
		return fmt.Errorf("webhook: timeout %v is negative: use a positive duration or 0 for the default", cfg.Timeout)
	}
	return nil
}

// redactURL keeps a URL's scheme and host for error messages: the path or
// query of a webhook URL is often its secret.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "(unparsable)"
	}
	if u.Path == "" && u.RawQuery == "" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Name implements Sink.
func (w *webhook) Name() string { return w.name }

// Send implements Sink.
func (w *webhook) Send(ctx context.Context, a Alert) error {
	b, err := a.bounded()
	if err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	body, err := w.body(b)
	if err != nil {
		return fmt.Errorf("%s: %w", w.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", w.name, err))
	}
	for k, v := range w.headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "ward (+https://github.com/ward-health/ward)")
	id := idHeaderValue(b.ID)
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set("X-Ward-Alert-ID", id)
	if w.secret != nil {
		m := hmac.New(sha256.New, w.secret)
		m.Write(body)
		req.Header.Set("X-Ward-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error names the full URL, secret path included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s: POST %s: %w", w.name, redactURL(w.url), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseRead))
	// Drain a little more so the connection can be reused, never much.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return w.statusError(resp, snippet)
}

// statusError classifies a non-2xx answer.
func (w *webhook) statusError(resp *http.Response, snippet []byte) error {
	err := fmt.Errorf("%s: POST %s: HTTP %d %s", w.name, redactURL(w.url), resp.StatusCode, http.StatusText(resp.StatusCode))
	if s := clip(oneLine(string(snippet)), 200); s != "" {
		err = fmt.Errorf("%w: %s", err, s)
	}
	code := resp.StatusCode
	switch {
	case code >= 300 && code < 400:
		return Permanent(fmt.Errorf("%w: the webhook redirects to %s: configure the final URL", err, redactURL(resp.Header.Get("Location"))))
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), w.now()); ok {
			return &retryAfterError{err: err, after: d}
		}
		return err
	case code == http.StatusRequestTimeout || code == http.StatusTooEarly || code >= 500:
		return err
	default:
		return Permanent(err)
	}
}

// idHeaderValue makes an alert ID a header value of printable ASCII
// without spaces (see idToken).
func idHeaderValue(id string) string {
	return idToken(id, MaxIDLen, func(c byte) bool { return c > ' ' && c <= '~' })
}

// body renders the request body of one (bounded) alert.
func (w *webhook) body(a Alert) ([]byte, error) {
	var v any
	switch w.format {
	case FormatSlack:
		v = slackPayload(a, slackEscape, slackEscape(a.Title))
	case FormatMattermost:
		v = slackPayload(a, markdownEscape, strings.ReplaceAll(a.Title, "@", "@"+zwsp))
	case FormatTeams:
		v = teamsPayload(a)
	default:
		return jsonBody(a)
	}
	return json.Marshal(v)
}

// genericAlert is the generic webhook's body: the Alert, and a flag when
// its Details were too large to send.
type genericAlert struct {
	Alert
	DetailsDropped bool `json:"details_dropped,omitempty"`
}

// jsonBody renders the generic body, dropping Details when they cannot be
// encoded within maxWebhookBody (a bad Details value is the caller's bug,
// but the alert itself still deserves delivery).
func jsonBody(a Alert) ([]byte, error) {
	if a.Details != nil {
		body, err := json.Marshal(genericAlert{Alert: a})
		if err == nil && len(body) <= maxWebhookBody {
			return body, nil
		}
	}
	dropped := a.Details != nil
	a.Details = nil
	body, err := json.Marshal(genericAlert{Alert: a, DetailsDropped: dropped})
	if err != nil {
		return nil, Permanent(fmt.Errorf("encoding the alert: %w", err))
	}
	return body, nil
}

// severityColor is the colour bar of a chat attachment.
func severityColor(s string) string {
	switch severityRank(s) {
	case 0:
		return "#439fe0"
	case 1:
		return "#2eb886"
	case 3:
		return "#e8590c"
	case 4:
		return "#d00000"
	}
	return "#daa038"
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

type slackAttachment struct {
	Fallback  string       `json:"fallback"`
	Color     string       `json:"color"`
	Title     string       `json:"title"`
	TitleLink string       `json:"title_link,omitempty"`
	Text      string       `json:"text,omitempty"`
	Fields    []slackField `json:"fields"`
	Footer    string       `json:"footer"`
	TS        int64        `json:"ts"`
}

type slackMessage struct {
	Text        string            `json:"text"`
	UnfurlLinks bool              `json:"unfurl_links"`
	UnfurlMedia bool              `json:"unfurl_media"`
	Attachments []slackAttachment `json:"attachments"`
}

// slackPayload renders a Slack or Mattermost incoming-webhook message with
// esc as the escaping of every outside value and fallback as the
// notification text (plain text for Mattermost, escaped for Slack). Link
// previews are off: a chat server fetching a live phishing page tells its
// owner he was found.
func slackPayload(a Alert, esc func(string) string, fallback string) slackMessage {
	title := esc(a.Title)
	att := slackAttachment{
		Fallback: fallback,
		Color:    severityColor(a.Severity),
		Title:    title,
		Footer:   "ward · alert " + esc(a.ID),
		TS:       a.Time.Unix(),
	}
	if safeLink(a.Link) {
		att.TitleLink = a.Link
	}
	add := func(title, value string, short bool) {
		if value != "" {
			att.Fields = append(att.Fields, slackField{Title: title, Value: esc(value), Short: short})
		}
	}
	add("Subject", a.Subject, false)
	add("Organisation", a.Org, true)
	add("Brand", a.Brand, true)
	add("Severity", a.Severity, true)
	add("State", a.stateLine(), true)
	add("Score", strconv.Itoa(a.Score), true)
	add("Kind", a.Kind, true)
	if len(a.Reasons) > 0 {
		var t strings.Builder
		for i, r := range a.Reasons {
			if i > 0 {
				t.WriteByte('\n')
			}
			t.WriteString("• ")
			t.WriteString(esc(r))
		}
		att.Text = t.String()
	}
	return slackMessage{Text: title, Attachments: []slackAttachment{att}}
}

// safeLink reports whether link may become a clickable link: an absolute
// http(s) URL. The link comes from ward's own configuration, but a
// "javascript:" link in a card would still be a bad surprise.
func safeLink(link string) bool {
	if link == "" {
		return false
	}
	u, err := url.Parse(link)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

type cardRun struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Color  string `json:"color,omitempty"`
}

type cardBlock struct {
	Type    string    `json:"type"`
	Inlines []cardRun `json:"inlines"`
	Spacing string    `json:"spacing,omitempty"`
}

type cardAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

type card struct {
	Schema  string            `json:"$schema"`
	Type    string            `json:"type"`
	Version string            `json:"version"`
	MSTeams map[string]string `json:"msteams"`
	Body    []cardBlock       `json:"body"`
	Actions []cardAction      `json:"actions,omitempty"`
}

type cardAttachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     card    `json:"content"`
}

type teamsMessage struct {
	Type        string           `json:"type"`
	Summary     string           `json:"summary"`
	Attachments []cardAttachment `json:"attachments"`
}

// teamsPayload renders a message with one Adaptive Card (version 1.4, which
// Teams renders) for Teams workflows and incoming webhooks. Outside values
// go in TextRuns of RichTextBlocks, which Teams shows as plain text: no
// Markdown link, emphasis or list can be smuggled in.
func teamsPayload(a Alert) teamsMessage {
	color := "Warning"
	switch severityRank(a.Severity) {
	case 0, 1:
		color = "Default"
	case 3, 4:
		color = "Attention"
	}
	body := []cardBlock{{
		Type:    "RichTextBlock",
		Inlines: []cardRun{{Type: "TextRun", Text: cardText(a.Title), Weight: "Bolder", Size: "Medium", Color: color}},
	}}
	fact := func(label, value string) {
		if value != "" {
			body = append(body, cardBlock{Type: "RichTextBlock", Spacing: "Small", Inlines: []cardRun{
				{Type: "TextRun", Text: label + ": ", Weight: "Bolder"},
				{Type: "TextRun", Text: cardText(value)},
			}})
		}
	}
	fact("Subject", a.Subject)
	fact("Organisation", a.Org)
	fact("Brand", a.Brand)
	fact("Severity", a.Severity)
	fact("State", a.stateLine())
	fact("Score", strconv.Itoa(a.Score))
	for _, r := range a.Reasons {
		body = append(body, cardBlock{Type: "RichTextBlock", Spacing: "Small", Inlines: []cardRun{{Type: "TextRun", Text: "• " + cardText(r)}}})
	}
	body = append(body, cardBlock{Type: "RichTextBlock", Spacing: "Medium", Inlines: []cardRun{{Type: "TextRun", Text: "ward · alert " + cardText(a.ID), Size: "Small"}}})
	c := card{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		MSTeams: map[string]string{"width": "Full"},
		Body:    body,
	}
	if safeLink(a.Link) {
		c.Actions = []cardAction{{Type: "Action.OpenUrl", Title: "Open in ward", URL: a.Link}}
	}
	return teamsMessage{
		Type:        "message",
		Summary:     cardText(a.Title),
		Attachments: []cardAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: c}},
	}
}
