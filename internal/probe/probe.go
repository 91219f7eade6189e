// Package probe tests a data connection by connecting to it for real:
// PostgreSQL with pgx, MySQL and MariaDB with go-sql-driver/mysql. It logs
// in, pings and disconnects, within a short timeout, and says what happened
// in a Result whose Reason tells the failures apart (HostNotFound,
// ConnectionRefused, Timeout, TLSFailed, AuthenticationFailed,
// DatabaseNotFound, AccessDenied) and whose Message is a sentence a person
// can act on. No Message ever contains the password, even where the
// driver's or the server's error text would.
//
// The Connection controller calls TestConnection with a Connection's spec
// and its global Basic credential; Testable tells it beforehand whether a
// Connection can be tested at all (PerUser connections and types other than
// PostgreSQL and MySQL cannot). Test takes a plain Input for everything
// else.
package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// DefaultTimeout bounds a test when the Tester gives no timeout: resolving,
// connecting, the TLS handshake, logging in and the ping together.
const DefaultTimeout = 5 * time.Second

// Keys of Connection.spec.parameters that the tester reads. Other keys are
// ignored.
const (
	// ParamHost is the server's host name or IP address. Required.
	ParamHost = "host"
	// ParamPort is the server's TCP port; 5432 for PostgreSQL and 3306 for
	// MySQL when left out.
	ParamPort = "port"
	// ParamDatabase is the database to open. Left out, PostgreSQL opens the
	// database named like the user and MySQL none.
	ParamDatabase = "database"
	// ParamSSLMode is the TLS mode, one of the SSLMode values (libpq's
	// sslmode); prefer when left out.
	ParamSSLMode = "sslMode"
)

// SSLMode says whether and how a connection uses TLS. The values and their
// meaning are libpq's sslmode; MySQL connections honour them the same way.
type SSLMode string

// The TLS modes.
const (
	// SSLModeDisable: no TLS.
	SSLModeDisable SSLMode = "disable"
	// SSLModeAllow: plain first, TLS if the server insists; the certificate
	// is not verified.
	SSLModeAllow SSLMode = "allow"
	// SSLModePrefer: TLS if the server offers it, else plain; the
	// certificate is not verified. The default.
	SSLModePrefer SSLMode = "prefer"
	// SSLModeRequire: TLS, without verifying the certificate.
	SSLModeRequire SSLMode = "require"
	// SSLModeVerifyCA: TLS with a certificate signed by a trusted CA, for any
	// host name.
	SSLModeVerifyCA SSLMode = "verify-ca"
	// SSLModeVerifyFull: TLS with a certificate signed by a trusted CA and
	// valid for the host.
	SSLModeVerifyFull SSLMode = "verify-full"
)

var sslModes = []SSLMode{SSLModeDisable, SSLModeAllow, SSLModePrefer, SSLModeRequire, SSLModeVerifyCA, SSLModeVerifyFull}

// Reasons of a Result, CamelCase so that they can be condition reasons as
// they are.
const (
	// ReasonReachable: the tester logged in and the server answered.
	ReasonReachable = "Reachable"
	// ReasonHostNotFound: the host name does not resolve.
	ReasonHostNotFound = "HostNotFound"
	// ReasonConnectionRefused: nothing listens on the port.
	ReasonConnectionRefused = "ConnectionRefused"
	// ReasonTimeout: no answer within the timeout.
	ReasonTimeout = "Timeout"
	// ReasonTLSFailed: TLS could not be set up as sslMode asks: the server
	// has no TLS, or its certificate cannot be verified, or it insists on
	// TLS while sslMode is disable.
	ReasonTLSFailed = "TLSFailed"
	// ReasonAuthenticationFailed: the server rejected the user name and
	// password.
	ReasonAuthenticationFailed = "AuthenticationFailed"
	// ReasonDatabaseNotFound: the server has no such database.
	ReasonDatabaseNotFound = "DatabaseNotFound"
	// ReasonAccessDenied: the credentials are right but the user may not
	// connect: no privilege on the database, or not from the operator's
	// address.
	ReasonAccessDenied = "AccessDenied"
	// ReasonUnreachable: any other failure to connect.
	ReasonUnreachable = iamv1alpha1.ReasonUnreachable
	// ReasonNotTestable: the operator cannot test this connection.
	ReasonNotTestable = iamv1alpha1.ReasonNotTestable
	// ReasonInvalidSpec: a parameter the test needs is missing or malformed.
	ReasonInvalidSpec = iamv1alpha1.ReasonInvalidSpec
)

