package outbound

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Secret is a credential value. It prints as <redacted> (<empty> when it
// is empty) whichever way it is printed: fmt verbs (%v, %+v, %#v, %s, %q,
// %x...), logr (MarshalLog), log/slog (LogValue), encoding/json and
// encoding.TextMarshaler. A struct whose secret fields are of this type is
// redacted by the same printers, field by field, without methods of its
// own: fmt, funcr, slog and json all print an exported field through its
// methods. Only converting on purpose, string(s), gives the value.
type Secret string

// redactedText is what a non-empty Secret prints as.
const redactedText = "<redacted>"

// emptyText is what an empty Secret prints as: that a value is missing is
// not a secret, and it is what an operator debugging a Secret wants to know.
const emptyText = "<empty>"

// String returns <redacted>, or <empty> when s is empty.
func (s Secret) String() string {
	if s == "" {
		return emptyText
	}
	return redactedText
}

// GoString is String: %#v prints no value either.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb (quoted for %q): %x or %d would
// otherwise print the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(s.String()))
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalLog is the redacted form for logr.
func (s Secret) MarshalLog() any { return s.String() }

// LogValue is the redacted form for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON marshals the redacted form: a credential is never serialised.
func (s Secret) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(s.String())
	if err != nil {
		return nil, fmt.Errorf("cannot marshal a redacted credential: %w", err)
	}
	return b, nil
}

// MarshalText is the redacted form for encoders that prefer text (slog's
// text handler, YAML, map keys).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
