package alert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// STARTTLS modes of SMTPConfig.StartTLS.
const (
	StartTLSRequired      = "required"
	StartTLSOpportunistic = "opportunistic"
	StartTLSNone          = "none"
)

// SMTPConfig configures a mail sink.
type SMTPConfig struct {
	// Name identifies the sink (Sink.Name). Zero means "smtp:ADDR".
	Name string `yaml:"name" json:"name"`
	// Addr is the submission server's host:port, such as
	// "smtp.example.org:587" (or port 465 with ImplicitTLS).
	Addr string `yaml:"addr" json:"addr"`
	// From is the sender address, such as "ward <ward@example.org>"; it is
	// also the envelope sender.
	From string `yaml:"from" json:"from"`
	// To are the recipients' addresses; at least one.
	To []string `yaml:"to" json:"to"`
	// Username and Password, when Username is set, log in with AUTH PLAIN
	// or LOGIN, whichever the server offers, and only over TLS: the sink
	// never sends a password in clear.
	Username string `yaml:"username" json:"username"`
	Password string `yaml:"password" json:"password"`
	// StartTLS is "required" (zero value: fail unless the server offers
	// STARTTLS and the handshake succeeds), "opportunistic" (use STARTTLS
	// when offered, else go on in clear, without logging in) or "none"
	// (never; only allowed to a loopback address). The server's
	// certificate is always verified.
	StartTLS string `yaml:"starttls" json:"starttls"`
	// ImplicitTLS speaks TLS from the first byte (port 465, "SMTPS");
	// StartTLS must then be zero or "required".
	ImplicitTLS bool `yaml:"implicit_tls" json:"implicit_tls"`
	// CAFile is a PEM file of certificate authorities to trust instead of
	// the system's, for a server with a private CA. Zero means the system
	// roots.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// TLSConfig, when set, is used for TLS (cloned; ServerName defaults to
	// Addr's host). It overrides CAFile. For tests and programs; not read
	// from configuration files.
	TLSConfig *tls.Config `yaml:"-" json:"-"`
	// HELO is the name sent in EHLO. Zero means this machine's host name.
	HELO string `yaml:"helo" json:"helo"`
	// HTML adds an HTML alternative to the plain-text message.
	HTML bool `yaml:"html" json:"html"`
	// Timeout bounds one delivery, from dialling to the server's answer
	// to the message. Zero means 30 seconds.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

const (
	defaultSMTPTimeout = 30 * time.Second
	maxRecipients      = 50
	// maxSMTPRead bounds what the sink reads from the server in one
	// delivery: replies are short, and a broken or hostile server cannot
	// make the client buffer more.
	maxSMTPRead = 1 << 20
)

// smtpSink is a Sink that sends mail.
type smtpSink struct {
	name     string
	addr     string
	host     string
	from     string // bare address, envelope sender
	fromHdr  string // header form
	to       []string
	toHdr    string
	user     string
	pass     string
	mode     string
	implicit bool
	tls      *tls.Config
	helo     string
	html     bool
	timeout  time.Duration
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ Sink = (*smtpSink)(nil)

// NewSMTP returns a sink that mails each alert, as a plain-text message
// (and an HTML alternative with cfg.HTML), to cfg.To through the
// submission server cfg.Addr. The Message-ID is "<ID@ward>", so that a
// retried delivery is recognisably the same message. A 5xx reply is
// permanent, a 4xx reply or a broken connection worth retrying; any
// recipient refused means nothing is sent.
func NewSMTP(cfg SMTPConfig) (Sink, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: addr %q is not host:port: use for example smtp.example.org:587", cfg.Addr)
	}
	s := &smtpSink{
		name:     cfg.Name,
		addr:     cfg.Addr,
		host:     host,
		user:     cfg.Username,
		pass:     cfg.Password,
		mode:     cfg.StartTLS,
		implicit: cfg.ImplicitTLS,
		helo:     cfg.HELO,
		html:     cfg.HTML,
		timeout:  cfg.Timeout,
		dial:     (&net.Dialer{}).DialContext,
	}
	if s.name == "" {
		s.name = "smtp:" + cfg.Addr
	}
	switch s.mode {
	case "":
		s.mode = StartTLSRequired
	case StartTLSRequired, StartTLSOpportunistic:
	case StartTLSNone:
		if !isLoopbackHost(host) {
			return nil, fmt.Errorf("smtp: starttls none sends alerts in clear to %s: it is only allowed to a loopback address; use required or opportunistic", host)
		}
	default:
		return nil, fmt.Errorf("smtp: starttls %q is unknown: use required, opportunistic or none", cfg.StartTLS)
	}
	if s.implicit && s.mode != StartTLSRequired {
		return nil, fmt.Errorf("smtp: implicit_tls is set with starttls %s: leave starttls empty with implicit_tls", s.mode)
	}
	if s.user != "" && s.mode == StartTLSNone && !s.implicit {
		return nil, errors.New("smtp: username is set with starttls none: ward logs in only over TLS; use starttls required")
	}
	if s.timeout < 0 {
		return nil, fmt.Errorf("smtp: timeout %v is negative: use a positive duration or 0 for the default", cfg.Timeout)
	}
	if s.timeout == 0 {
		s.timeout = defaultSMTPTimeout
	}
	from, err := parseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from: %w", err)
	}
	s.from, s.fromHdr = from.Address, from.String()
	if len(cfg.To) == 0 {
		return nil, errors.New("smtp: to is empty: name at least one recipient")
	}
	if len(cfg.To) > maxRecipients {
		return nil, fmt.Errorf("smtp: to has %d recipients: at most %d are allowed; use a list address", len(cfg.To), maxRecipients)
	}
	var hdr []string
	for i, t := range cfg.To {
		a, err := parseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("smtp: to[%d]: %w", i, err)
		}
		s.to = append(s.to, a.Address)
		hdr = append(hdr, a.String())
	}
	s.toHdr = strings.Join(hdr, ", ")
	if s.helo == "" {
		s.helo, _ = os.Hostname()
	}
	if s.helo = printASCII(s.helo, 255); s.helo == "-" {
		s.helo = "localhost"
	}
	switch {
	case cfg.TLSConfig != nil:
		s.tls = cfg.TLSConfig.Clone()
	case cfg.CAFile != "":
		pool, err := loadCAFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("smtp: ca_file: %w", err)
		}
		s.tls = &tls.Config{RootCAs: pool}
	default:
		s.tls = &tls.Config{}
	}
	if s.tls.ServerName == "" {
		s.tls.ServerName = host
	}
	if s.tls.MinVersion == 0 {
		s.tls.MinVersion = tls.VersionTLS12
	}
	return s, nil
}