// Result is the outcome of a connection test.
type Result struct {
	// Reachable is true when the test logged in.
	Reachable bool
	// Reason is one of the Reason constants.
	Reason string
	// Message says what happened and what to do, in a sentence that never
	// holds the password and does not change from one test to the next
	// while the outcome stays the same.
	Message string
}

// Input is what a test connects to and with.
type Input struct {
	// Type is PostgreSQL or MySQL (which includes MariaDB).
	Type iamv1alpha1.ConnectionType
	// Host is the server's host name or IP address.
	Host string
	// Port is the server's TCP port; 0 is the type's default.
	Port int
	// Database is the database to open; see ParamDatabase for "".
	Database string
	// SSLMode is the TLS mode; "" is prefer.
	SSLMode SSLMode
	// RootCAs verifies server certificates in modes verify-ca and
	// verify-full; nil is the system's roots.
	RootCAs *x509.CertPool
	// Username is the user to log in as.
	Username string
	// Password is the user's password. It never shows in the Result, nor
	// when an Input is printed.
	Password string
	// dial is Tester.Dial.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Addr returns host:port, with the default port for a Port of 0.
func (in Input) Addr() string { return net.JoinHostPort(in.Host, strconv.Itoa(in.port())) }

func (in Input) port() int {
	if in.Port != 0 {
		return in.Port
	}
	if in.Type == iamv1alpha1.ConnectionMySQL {
		return 3306
	}
	return 5432
}

func (in Input) sslMode() SSLMode {
	if in.SSLMode == "" {
		return SSLModePrefer
	}
	return in.SSLMode
}

// String describes the input with the password redacted.
func (in Input) String() string {
	pw := "<redacted>"
	if in.Password == "" {
		pw = "<empty>"
	}
	return fmt.Sprintf("%s{host: %s, port: %d, database: %s, sslMode: %s, username: %s, password: %s}",
		in.Type, in.Host, in.port(), in.Database, in.sslMode(), in.Username, pw)
}

// GoString is String: an Input never prints its password.
func (in Input) GoString() string {
	return "probe.Input" + strings.TrimPrefix(in.String(), string(in.Type))
}

// Format prints the input with the password redacted for every verb.
func (in Input) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, in.GoString())
		return
	}
	fmt.Fprint(f, in.String())
}

// MarshalLog is the redacted form for logr.
func (in Input) MarshalLog() any { return in.String() }

// SpecError says why a Connection cannot be tested as written. Reason is
// ReasonNotTestable or ReasonInvalidSpec.
type SpecError struct {
	// Reason is ReasonNotTestable or ReasonInvalidSpec.
	Reason string
	// Message says why, and for InvalidSpec what to fix.
	Message string
}

// Error returns the Message.
func (e *SpecError) Error() string { return e.Message }

// Result returns the error as the Result of a test.
func (e *SpecError) Result() Result { return Result{Reason: e.Reason, Message: e.Message} }

