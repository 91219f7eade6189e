// Package cli holds what the commands of gatehouse share besides their
// input (cmd/gatehouse/internal/input): exit codes, how a table spells a
// missing value or a list, and how every string they print is escaped
// (Escape, Fprintf).
package cli

import (
	"strings"
)

// ExitError carries an exit code out of a command; its message has already
// been written or is written by main.
type ExitError struct {
	Code int
	Err  error
}

// Error is the message of the error carried.
func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap returns the error carried.
func (e *ExitError) Unwrap() error { return e.Err }

// UsageError marks bad input (exit code 2).
func UsageError(err error) error { return &ExitError{Code: 2, Err: err} }

// JoinOr joins names with ", ", or returns "-" for none.
func JoinOr[T ~string](xs []T) string {
	if len(xs) == 0 {
		return "-"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

// OrDash returns s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