// loadCAFile reads a PEM bundle of certificate authorities.
func loadCAFile(name string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate: give a file of -----BEGIN CERTIFICATE----- blocks", name)
	}
	return pool, nil
}

// Name implements Sink.
func (s *smtpSink) Name() string { return s.name }

// Send implements Sink.
func (s *smtpSink) Send(ctx context.Context, a Alert) error {
	b, err := a.bounded()
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	msg, err := buildMessage(b, s.fromHdr, s.toHdr, s.html)
	if err != nil {
		return fmt.Errorf("%s: building the message: %w", s.name, err)
	}
	if err := s.deliver(ctx, msg); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// deliver runs one SMTP session that submits msg.
func (s *smtpSink) deliver(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	raw, err := s.dial(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", s.addr, err)
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	if err := raw.SetDeadline(deadline); err != nil {
		return err
	}
	// A cancelled context ends any read or write at once.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var conn net.Conn = &limitedConn{Conn: raw, left: maxSMTPRead}
	if s.implicit {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return tlsError(s.addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return smtpError(ctx, "reading the greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.helo); err != nil {
		return smtpError(ctx, "EHLO", err)
	}
	_, isTLS := c.TLSConnectionState()
	if !isTLS && s.mode != StartTLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tls); err != nil {
				var te *textproto.Error
				if errors.As(err, &te) {
					return smtpError(ctx, "STARTTLS", err)
				}
				return tlsError(s.addr, err)
			}
			isTLS = true
		} else if s.mode == StartTLSRequired {
			return Permanent(fmt.Errorf("%s does not offer STARTTLS and starttls is required: enable STARTTLS on the server, use implicit_tls on port 465, or set starttls opportunistic", s.addr))
		}
	}
	if s.user != "" {
		if !isTLS {
			return Permanent(fmt.Errorf("refusing to send the password to %s without TLS: the server offers no STARTTLS; enable it on the server or use implicit_tls", s.addr))
		}
		ok, mechs := c.Extension("AUTH")
		var auth smtp.Auth
		switch {
		case ok && hasWord(mechs, "PLAIN"):
			auth = &plainAuth{user: s.user, pass: s.pass}
		case ok && hasWord(mechs, "LOGIN"):
			auth = &loginAuth{user: s.user, pass: s.pass}
		default:
			return Permanent(fmt.Errorf("%s offers no AUTH PLAIN or LOGIN (it offers %q): enable one of them or remove username", s.addr, clip(oneLine(mechs), 100)))
		}
		if err := c.Auth(auth); err != nil {
			return smtpError(ctx, "AUTH", err)
		}
	}
	if err := c.Mail(s.from); err != nil {
		return smtpError(ctx, "MAIL FROM", err)
	}
	for _, rcpt := range s.to {
		if err := c.Rcpt(rcpt); err != nil {
			return smtpError(ctx, "RCPT TO:<"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpError(ctx, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError(ctx, "sending the message", err)
	}
	if err := w.Close(); err != nil {
		return smtpError(ctx, "end of DATA", err)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// smtpError names the step that failed and classifies err: a 5xx reply
// is permanent, anything else (4xx, network, timeout) worth retrying.
func smtpError(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		e := fmt.Errorf("%s: server replied %d %s", step, te.Code, clip(oneLine(te.Msg), 200))
		if te.Code >= 500 {
			return Permanent(e)
		}
		return e
	}
	return fmt.Errorf("%s: %w", step, err)
}

// tlsError classifies a failed TLS handshake: a certificate the sink
// cannot verify needs the operator (CAFile, the server's certificate), so
// it is permanent; anything else may pass.
func tlsError(addr string, err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	if errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return Permanent(fmt.Errorf("TLS with %s: %w: fix the server's certificate or set ca_file", addr, err))
	}
	return fmt.Errorf("TLS with %s: %w", addr, err)
}

// hasWord reports whether the space-separated list has w, ignoring case.
func hasWord(list, w string) bool {
	for f := range strings.FieldsSeq(list) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

// limitedConn fails reads once more than left bytes were read.
type limitedConn struct {
	net.Conn
	left int64
}

var errSMTPTooMuch = errors.New("the server sent more than 1 MiB of replies")

func (c *limitedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, errSMTPTooMuch
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

// plainAuth is SASL PLAIN (RFC 4616). Unlike net/smtp's PlainAuth it does
// not check the server's name; Send checked that the session uses TLS.
type plainAuth struct{ user, pass string }

func (a *plainAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("refusing AUTH PLAIN without TLS")
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a *plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge during AUTH PLAIN")
	}
	return nil, nil
}

// loginAuth is the LOGIN mechanism: the server asks for the user name and
// then the password, one challenge each.
type loginAuth struct {
	user, pass string
	step       int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS {
		return "", nil, errors.New("refusing AUTH LOGIN without TLS")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	ch := strings.ToLower(string(challenge))
	switch {
	case strings.HasPrefix(ch, "user"):
		return []byte(a.user), nil
	case strings.HasPrefix(ch, "pass"):
		return []byte(a.pass), nil
	case a.step == 1:
		return []byte(a.user), nil
	case a.step == 2:
		return []byte(a.pass), nil
	}
	return nil, errors.New("unexpected third challenge during AUTH LOGIN")
}
