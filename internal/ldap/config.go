package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds dialing, binding and each page of a search when
// Config.Timeout is zero. It is the Directory's spec.timeout default.
const DefaultTimeout = 30 * time.Second

// Config says how to connect and bind to a directory server.
//
// It holds the bind password: its String and GoString methods leave the
// password out, so printing a Config with any fmt verb is safe.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port]. The port defaults to
	// 389 and 636.
	URL string
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool
	// CABundle is a PEM bundle of the CAs the server's certificate must chain
	// to. Empty means the system roots.
	CABundle []byte
	// CASource names where CABundle came from, for error messages, such as
	// `Secret "ldap-ca" key "ca.crt"`.
	CASource string
	// ServerName overrides the name the certificate is verified against.
	// Empty means the URL's host.
	ServerName string
	// InsecureSkipVerify turns certificate verification off.
	InsecureSkipVerify bool
	// BindDN is the DN to bind as. Empty means an anonymous bind.
	BindDN string
	// BindPassword is the bind DN's password. It is never logged and never
	// put into an error message.
	BindPassword string
	// BindPasswordSource names where the password came from, for error
	// messages, such as `Secret "ldap-bind" key "password"`.
	BindPasswordSource string
	// Timeout bounds dialing (TCP, TLS, StartTLS and bind together) and each
	// page of a search. Zero means DefaultTimeout.
	Timeout time.Duration
}

// String describes the Config without its password.
func (c Config) String() string {
	pw := ""
	if c.BindPassword != "" {
		pw = "<redacted>"
	}
	return fmt.Sprintf("{URL:%s StartTLS:%t CABundle:%d bytes ServerName:%s InsecureSkipVerify:%t BindDN:%s BindPassword:%s Timeout:%s}",
		c.URL, c.StartTLS, len(c.CABundle), c.ServerName, c.InsecureSkipVerify, c.BindDN, pw, c.timeout())
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return "ldap.Config" + c.String() }

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c Config) passwordSource() string {
	if c.BindPasswordSource != "" {
		return c.BindPasswordSource
	}
	return "the bind password"
}

func (c Config) caSource() string {
	if c.CASource != "" {
		return "the CA bundle in " + c.CASource
	}
	if len(c.CABundle) > 0 {
		return "the CA bundle"
	}
	return "the system CA roots (no CA bundle is configured)"
}

// endpoint is a parsed Config.URL.
type endpoint struct {
	tls  bool   // ldaps://
	host string // without port
	addr string // host:port
}

// parseURL checks the URL and the StartTLS combination.
func (c Config) endpoint() (endpoint, error) {
	u, err := url.Parse(c.URL)
	if err != nil || u.Host == "" {
		return endpoint{}, newError(ReasonInvalidConfig, nil,
			"url %q is not a valid LDAP URL; write it as ldap://host[:port] or ldaps://host[:port]", c.URL)
	}
	var ep endpoint
	port := u.Port()
	switch strings.ToLower(u.Scheme) {
	case "ldap":
		if port == "" {
			port = "389"
		}
	case "ldaps":
		ep.tls = true
		if port == "" {
			port = "636"
		}
		if c.StartTLS {
			return endpoint{}, newError(ReasonInvalidConfig, nil,
				"url %s is already TLS (ldaps://) and startTLS is set; drop startTLS or use ldap://", c.URL)
		}
	default:
		return endpoint{}, newError(ReasonInvalidConfig, nil,
			"url %q has scheme %q; use ldap:// (optionally with startTLS) or ldaps://", c.URL, u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return endpoint{}, newError(ReasonInvalidConfig, nil,
			"url %q has a path; put the base DN into users.baseDN and groups.baseDN, not into the url", c.URL)
	}
	ep.host = u.Hostname()
	ep.addr = net.JoinHostPort(ep.host, port)
	return ep, nil
}

// tlsConfig builds the TLS configuration for ldaps:// and StartTLS.
func (c Config) tlsConfig(ep endpoint) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: ep.host,
		// The administrator's explicit choice; the Directory reports an
		// Insecure condition as long as it is set.
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // G402: see above
	}
	if c.ServerName != "" {
		cfg.ServerName = c.ServerName
	}
	if len(c.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.CABundle) {
			return nil, newError(ReasonInvalidConfig, nil,
				"%s holds no PEM certificate; put the CA certificate(s) in PEM form (-----BEGIN CERTIFICATE-----) there", c.caSource())
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
