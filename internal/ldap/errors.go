package ldap

import (
	"errors"
	"fmt"
	"strings"

	goldap "github.com/go-ldap/ldap/v3"
)

// Reason classifies an error so that a caller can pick a condition reason
// without parsing the message. The values are CamelCase, as Kubernetes
// condition reasons are.
type Reason string

// The reasons an operation of this package fails for.
const (
	// ReasonInvalidConfig: the Config or the Query cannot work as written
	// (a bad URL, a filter that does not parse, a CA bundle with no
	// certificate). Retrying does not help; the spec must change.
	ReasonInvalidConfig Reason = "InvalidConfig"
	// ReasonUnreachable: no connection could be made or it was lost (refused,
	// no route, DNS, a connection closed in the middle of a search).
	ReasonUnreachable Reason = "Unreachable"
	// ReasonTimeout: the server did not answer within the timeout, or the
	// caller's context ended (errors.Is(err, context.Canceled) tells).
	ReasonTimeout Reason = "Timeout"
	// ReasonTLSFailed: the TLS handshake or StartTLS failed, usually because
	// the certificate does not verify against the CA bundle or server name.
	ReasonTLSFailed Reason = "TLSFailed"
	// ReasonBindFailed: the server refused the bind DN and password.
	ReasonBindFailed Reason = "BindFailed"
	// ReasonSearchFailed: the server answered a search with an error (no
	// such base DN, insufficient access, a filter it rejects).
	ReasonSearchFailed Reason = "SearchFailed"
	// ReasonNotFound: Lookup found no entry for the login.
	ReasonNotFound Reason = "NotFound"
	// ReasonAmbiguous: Lookup found more than one entry for the login.
	ReasonAmbiguous Reason = "Ambiguous"
	// ReasonTooLarge: the directory holds more entries than the Query's
	// limits allow.
	ReasonTooLarge Reason = "TooLarge"
)

// Error is the error type of this package. Its message is a sentence a
// person can act on; it never contains the bind password.
type Error struct {
	// Reason classifies the error.
	Reason Reason
	msg    string
	err    error
}

// Error returns the message.
func (e *Error) Error() string { return e.msg }

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.err }

// Is lets errors.Is(err, ErrNotFound) match any Error with the same reason.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.msg == "" && t.err == nil && t.Reason == e.Reason
}

// ErrNotFound matches, with errors.Is, the error Lookup returns when no entry
// has the login.
var ErrNotFound error = &Error{Reason: ReasonNotFound}

// ReasonOf returns the Reason of the first Error in err's chain, or "" when
// there is none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// newError builds an Error whose message is format's result. When cause is
// not nil it is kept for errors.Is and errors.As; the format should already
// say what the cause said, in words a person understands.
func newError(reason Reason, cause error, format string, args ...any) *Error {
	return &Error{Reason: reason, msg: fmt.Sprintf(format, args...), err: cause}
}

// resultName describes an LDAP result code the way administrators read it in
// server logs: "invalid credentials (49)".
func resultName(code uint16) string {
	if text, ok := goldap.LDAPResultCodeMap[code]; ok {
		return fmt.Sprintf("%s (%d)", strings.ToLower(text), code)
	}
	return fmt.Sprintf("result code %d", code)
}

// describe turns an error of go-ldap into a short phrase: the result name
// and the server's diagnostic message when it is an LDAP result, else the
// error's text.
func describe(err error) string {
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode < goldap.ErrorNetwork {
		msg := resultName(le.ResultCode)
		if le.Err != nil && le.Err.Error() != "" {
			msg += ": " + le.Err.Error()
		}
		return msg
	}
	if le != nil && le.Err != nil {
		return le.Err.Error()
	}
	return err.Error()
}

// resultCode returns the LDAP result code in err, or -1.
func resultCode(err error) int {
	var le *goldap.Error
	if errors.As(err, &le) {
		return int(le.ResultCode)
	}
	return -1
}
