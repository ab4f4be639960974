package alert

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Syslog transports (SyslogConfig.Network).
const (
	SyslogUDP = "udp" // RFC 5426: one message per datagram
	SyslogTCP = "tcp" // RFC 6587 framing over TCP
	SyslogTLS = "tls" // RFC 5425: octet-counting over TLS
)

// Syslog framings of a stream (SyslogConfig.Framing).
const (
	FramingOctetCounting  = "octet-counting"  // "LEN SP MSG", RFC 6587 section 3.4.1
	FramingNonTransparent = "non-transparent" // MSG LF, RFC 6587 section 3.4.2
)

// SyslogConfig configures a syslog sink.
type SyslogConfig struct {
	// Name identifies the sink (Sink.Name). Zero means
	// "syslog:NETWORK:ADDR".
	Name string `yaml:"name" json:"name"`
	// Network is "udp", "tcp" or "tls"; zero means "udp".
	Network string `yaml:"network" json:"network"`
	// Addr is the collector's host:port, such as "siem.example.org:6514".
	Addr string `yaml:"addr" json:"addr"`
	// Facility is a facility name ("user", "daemon", "auth", "authpriv",
	// "local0" … "local7", …) or number (0 to 23). Zero means "local0".
	Facility string `yaml:"facility" json:"facility"`
	// Hostname is the HOSTNAME field. Zero means this machine's name.
	Hostname string `yaml:"hostname" json:"hostname"`
	// AppName is the APP-NAME field. Zero means "ward".
	AppName string `yaml:"app_name" json:"app_name"`
	// Framing is how messages are delimited on tcp: "octet-counting" (zero
	// value) or "non-transparent" (a newline after each message, for older
	// collectors). TLS always uses octet-counting.
	Framing string `yaml:"framing" json:"framing"`
	// MaxSize is the largest message in bytes, framing excluded; longer
	// messages are cut at a character boundary. Zero means 2048 for udp
	// (the size every receiver must accept) and 8192 for tcp and tls. udp
	// allows at most 2048.
	MaxSize int `yaml:"max_size" json:"max_size"`
	// CAFile is a PEM file of certificate authorities trusted for tls
	// instead of the system's.
	CAFile string `yaml:"ca_file" json:"ca_file"`
	// TLSConfig, when set, is used for tls (cloned; ServerName defaults to
	// Addr's host). It overrides CAFile. Not read from configuration files.
	TLSConfig *tls.Config `yaml:"-" json:"-"`
	// Timeout bounds one delivery. Zero means 10 seconds.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
}

const (
	defaultSyslogTimeout = 10 * time.Second
	maxUDPSize           = 2048
	defaultStreamSize    = 8192
	maxStreamSize        = 64 << 10
	minSyslogSize        = 480 // RFC 5424 section 6.1: every receiver takes 480
	// sdID is ward's structured-data ID. 32473 is the private enterprise
	// number that RFC 5612 reserves for documentation and examples.
	sdID = "ward@32473"
	// bom starts a MSG that holds UTF-8 beyond ASCII (RFC 5424 6.4).
	bom = "\xef\xbb\xbf"
)

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"ntp": 12, "audit": 13, "alert": 14, "clock": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// syslogSink is a Sink that writes RFC 5424 messages.
type syslogSink struct {
	name     string
	network  string
	addr     string
	facility int
	hostname string
	appName  string
	procID   string
	framing  string
	maxSize  int
	tls      *tls.Config
	timeout  time.Duration
}

var _ Sink = (*syslogSink)(nil)

// NewSyslog returns a sink that writes each alert as one RFC 5424 message
// to a collector over UDP, TCP or TLS. The MSGID is the alert's ID, the
// structured data [ward@32473 ...] carries its fields, and the message is
// its title and reasons. Each Send opens its own connection, so a
// collector restart loses nothing that Send reported delivered over TCP or
// TLS beyond what the kernel had buffered; over UDP delivery is never
// confirmed.
func NewSyslog(cfg SyslogConfig) (Sink, error) {
	s := &syslogSink{
		name:     cfg.Name,
		network:  cfg.Network,
		addr:     cfg.Addr,
		hostname: cfg.Hostname,
		appName:  cfg.AppName,
		procID:   strconv.Itoa(os.Getpid()),
		framing:  cfg.Framing,
		maxSize:  cfg.MaxSize,
		timeout:  cfg.Timeout,
	}
	switch s.network {
	case "":
		s.network = SyslogUDP
	case SyslogUDP, SyslogTCP, SyslogTLS:
	default:
		return nil, fmt.Errorf("syslog: network %q is unknown: use udp, tcp or tls", cfg.Network)
	}
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("syslog: addr %q is not host:port: use for example siem.example.org:514 (udp, tcp) or :6514 (tls)", cfg.Addr)
	}
	if s.name == "" {
		s.name = "syslog:" + s.network + ":" + cfg.Addr
	}
	s.facility = 16
	if cfg.Facility != "" {
		f, ok := facilities[strings.ToLower(cfg.Facility)]
		if n, err := strconv.Atoi(cfg.Facility); err == nil && n >= 0 && n <= 23 {
			f, ok = n, true
		}
		if !ok {
			return nil, fmt.Errorf("syslog: facility %q is unknown: use a name such as local0 or auth, or a number from 0 to 23", cfg.Facility)
		}
		s.facility = f
	}
	switch s.framing {
	case "":
		s.framing = FramingOctetCounting
	case FramingOctetCounting:
	case FramingNonTransparent:
		if s.network != SyslogTCP {
			return nil, fmt.Errorf("syslog: framing non-transparent is only for network tcp, not %s: remove framing", s.network)
		}
	default:
		return nil, fmt.Errorf("syslog: framing %q is unknown: use octet-counting or non-transparent", cfg.Framing)
	}
	limit := maxStreamSize
	if s.network == SyslogUDP {
		limit = maxUDPSize
	}
	switch {
	case s.maxSize == 0 && s.network == SyslogUDP:
		s.maxSize = maxUDPSize
	case s.maxSize == 0:
		s.maxSize = defaultStreamSize
	case s.maxSize < minSyslogSize || s.maxSize > limit:
		return nil, fmt.Errorf("syslog: max_size %d is out of range for %s: use %d to %d, or 0 for the default", cfg.MaxSize, s.network, minSyslogSize, limit)
	}
	if s.hostname == "" {
		s.hostname, _ = os.Hostname()
	}
	s.hostname = printASCII(s.hostname, 255)
	if s.appName == "" {
		s.appName = "ward"
	}
	s.appName = printASCII(s.appName, 48)
	if s.timeout < 0 {
		return nil, fmt.Errorf("syslog: timeout %v is negative: use a positive duration or 0 for the default", cfg.Timeout)
	}
	if s.timeout == 0 {
		s.timeout = defaultSyslogTimeout
	}
	if s.network == SyslogTLS {
		switch {
		case cfg.TLSConfig != nil:
			s.tls = cfg.TLSConfig.Clone()
		case cfg.CAFile != "":
			pool, err := loadCAFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("syslog: ca_file: %w", err)
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
	}
	return s, nil
}