// Testable returns nil when the operator can test connections like spec,
// and a *SpecError with reason NotTestable saying why not otherwise: only
// PostgreSQL and MySQL connections with Global Basic credentials are
// tested, for a per-user connection has no credential of the operator's to
// test with (DSS: "cannot test the connection during configuration").
func Testable(spec *iamv1alpha1.ConnectionSpec) error {
	notTestable := func(format string, args ...any) error {
		return &SpecError{Reason: ReasonNotTestable, Message: fmt.Sprintf(format, args...)}
	}
	switch spec.Type {
	case iamv1alpha1.ConnectionPostgreSQL, iamv1alpha1.ConnectionMySQL:
	default:
		return notTestable("the operator tests PostgreSQL and MySQL connections only, not %s connections", spec.Type)
	}
	if spec.Credentials.Mode != iamv1alpha1.CredentialModeGlobal {
		return notTestable("the connection has per-user credentials: every user logs in as themselves, and the operator has no credential of its own to test it with")
	}
	if t := outbound.EffectiveType(spec.Credentials); t != iamv1alpha1.CredentialBasic {
		return notTestable("the operator tests %s connections with Basic credentials (username and password), not %s", spec.Type, t)
	}
	return nil
}

// InputFrom makes the Input of a test of the Connection spec with its global
// credential cred. The error is a *SpecError: NotTestable (see Testable) or
// InvalidSpec when parameters host, port or sslMode are missing or
// malformed.
func InputFrom(spec *iamv1alpha1.ConnectionSpec, cred outbound.Basic) (Input, error) {
	if err := Testable(spec); err != nil {
		return Input{}, err
	}
	invalid := func(format string, args ...any) (Input, error) {
		return Input{}, &SpecError{Reason: ReasonInvalidSpec, Message: fmt.Sprintf(format, args...)}
	}
	p := spec.Parameters
	in := Input{Type: spec.Type, Host: p[ParamHost], Database: p[ParamDatabase], Username: cred.Username, Password: string(cred.Password)}
	if in.Host == "" {
		return invalid("parameter %s is missing; set spec.parameters.%s to the %s server's host name", ParamHost, ParamHost, spec.Type)
	}
	if v, ok := p[ParamPort]; ok {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return invalid("parameter %s is %q, not a port number from 1 to 65535; fix spec.parameters.%s", ParamPort, shorten(v), ParamPort)
		}
		in.Port = port
	}
	if v, ok := p[ParamSSLMode]; ok {
		in.SSLMode = SSLMode(v)
		if !validSSLMode(in.SSLMode) {
			return invalid("parameter %s is %q; set spec.parameters.%s to one of %s", ParamSSLMode, shorten(v), ParamSSLMode, sslModeList())
		}
	}
	return in, nil
}

func validSSLMode(m SSLMode) bool {
	for _, v := range sslModes {
		if m == v {
			return true
		}
	}
	return false
}

