package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// hostile is what issue 23 found in a User's profile: a carriage return,
// cursor up four lines, erase to the end, hidden text, and a right-to-left
// override.
const hostile = "\r\x1b[4A\x1b[J\x1b[8m\u202e"

func TestEscape(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"empty":                   {"", ""},
		"ASCII":                   {"alice data-team/sales: Owner (capped from Editor)", "alice data-team/sales: Owner (capped from Editor)"},
		"Unicode letters":         {"Zoë Ünal 山田 ελληνικά €", "Zoë Ünal 山田 ελληνικά €"},
		"combining mark, emoji":   {"e\u0301 👩‍💻", "e\u0301 👩\\u200d💻"},
		"the replacement rune":    {"\ufffd", "\ufffd"},
		"issue 23":                {"designer" + hostile, `designer\r\x1b[4A\x1b[J\x1b[8m\u202e`},
		"backslash":               {`a\b`, `a\\b`},
		"an escape's look-alike":  {`\x1b`, `\\x1b`},
		"tab, line feed, NUL":     {"a\tb\nc\x00", `a\tb\nc\x00`},
		"DEL":                     {"\x7f", `\x7f`},
		"C1 controls":             {"\u0080\u0085\u009b\u009f", `\u0080\u0085\u009b\u009f`},
		"invalid UTF-8":           {"a\xffb\xc3", `a\xffb\xc3`},
		"C1 rune, not byte":       {"\u0085\x85", `\u0085\x85`},
		"line separators":         {"a\u2028b\u2029", `a\u2028b\u2029`},
		"no-break space":          {"a\u00a0b", `a\u00a0b`},
		"zero width, BOM":         {"\u200b\u200c\u200d\u2060\ufeff", `\u200b\u200c\u200d\u2060\ufeff`},
		"bidi controls":           {"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", `\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069`},
		"format beyond the BMP":   {"\U000e0001\U000e0041", `\U000e0001\U000e0041`},
		"private use, unassigned": {"\ue000\U0010ffff", `\ue000\U0010ffff`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestEscapeSafeUnchanged: a string Escape leaves alone is returned without
// a copy.
func TestEscapeSafeUnchanged(t *testing.T) {
	s := strings.Repeat("dataset/sales Zoë ", 4)
	if n := testing.AllocsPerRun(100, func() { _ = Escape(s) }); n != 0 {
		t.Errorf("Escape of a safe string allocates %v times", n)
	}
}

// FuzzEscape holds Escape's promises for any bytes: the result is valid
// UTF-8 and holds no control, format or separator character (nothing a
// terminal interprets, no bidi control); it decodes back to the input, so
// two strings never escape alike; and a printable string without a
// backslash is left as it is.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"", "alice", "Zoë 山田", hostile, `\`, `\x1b`, `\\x1b`, "\\\x1b", "a\tb\nc\r",
		"\x00\x1f\x7f", "\u0085\x85", "\xff\xfe", "\xe2\x80", "\xe2\x80\xae", "\u2028\u2029",
		"\u00a0", "\U000e0001", "\ufffd", "\u061c\u200e\u2066\ufeff", `\u202e`, `\U000e0001`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q is not valid UTF-8", s, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r) ||
				r == '\u2028' || r == '\u2029' || !unicode.IsPrint(r) {
				t.Fatalf("Escape(%q) = %q holds %U", s, got, r)
			}
		}
		back, err := unescape(got)
		if err != nil {
			t.Fatalf("Escape(%q) = %q does not decode: %v", s, got, err)
		}
		if back != s {
			t.Fatalf("Escape(%q) = %q decodes to %q", s, got, back)
		}
		if printable(s) && got != s {
			t.Fatalf("Escape(%q) = %q changed a printable string", s, got)
		}
	})
}

// printable says whether s is valid UTF-8 of printable runes only, without
// a backslash.
func printable(s string) bool {
	if !utf8.ValidString(s) || strings.Contains(s, `\`) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// unescape is the inverse of Escape: the proof that Escape is injective.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			i++
			continue
		}
		if i+1 == len(s) {
			return "", errors.New("a lone backslash at the end")
		}
		digits := 0
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x':
			digits = 2
		case 'u':
			digits = 4
		case 'U':
			digits = 8
		default:
			return "", fmt.Errorf("unknown escape %q at %d", s[i:i+2], i)
		}
		if digits == 0 {
			i += 2
			continue
		}
		if i+2+digits > len(s) {
			return "", fmt.Errorf("short escape at %d", i)
		}
		hex := s[i+2 : i+2+digits]
		if strings.ToLower(hex) != hex {
			return "", fmt.Errorf("upper-case hex %q at %d", hex, i)
		}
		n, err := strconv.ParseUint(hex, 16, 32)
		if err != nil {
			return "", fmt.Errorf("escape at %d: %w", i, err)
		}
		if digits == 2 {
			b.WriteByte(byte(n)) // a byte: ASCII control, or not UTF-8
		} else {
			b.WriteRune(rune(n))
		}
		i += 2 + digits
	}
	return b.String(), nil
}

// TestFprintf: every argument is escaped, whatever its type; the format's
// own tabs and line ends are kept, and numbers still take %d.
func TestFprintf(t *testing.T) {
	type role string
	var b bytes.Buffer
	_, err := Fprintf(&b, "%s\t%s\t%v\t%s\t%d\t%v\t%s\n",
		"a"+hostile, role("b\n"), errors.New("c\x1b"), stringer("d\u202e"), 42, true, []string{"e\r", "f"})
	if err != nil {
		t.Fatal(err)
	}
	want := `a\r\x1b[4A\x1b[J\x1b[8m\u202e` + "\t" + `b\n` + "\t" + `c\x1b` + "\t" + `d\u202e` + "\t42\ttrue\t" + `[e\r f]` + "\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Fprintf (-want +got):\n%s", diff)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }
