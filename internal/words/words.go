// Package words writes the numbers and lists of the sentences people read:
// conditions, Events, webhook denials and the CLI's output all count,
// pluralise, list and give percentages the same way.
package words

import (
	"fmt"
	"strings"
)

// Integer is any integer type a count comes in.
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Plural returns one when n is 1 and many otherwise: the form of a word
// that agrees with n ("user is", "users are").
func Plural[N Integer](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Count is n followed by the noun in the number n takes: "1 seat",
// "0 seats", "2 per-user credential Secrets".
func Count[N Integer](n N, one, many string) string {
	return fmt.Sprintf("%d %s", n, Plural(n, one, many))
}

// Percent is part of whole as a percentage with one decimal, "24.8 %";
// "0.0 %" when whole is 0.
func Percent[N Integer](part, whole N) string {
	if whole == 0 {
		return "0.0 %"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(part)/float64(whole))
}

// FullStop ends s with a full stop, unless it is empty or has one: a
// library's message made a sentence of a condition or an Event.
func FullStop(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// List joins items as a sentence does: "a", "a and b", "a, b and c"; ""
// for none.
func List[T ~string](items []T) string {
	s := make([]string, len(items))
	for i, x := range items {
		s[i] = string(x)
	}
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
