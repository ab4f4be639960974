package alert

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCert makes a self-signed certificate for 127.0.0.1, ::1 and
// localhost, and a pool that trusts it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ward test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// fakeSMTP is an in-process ESMTP server speaking enough of RFC 5321 for
// the sink: EHLO, STARTTLS (RFC 3207), AUTH PLAIN and LOGIN (RFC 4954),
// MAIL, RCPT, DATA, RSET, NOOP, QUIT, and configurable error replies.
type fakeSMTP struct {
	// Set before start.
	offerStartTLS bool
	implicitTLS   bool
	authMechs     string            // advertised after TLS, such as "PLAIN LOGIN"
	authInClear   bool              // advertise AUTH before TLS too
	user, pass    string            // accepted credentials
	replies       map[string]string // overrides by step: "MAIL", "RCPT", "DATA", "END", "AUTH", "GREETING"
	greeting      string            // replaces the whole greeting when set (raw bytes)
	silent        bool              // never greet

	cert tls.Certificate
	ln   net.Listener
	wg   sync.WaitGroup
	got  chan *smtpSession
	stop chan struct{}
}

// smtpSession is what one client connection did.
type smtpSession struct {
	cmds    []string // command verbs in order
	tls     bool     // STARTTLS or implicit TLS was in force at the end
	authTLS []bool   // for each AUTH, whether TLS was in force
	authOK  bool
	from    string
	rcpts   []string
	data    string
}

func startSMTP(t *testing.T, f *fakeSMTP) *fakeSMTP {
	t.Helper()
	f.cert, _ = testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln, f.got, f.stop = ln, make(chan *smtpSession, 16), make(chan struct{})
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		close(f.stop)
		ln.Close()
		f.wg.Wait()
	})
	return f
}

func (f *fakeSMTP) addr() string { return f.ln.Addr().String() }

// session waits for the record of the next finished connection.
func (f *fakeSMTP) session(t *testing.T) *smtpSession {
	t.Helper()
	select {
	case s := <-f.got:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the SMTP server saw no session")
		return nil
	}
}

func (f *fakeSMTP) serve(c net.Conn) {
	s := &smtpSession{}
	defer func() { f.got <- s }()
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if f.silent {
		<-f.stop
		return
	}
	if f.implicitTLS {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{f.cert}})
		if tc.Handshake() != nil {
			return
		}
		c, s.tls = tc, true
	}
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	step := func(name, def string) string {
		if r, ok := f.replies[name]; ok {
			return r
		}
		return def
	}
	readLine := func() (string, bool) {
		l, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		return strings.TrimRight(l, "\r\n"), true
	}
	if f.greeting != "" {
		w.WriteString(f.greeting)
		w.Flush()
		return
	}
	reply(step("GREETING", "220 fake.test ESMTP ready"))
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		s.cmds = append(s.cmds, verb)
		switch verb {
		case "EHLO", "HELO":
			lines := []string{"250-fake.test greets " + arg}
			if f.offerStartTLS && !s.tls {
				lines = append(lines, "250-STARTTLS")
			}
			if f.authMechs != "" && (s.tls || f.authInClear) {
				lines = append(lines, "250-AUTH "+f.authMechs)
			}
			reply(append(lines, "250 8BITMIME")...)
		case "STARTTLS":
			if !f.offerStartTLS || s.tls {
				reply("502 5.5.1 no STARTTLS here")
				continue
			}
			reply("220 2.0.0 go ahead")
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{f.cert}})
			if tc.Handshake() != nil {
				return
			}
			c, s.tls = tc, true
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
		case "AUTH":
			s.authTLS = append(s.authTLS, s.tls)
			mech, initial, _ := strings.Cut(arg, " ")
			var user, pass string
			switch strings.ToUpper(mech) {
			case "PLAIN":
				if initial == "" {
					reply("334 ")
					initial, _ = readLine()
				}
				dec, _ := base64.StdEncoding.DecodeString(initial)
				parts := strings.Split(string(dec), "\x00")
				if len(parts) == 3 {
					user, pass = parts[1], parts[2]
				}
			case "LOGIN":
				reply("334 " + base64.StdEncoding.EncodeToString([]byte("Username:")))
				l, _ := readLine()
				u, _ := base64.StdEncoding.DecodeString(l)
				reply("334 " + base64.StdEncoding.EncodeToString([]byte("Password:")))
				l, _ = readLine()
				p, _ := base64.StdEncoding.DecodeString(l)
				user, pass = string(u), string(p)
			default:
				reply("504 5.5.4 unknown mechanism")
				continue
			}
			if rep, ok := f.replies["AUTH"]; ok {
				reply(rep)
				continue
			}
			if user == f.user && pass == f.pass {
				s.authOK = true
				reply("235 2.7.0 authenticated")
			} else {
				reply("535 5.7.8 bad credentials")
			}
		case "MAIL":
			s.from = arg
			reply(step("MAIL", "250 2.1.0 ok"))
		case "RCPT":
			s.rcpts = append(s.rcpts, arg)
			reply(step("RCPT", "250 2.1.5 ok"))
		case "DATA":
			rep := step("DATA", "354 end with .")
			reply(rep)
			if !strings.HasPrefix(rep, "354") {
				continue
			}
			var data strings.Builder
			for {
				l, ok := readLine()
				if !ok {
					return
				}
				if l == "." {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
				data.WriteString("\r\n")
			}
			s.data = data.String()
			reply(step("END", "250 2.0.0 queued"))
		case "RSET", "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}
