package alert

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sink types of Config.Type.
const (
	TypeWebhook = "webhook"
	TypeSMTP    = "smtp"
	TypeSyslog  = "syslog"
)

// Config is one sink as written in ward's configuration file: a Type and
// the fields of that type's config (WebhookConfig, SMTPConfig or
// SyslogConfig, which document them). Fields of another type must be
// left empty.
type Config struct {
	// Name identifies the sink; zero means a name from its type and address.
	Name string `yaml:"name" json:"name"`
	// Type is "webhook", "smtp" or "syslog".
	Type string `yaml:"type" json:"type"`

	// Webhook fields.
	Format    string            `yaml:"format" json:"format"`
	URL       string            `yaml:"url" json:"url"`
	AllowHTTP bool              `yaml:"allow_http" json:"allow_http"`
	Headers   map[string]string `yaml:"headers" json:"headers"`
	Secret    string            `yaml:"secret" json:"secret"`

	// SMTP fields; Addr is shared with syslog.
	Addr        string   `yaml:"addr" json:"addr"`
	From        string   `yaml:"from" json:"from"`
	To          []string `yaml:"to" json:"to"`
	Username    string   `yaml:"username" json:"username"`
	Password    string   `yaml:"password" json:"password"`
	StartTLS    string   `yaml:"starttls" json:"starttls"`
	ImplicitTLS bool     `yaml:"implicit_tls" json:"implicit_tls"`
	HELO        string   `yaml:"helo" json:"helo"`
	HTML        bool     `yaml:"html" json:"html"`

	// Syslog fields.
	Network  string `yaml:"network" json:"network"`
	Facility string `yaml:"facility" json:"facility"`
	Hostname string `yaml:"hostname" json:"hostname"`
	AppName  string `yaml:"app_name" json:"app_name"`
	Framing  string `yaml:"framing" json:"framing"`
	MaxSize  int    `yaml:"max_size" json:"max_size"`

	// Shared: CA file for smtp and syslog over TLS; timeout of one delivery.
	CAFile  string        `yaml:"ca_file" json:"ca_file"`
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

// Validate checks c as NewFromConfig would, and names the field to fix.
func (c Config) Validate() error {
	_, err := NewFromConfig(c, nil)
	return err
}

// NewFromConfig returns the sink that c describes. client makes webhook
// requests (nil means a default client); other types ignore it.
func NewFromConfig(c Config, client *http.Client) (Sink, error) {
	type field struct {
		name  string
		set   bool
		types string // the types that take it
	}
	fields := []field{
		{"format", c.Format != "", TypeWebhook},
		{"url", c.URL != "", TypeWebhook},
		{"allow_http", c.AllowHTTP, TypeWebhook},
		{"headers", len(c.Headers) > 0, TypeWebhook},
		{"secret", c.Secret != "", TypeWebhook},
		{"addr", c.Addr != "", TypeSMTP + " " + TypeSyslog},
		{"from", c.From != "", TypeSMTP},
		{"to", len(c.To) > 0, TypeSMTP},
		{"username", c.Username != "", TypeSMTP},
		{"password", c.Password != "", TypeSMTP},
		{"starttls", c.StartTLS != "", TypeSMTP},
		{"implicit_tls", c.ImplicitTLS, TypeSMTP},
		{"helo", c.HELO != "", TypeSMTP},
		{"html", c.HTML, TypeSMTP},
		{"network", c.Network != "", TypeSyslog},
		{"facility", c.Facility != "", TypeSyslog},
		{"hostname", c.Hostname != "", TypeSyslog},
		{"app_name", c.AppName != "", TypeSyslog},
		{"framing", c.Framing != "", TypeSyslog},
		{"max_size", c.MaxSize != 0, TypeSyslog},
		{"ca_file", c.CAFile != "", TypeSMTP + " " + TypeSyslog},
	}
	switch c.Type {
	case TypeWebhook, TypeSMTP, TypeSyslog:
	case "":
		return nil, errors.New("alert sink: type is empty: set it to webhook, smtp or syslog")
	default:
		return nil, fmt.Errorf("alert sink: type %q is unknown: use webhook, smtp or syslog", c.Type)
	}
	for _, f := range fields {
		if f.set && !hasWord(f.types, c.Type) {
			return nil, fmt.Errorf("alert sink %s: %s is not a field of %s sinks (it is for %s): remove it", c.label(), f.name, c.Type, f.types)
		}
	}
	var (
		s   Sink
		err error
	)
	switch c.Type {
	case TypeWebhook:
		s, err = NewWebhook(WebhookConfig{Name: c.Name, Format: c.Format, URL: c.URL, AllowHTTP: c.AllowHTTP,
			Headers: c.Headers, Secret: c.Secret, Timeout: c.Timeout, Client: client})
	case TypeSMTP:
		s, err = NewSMTP(SMTPConfig{Name: c.Name, Addr: c.Addr, From: c.From, To: c.To, Username: c.Username,
			Password: c.Password, StartTLS: c.StartTLS, ImplicitTLS: c.ImplicitTLS, CAFile: c.CAFile,
			HELO: c.HELO, HTML: c.HTML, Timeout: c.Timeout})
	case TypeSyslog:
		s, err = NewSyslog(SyslogConfig{Name: c.Name, Network: c.Network, Addr: c.Addr, Facility: c.Facility,
			Hostname: c.Hostname, AppName: c.AppName, Framing: c.Framing, MaxSize: c.MaxSize, CAFile: c.CAFile,
			Timeout: c.Timeout})
	}
	if err != nil {
		return nil, fmt.Errorf("alert sink %s: %w", c.label(), err)
	}
	return s, nil
}

// label names c in errors: its name, or its type.
func (c Config) label() string {
	if c.Name != "" {
		return fmt.Sprintf("%q", c.Name)
	}
	return c.Type
}
