package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// classifier turns the error of a failed test into a Result.
type classifier struct {
	in      Input
	timeout time.Duration
	expired bool // the test's own deadline passed
}

// result builds a Result whose message is format filled with args, the
// password redacted.
func (c classifier) result(reason, format string, args ...any) Result {
	return Result{Reason: reason, Message: redact(fmt.Sprintf(format, args...), c.in.Password)}
}

// redactedMessage is the message of a failure whose every other message
// would still show the password after redaction.
const redactedMessage = "the connection test failed; its details are withheld because they would show the password"

// server names the server in messages: "PostgreSQL at db.example:5432".
func (c classifier) server() string { return string(c.in.Type) + " at " + c.in.Addr() }

// classify looks for the most telling error in err: what the server said,
// then TLS, name resolution, refusal, timeouts, a peer that hangs up and
// the engine's protocol errors, in that order. pgx joins the errors of all addresses and TLS
// fallbacks it tried; errors.As looks at all of them.
func (c classifier) classify(err error, e engine) Result {
	if r, ok := e.classifyServerError(c, err); ok {
		return r
	}
	if r, ok := c.classifyTLS(err); ok {
		return r
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return c.result(ReasonHostNotFound, "host %s does not exist: DNS has no address for it; fix parameter %s", c.in.Host, ParamHost)
		}
		return c.result(ReasonHostNotFound, "host %s could not be resolved (%s); check parameter %s and the DNS the operator uses",
			c.in.Host, detail(dnsErr.Err, c.in.Password), ParamHost)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return c.result(ReasonConnectionRefused, "%s refused the connection: nothing listens on port %d; check parameter %s and that the server runs",
			c.server(), c.in.port(), ParamPort)
	}
	if c.expired || isTimeout(err) {
		return c.result(ReasonTimeout, "%s did not answer within %s; check parameters %s and %s, and that no firewall or NetworkPolicy drops the operator's traffic",
			c.server(), c.timeout, ParamHost, ParamPort)
	}
	if errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return c.result(ReasonUnreachable, "there is no route from the operator to %s; check parameter %s and the network between them", c.server(), ParamHost)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return c.result(ReasonUnreachable, "%s closed the connection before logging in; check that parameter %s is the port of a %s server",
			c.server(), ParamPort, c.in.Type)
	}
	if r, ok := e.classifyProtocolError(c, err); ok {
		return r
	}
	return c.result(ReasonUnreachable, "cannot connect to %s: %s", c.server(), detail(err.Error(), c.in.Password))
}

// classifyTLS recognises a certificate that cannot be verified and other
// handshake failures.
func (c classifier) classifyTLS(err error) (Result, bool) {
	var (
		unknownCA    x509.UnknownAuthorityError
		hostname     x509.HostnameError
		invalid      x509.CertificateInvalidError
		verification *tls.CertificateVerificationError
		record       tls.RecordHeaderError
		alert        tls.AlertError
	)
	switch {
	case errors.As(err, &unknownCA):
		return c.result(ReasonTLSFailed, "the TLS certificate of %s is not signed by a certificate authority the operator trusts; "+
			"give the server a certificate from a trusted authority, or set parameter %s to %s to encrypt without verifying the certificate",
			c.server(), ParamSSLMode, SSLModeRequire), true
	case errors.As(err, &hostname):
		return c.result(ReasonTLSFailed, "the TLS certificate of %s is not valid for host %s; set parameter %s to a name the certificate holds, "+
			"or parameter %s to %s to verify the certificate authority only",
			c.server(), c.in.Host, ParamHost, ParamSSLMode, SSLModeVerifyCA), true
	case errors.As(err, &invalid):
		return c.result(ReasonTLSFailed, "the TLS certificate of %s is not valid (%s); renew it on the server",
			c.server(), detail(invalid.Error(), c.in.Password)), true
	case errors.As(err, &verification):
		return c.result(ReasonTLSFailed, "the TLS certificate of %s cannot be verified (%s); fix it on the server or set parameter %s to %s",
			c.server(), detail(verification.Err.Error(), c.in.Password), ParamSSLMode, SSLModeRequire), true
	case errors.As(err, &record):
		return c.result(ReasonTLSFailed, "%s answered the TLS handshake with something other than TLS; check parameter %s", c.server(), ParamPort), true
	case errors.As(err, &alert):
		return c.result(ReasonTLSFailed, "%s ended the TLS handshake (%s); check parameter %s and the server's TLS settings",
			c.server(), detail(alert.Error(), c.in.Password), ParamSSLMode), true
	}
	return Result{}, false
}

// isTimeout reports whether err is a timeout of the network or a context.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}

// tlsNotSupported is the message for a server without TLS when sslMode asks
// for it.
func (c classifier) tlsNotSupported() Result {
	return c.result(ReasonTLSFailed, "%s does not offer TLS, but parameter %s is %s; enable TLS on the server, or set parameter %s to %s or %s",
		c.server(), ParamSSLMode, c.in.sslMode(), ParamSSLMode, SSLModePrefer, SSLModeDisable)
}

// tlsRequired is the message for a server that accepts TLS connections
// only when sslMode is disable.
func (c classifier) tlsRequired() Result {
	return c.result(ReasonTLSFailed, "%s accepts TLS connections only; set parameter %s to %s, %s or %s",
		c.server(), ParamSSLMode, SSLModeRequire, SSLModeVerifyCA, SSLModeVerifyFull)
}

// redactedText replaces a password in text that came from a driver or a
// server.
const redactedText = "[redacted]"

// minRedact is the shortest password that redact replaces: a shorter one is
// likely to be part of ordinary words ("a", "db") of the message itself, and
// detail withholds driver text that holds it instead.
const minRedact = 4

// redact replaces every occurrence of password in text. When the
// replacement and its neighbours spell the password again, it returns a
// message without details (or none, if even that spells it).
func redact(text, password string) string {
	if len(password) < minRedact {
		return text
	}
	text = strings.ReplaceAll(text, password, redactedText)
	switch {
	case !strings.Contains(text, password):
		return text
	case !strings.Contains(redactedMessage, password):
		return redactedMessage
	default:
		return ""
	}
}

// detail returns text from a driver or a server for a message: the password redacted, and
// nothing at all when a password too short to redact safely shows in it, or
// when the text is not one line of printable text.
func detail(text, password string) string {
	if password != "" && len(password) < minRedact && strings.Contains(text, password) {
		return "details withheld because they might contain the password"
	}
	text = redact(text, password)
	if strings.ContainsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		text = strings.Join(strings.Fields(text), " ")
	}
	const maxLen = 300
	if len(text) > maxLen {
		text = text[:maxLen] + "..."
	}
	return text
}
