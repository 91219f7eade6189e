package ldaptest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// Entry is one directory entry of a Tree.
type Entry struct {
	// DN is the entry's DN.
	DN string
	// Attributes are the entry's attributes in order.
	Attributes []Attribute
}

// Attribute is one attribute of an Entry.
type Attribute struct {
	// Name is the attribute description.
	Name string
	// Values are its values.
	Values []string
}

// NewEntry builds an Entry from name/value pairs: NewEntry(dn, "cn", "x",
// "objectClass", "person", "objectClass", "top"). Repeated names collect
// their values in one attribute.
func NewEntry(dn string, pairs ...string) Entry {
	e := Entry{DN: dn}
	for i := 0; i+1 < len(pairs); i += 2 {
		e.Add(pairs[i], pairs[i+1])
	}
	return e
}

// Add appends values to the attribute name, creating it if needed.
func (e *Entry) Add(name string, values ...string) {
	for i := range e.Attributes {
		if strings.EqualFold(e.Attributes[i].Name, name) {
			e.Attributes[i].Values = append(e.Attributes[i].Values, values...)
			return
		}
	}
	e.Attributes = append(e.Attributes, Attribute{Name: name, Values: values})
}

// Values returns the values of the attribute name (case-insensitive).
func (e *Entry) Values(name string) []string {
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// Record is one LDIF record: an entry, or a change (changetype) whose lines
// are kept in order, as name/value pairs.
type Record struct {
	// DN is the record's DN.
	DN string
	// ChangeType is the record's changetype, "" for a content record.
	ChangeType string
	// Lines are the record's attribute lines after dn and changetype, in
	// order; a "-" separator line has Name "-".
	Lines []Attribute
}

// Entry returns a content record as an Entry.
func (r Record) Entry() Entry {
	e := Entry{DN: r.DN}
	for _, l := range r.Lines {
		if l.Name != "-" {
			e.Add(l.Name, l.Values...)
		}
	}
	return e
}

// ParseLDIF reads LDIF (RFC 2849): comments, folded lines, base64 values
// (name:: value), the version line and changetype records. URL values
// (name:< url) are not supported.
func ParseLDIF(r io.Reader) ([]Record, error) {
	var records []Record
	var logical []string // the unfolded lines of the current record
	flush := func() error {
		rec, err := parseRecord(logical)
		logical = nil
		if rec != nil {
			records = append(records, *rec)
		}
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, " "):
			if len(logical) == 0 {
				return nil, fmt.Errorf("ldif: continuation line %q with nothing to continue", line)
			}
			logical[len(logical)-1] += line[1:]
		default:
			logical = append(logical, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ldif: %w", err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return records, nil
}

// parseRecord parses the unfolded lines of one record; it returns nil for
// none, or for only a version line.
func parseRecord(lines []string) (*Record, error) {
	var cur *Record
	for _, line := range lines {
		if line == "-" {
			if cur != nil {
				cur.Lines = append(cur.Lines, Attribute{Name: "-"})
			}
			continue
		}
		name, value, err := parseLine(line)
		if err != nil {
			return nil, err
		}
		switch {
		case strings.EqualFold(name, "version") && cur == nil:
			continue
		case strings.EqualFold(name, "dn"):
			if cur != nil {
				return nil, fmt.Errorf("ldif: dn %q inside the record of %q", value, cur.DN)
			}
			cur = &Record{DN: value}
		case cur == nil:
			return nil, fmt.Errorf("ldif: line %q before a dn line", line)
		case strings.EqualFold(name, "changetype") && len(cur.Lines) == 0 && cur.ChangeType == "":
			cur.ChangeType = strings.ToLower(value)
		default:
			cur.Lines = append(cur.Lines, Attribute{Name: name, Values: []string{value}})
		}
	}
	return cur, nil
}

func parseLine(line string) (name, value string, err error) {
	name, rest, ok := strings.Cut(line, ":")
	if !ok {
		return "", "", fmt.Errorf("ldif: line %q has no colon", line)
	}
	switch {
	case strings.HasPrefix(rest, ":"):
		raw := strings.TrimSpace(rest[1:])
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return "", "", fmt.Errorf("ldif: base64 value of %s: %w", name, err)
		}
		return name, string(b), nil
	case strings.HasPrefix(rest, "<"):
		return "", "", fmt.Errorf("ldif: URL value of %s is not supported", name)
	default:
		return name, strings.TrimLeft(rest, " "), nil
	}
}

// WriteLDIF writes entries as LDIF content records, base64-encoding the
// values that LDIF cannot hold as they are.
func WriteLDIF(w io.Writer, entries []Entry) error {
	bw := bufio.NewWriter(w)
	for _, e := range entries {
		writeLine(bw, "dn", e.DN)
		for _, a := range e.Attributes {
			for _, v := range a.Values {
				writeLine(bw, a.Name, v)
			}
		}
		_ = bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing LDIF: %w", err)
	}
	return nil
}

// LDIF returns entries as LDIF text.
func LDIF(entries []Entry) string {
	var b bytes.Buffer
	_ = WriteLDIF(&b, entries) // a bytes.Buffer does not fail
	return b.String()
}

func writeLine(w *bufio.Writer, name, value string) {
	if safeString(value) {
		fmt.Fprintf(w, "%s: %s\n", name, value)
		return
	}
	fmt.Fprintf(w, "%s:: %s\n", name, base64.StdEncoding.EncodeToString([]byte(value)))
}

// safeString is RFC 2849's SAFE-STRING: no NUL, CR, LF or non-ASCII, not
// starting with space, colon or <, and not ending with a space.
func safeString(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[0] == ':' || s[0] == '<' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\n' || c == '\r' || c > 0x7f {
			return false
		}
	}
	return true
}
