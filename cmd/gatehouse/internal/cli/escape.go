package cli

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s as the CLI prints every string that is not its own: in
// a table, a line of explain, check or access diff, or an error. The
// manifests of a pull request are written by whoever opens it, so a string
// from them must be shown, never interpreted by the terminal or the CI log
// that displays it.
//
// A string whose runes are all printable (unicode.IsPrint: letters, marks,
// numbers, punctuation, symbols and the ASCII space) and holds no backslash
// is returned as it is, without allocating. Otherwise each of these is
// written as an escape of ASCII characters:
//
//   - the backslash itself, as \\ (so that the escaped form is unambiguous:
//     two strings never escape alike);
//   - tab, line feed and carriage return as \t, \n and \r; the other C0
//     controls and DEL as \x00 to \x1f and \x7f (ESC is \x1b);
//   - a byte that is not valid UTF-8 as \x80 to \xff;
//   - any other rune that is not printable as \u followed by four hex digits,
//     or \U and eight beyond U+FFFF: the C1 controls (\u0085), every bidi
//     control and other invisible format character (Unicode category Cf:
//     \u061c, \u200b to \u200f, \u202a to \u202e, \u2060 to \u2069,
//     \ufeff, \U000e0001, ...), the line and paragraph separators \u2028
//     and \u2029, spaces other than the ASCII one (\u00a0), private-use and
//     unassigned code points.
//
// Hex digits are lower case. The result is valid UTF-8 and holds no control,
// format or separator character: one line that reads the same everywhere.
func Escape(s string) string {
	i := unsafeAt(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafeAt returns the index of the first byte of s that Escape changes,
// or len(s) when it changes none.
func unsafeAt(s string) int {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '\\' {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !unicode.IsPrint(r) {
			return i
		}
		i += size
	}
	return len(s)
}

// Fprintf is fmt.Fprintf with every argument escaped (Escape): the way the
// commands write text output, tables (a tabwriter.Writer as w) and lines
// alike. The format is the CLI's own, so its tabs and line ends stay what
// they are; the arguments are where strings from the manifests, the
// cluster or the command line come in. Strings, string types, errors and
// fmt.Stringers are escaped; booleans and numbers are left for verbs such
// as %d; anything else is printed with %v first, then escaped, so it takes
// %s or %v.
func Fprintf(w io.Writer, format string, args ...any) (int, error) {
	escaped := make([]any, len(args))
	for i, a := range args {
		escaped[i] = escapeArg(a)
	}
	return fmt.Fprintf(w, format, escaped...)
}

// escapeArg is one argument of Fprintf, escaped.
func escapeArg(a any) any {
	switch v := a.(type) {
	case string:
		return Escape(v)
	case error:
		return Escape(v.Error())
	case fmt.Stringer:
		return Escape(v.String())
	}
	switch reflect.ValueOf(a).Kind() {
	case reflect.String:
		return Escape(reflect.ValueOf(a).String())
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return a
	}
	return Escape(fmt.Sprint(a))
}