func sslModeList() string {
	s := make([]string, len(sslModes))
	for i, m := range sslModes {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

// shorten cuts a parameter value for a message.
func shorten(v string) string {
	const maxLen = 64
	if len(v) <= maxLen {
		return v
	}
	return v[:maxLen] + "..."
}

// Tester tests connections.
type Tester struct {
	// Timeout bounds each test; 0 is DefaultTimeout.
	Timeout time.Duration
	// Dial, when set, opens every network connection of a test from the
	// host:port the driver asks for (it resolves the host itself), such as
	// GuardedDial's.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (t Tester) timeout() time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	return DefaultTimeout
}

// TestConnection tests the Connection spec with its global credential cred.
// A Connection that cannot be tested gets a Result with reason NotTestable
// or InvalidSpec, without a connection attempt. The error is not nil only
// when ctx ends before the test does (see Test).
func (t Tester) TestConnection(ctx context.Context, spec *iamv1alpha1.ConnectionSpec, cred outbound.Basic) (Result, error) {
	in, err := InputFrom(spec, cred)
	if err != nil {
		if se, ok := err.(*SpecError); ok {
			return se.Result(), nil
		}
		return Result{}, err
	}
	return t.Test(ctx, in)
}

// Test connects to in, logs in, pings and disconnects, within the Tester's
// timeout. Every outcome of the test, a timeout among them, is a Result;
// the error is not nil only when ctx itself is cancelled or expires first,
// and then the test says nothing about the connection.
func (t Tester) Test(ctx context.Context, in Input) (Result, error) {
	if in.Host == "" {
		return Result{Reason: ReasonInvalidSpec, Message: fmt.Sprintf("no host to test; set parameter %s", ParamHost)}, nil
	}
	if in.Port < 0 || in.Port > 65535 {
		return Result{Reason: ReasonInvalidSpec, Message: fmt.Sprintf("port %d is not a port number from 1 to 65535; fix parameter %s", in.Port, ParamPort)}, nil
	}
	if !validSSLMode(in.sslMode()) {
		return Result{Reason: ReasonInvalidSpec, Message: fmt.Sprintf("TLS mode %q is not one of %s; fix parameter %s", shorten(string(in.SSLMode)), sslModeList(), ParamSSLMode)}, nil
	}
	var engine engine
	switch in.Type {
	case iamv1alpha1.ConnectionPostgreSQL:
		engine = postgreSQL{}
	case iamv1alpha1.ConnectionMySQL:
		engine = mySQL{}
	default:
		return Result{Reason: ReasonNotTestable, Message: fmt.Sprintf("the operator tests PostgreSQL and MySQL connections only, not %s connections", in.Type)}, nil
	}
	testCtx, cancel := context.WithTimeout(ctx, t.timeout())
	defer cancel()
	in.dial = t.Dial
	err := engine.connect(testCtx, in)
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("connection test of %s at %s interrupted: %w", in.Type, in.Addr(), ctx.Err())
	}
	if err == nil {
		return reachable(in), nil
	}
	c := classifier{in: in, timeout: t.timeout(), expired: testCtx.Err() != nil}
	return c.classify(err, engine), nil
}

// TestConnection tests spec with cred using DefaultTimeout.
func TestConnection(ctx context.Context, spec *iamv1alpha1.ConnectionSpec, cred outbound.Basic) (Result, error) {
	return Tester{}.TestConnection(ctx, spec, cred)
}

// Test tests in using DefaultTimeout.
func Test(ctx context.Context, in Input) (Result, error) { return Tester{}.Test(ctx, in) }

// engine is one kind of database server.
type engine interface {
	// connect logs in, pings and disconnects.
	connect(ctx context.Context, in Input) error
	// classifyServerError classifies an error the server sent, if err holds
	// one.
	classifyServerError(c classifier, err error) (Result, bool)
	// classifyProtocolError classifies driver errors of the engine that are
	// not network or TLS errors, if err is one.
	classifyProtocolError(c classifier, err error) (Result, bool)
}

func reachable(in Input) Result {
	db := ""
	if in.Database != "" {
		db = ", database " + in.Database + ","
	}
	return Result{Reachable: true, Reason: ReasonReachable,
		Message: redact(fmt.Sprintf("logged in to %s at %s%s as user %s", in.Type, in.Addr(), db, in.Username), in.Password)}
}

// AddressAllowed reports whether a test for someone other than an
// administrator may reach a: never a loopback, link-local (cloud
// metadata), unspecified or multicast address, unless a range of allowed
// holds it. The operator's network position is not theirs to use.
func AddressAllowed(a netip.Addr, allowed []netip.Prefix) bool {
	a = a.Unmap()
	special := a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a.IsMulticast()
	return !special || slices.ContainsFunc(allowed, func(p netip.Prefix) bool { return p.Contains(a) })
}

// ErrAddressNotAllowed is GuardedDial's refusal.
var ErrAddressNotAllowed = errors.New("the address is not allowed for this test")

// GuardedDial is a Tester.Dial that resolves the host itself, refuses when
// any of its addresses is not AddressAllowed, and connects to the address
// it checked: a host that resolves differently a moment later (DNS
// rebinding) gains nothing.
func GuardedDial(allowed []netip.Prefix) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("%s has no address", host)
		}
		for _, ip := range ips {
			if !AddressAllowed(ip, allowed) {
				return nil, fmt.Errorf("%s resolves to %s: %w", host, ip.Unmap(), ErrAddressNotAllowed)
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort(ips[0].Unmap().String(), port))
	}
}