// Name implements Sink.
func (s *syslogSink) Name() string { return s.name }

// Send implements Sink.
func (s *syslogSink) Send(ctx context.Context, a Alert) error {
	b, err := a.bounded()
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	msg := s.format(b)
	var frame []byte
	switch {
	case s.network == SyslogUDP:
		frame = msg
	case s.framing == FramingNonTransparent:
		frame = append(msg, '\n')
	default:
		frame = append(strconv.AppendInt(nil, int64(len(msg)), 10), ' ')
		frame = append(frame, msg...)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var conn net.Conn
	switch s.network {
	case SyslogTLS:
		conn, err = (&tls.Dialer{Config: s.tls}).DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, tlsError(s.addr, err))
		}
	default:
		conn, err = (&net.Dialer{}).DialContext(ctx, s.network, s.addr)
		if err != nil {
			return fmt.Errorf("%s: connecting to %s: %w", s.name, s.addr, err)
		}
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(frame); err != nil {
		return fmt.Errorf("%s: writing to %s: %w", s.name, s.addr, err)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		// Tell the collector we are done, so that it does not wait for
		// more before handling the message.
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("%s: closing TLS to %s: %w", s.name, s.addr, err)
		}
	}
	return nil
}

// syslogSeverity maps an alert's severity to a syslog severity.
func syslogSeverity(s string) int {
	switch strings.ToLower(s) {
	case "critical":
		return 2 // crit
	case "high":
		return 3 // err
	case "medium":
		return 4 // warning
	case "low":
		return 5 // notice
	case "info":
		return 6 // informational
	}
	return 5
}

// format renders one RFC 5424 message of at most s.maxSize bytes.
func (s *syslogSink) format(a Alert) []byte {
	head := fmt.Sprintf("<%d>1 %s %s %s %s %s ",
		s.facility*8+syslogSeverity(a.Severity),
		a.Time.Format("2006-01-02T15:04:05.000000Z07:00"),
		s.hostname, s.appName, s.procID,
		idToken(a.ID, 32, func(c byte) bool { return c > ' ' && c <= '~' }))
	// Shrink the structured data until it leaves room for a useful message:
	// at worst each value is 8 bytes before escaping.
	budget := s.maxSize - len(head) - 64
	var sd string
	for c := 256; ; c /= 2 {
		sd = structuredData(a, c)
		if len(sd) <= budget || c <= 8 {
			break
		}
	}
	text := a.Title
	if len(a.Reasons) > 0 {
		text += " Reasons: " + strings.Join(a.Reasons, "; ")
	}
	msg := make([]byte, 0, s.maxSize)
	msg = append(msg, head...)
	msg = append(msg, sd...)
	if text == "" {
		return msg
	}
	msg = append(msg, ' ')
	if !isASCII(text) {
		msg = append(msg, bom...)
	}
	room := s.maxSize - len(msg)
	if room < len(ellipsis)+1 {
		// Nothing useful fits; the structured data still tells the story.
		return msg[:len(msg)-1]
	}
	return append(msg, clip(text, room)...)
}

// structuredData renders the SD-ELEMENT [ward@32473 ...], each value cut
// to at most c bytes before escaping. Empty values are left out; id and
// score are always there.
func structuredData(a Alert, c int) string {
	var b strings.Builder
	b.WriteString("[" + sdID)
	param := func(name, v string, always bool) {
		if v == "" && !always {
			return
		}
		b.WriteString(" " + name + "=\"")
		b.WriteString(sdParamEscape(clip(v, c)))
		b.WriteByte('"')
	}
	param("id", a.ID, true)
	param("org", a.Org, false)
	param("kind", a.Kind, false)
	param("severity", a.Severity, false)
	param("state", a.State, false)
	param("previous", a.Previous, false)
	param("subject", a.Subject, false)
	param("brand", a.Brand, false)
	param("score", strconv.Itoa(a.Score), true)
	b.WriteByte(']')
	return b.String()
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
