package ldaptest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The Planet Express directory (test/testdata/planetexpress, MIT licence,
// from rroemhild/docker-test-openldap).
const (
	PlanetExpressSuffix        = "dc=planetexpress,dc=com"
	PlanetExpressAdminDN       = "cn=admin,dc=planetexpress,dc=com"
	PlanetExpressAdminPassword = "GoodNewsEveryone"
)

// PlanetExpressDir is the directory of the Planet Express test data in the
// repository.
func PlanetExpressDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "test", "testdata", "planetexpress"), nil
}

// PlanetExpress loads the Planet Express tree from dir as it is: its data
// files (NN_*.ldif, in name order) below a dc=planetexpress,dc=com suffix
// entry that the upstream image creates itself, the Active Directory style
// Group schema of config-msad.ldif and the memberof/refint overlays of
// config-memberof.ldif. The config files are cn=config changes; they are
// translated into their slapd.conf form here rather than edited. The tree is
// Online, so memberOf is maintained.
func PlanetExpress(dir string) (*Tree, error) {
	t := &Tree{
		Suffix:        PlanetExpressSuffix,
		AdminDN:       PlanetExpressAdminDN,
		AdminPassword: PlanetExpressAdminPassword,
		Online:        true,
	}
	schema, err := readRecords(filepath.Join(dir, "config-msad.ldif"))
	if err != nil {
		return nil, err
	}
	if t.Schema, err = SchemaFromConfig(schema); err != nil {
		return nil, fmt.Errorf("config-msad.ldif: %w", err)
	}
	memberOf, err := readRecords(filepath.Join(dir, "config-memberof.ldif"))
	if err != nil {
		return nil, err
	}
	if t.MemberOf, err = MemberOfFromConfig(memberOf); err != nil {
		return nil, fmt.Errorf("config-memberof.ldif: %w", err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "[0-9]*.ldif"))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no NN_*.ldif data files in %s", dir)
	}
	sort.Strings(files)
	t.Entries = []Entry{NewEntry(PlanetExpressSuffix, "objectClass", "top", "objectClass", "dcObject",
		"objectClass", "organization", "dc", "planetexpress", "o", "Planet Express, Inc.")}
	for _, f := range files {
		recs, err := readRecords(f)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if r.ChangeType != "" && r.ChangeType != "add" {
				return nil, fmt.Errorf("%s: record %s has changetype %s; only entries are loaded", f, r.DN, r.ChangeType)
			}
			t.Entries = append(t.Entries, r.Entry())
		}
	}
	return t, nil
}

func readRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading test data: %w", err)
	}
	defer func() { _ = f.Close() }()
	recs, err := ParseLDIF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// SchemaFromConfig translates cn=config schema changes (olcAttributeTypes
// and olcObjectClasses values added to a cn=schema,cn=config entry) into
// slapd.conf attributetype and objectclass directives.
func SchemaFromConfig(recs []Record) ([]string, error) {
	var out []string
	for _, r := range recs {
		for _, l := range r.Lines {
			switch strings.ToLower(l.Name) {
			case "olcattributetypes":
				out = append(out, "attributetype "+oneLine(l.Values[0]))
			case "olcobjectclasses":
				out = append(out, "objectclass "+oneLine(l.Values[0]))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no olcAttributeTypes or olcObjectClasses values")
	}
	return out, nil
}

// MemberOfFromConfig translates the cn=config entries of the memberof and
// refint overlays (olcMemberOf*, olcRefintAttribute) into a MemberOf.
func MemberOfFromConfig(recs []Record) (*MemberOf, error) {
	m := &MemberOf{}
	found := false
	for _, r := range recs {
		for _, l := range r.Lines {
			if l.Name == "-" {
				continue
			}
			v := strings.TrimSpace(l.Values[0])
			switch strings.ToLower(l.Name) {
			case "olcmemberofgroupoc":
				m.GroupOC, found = v, true
			case "olcmemberofmemberad":
				m.MemberAD = v
			case "olcmemberofmemberofad":
				m.MemberOfAD = v
			case "olcmemberofdangling":
				m.Dangling = v
			case "olcmemberofrefint":
				m.RefInt = strings.EqualFold(v, "TRUE")
			case "olcrefintattribute":
				m.RefIntAttributes = append(m.RefIntAttributes, strings.Fields(v)...)
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("no olcMemberOfGroupOC value: not a memberof overlay configuration")
	}
	return m, nil
}
