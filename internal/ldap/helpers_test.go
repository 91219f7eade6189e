package ldap

// ent builds an Entry from name/value pairs; repeated names collect values.
func ent(dn string, pairs ...string) *Entry {
	e := &Entry{DN: dn}
	for i := 0; i+1 < len(pairs); i += 2 {
		found := false
		for j := range e.Attributes {
			if e.Attributes[j].Name == pairs[i] {
				e.Attributes[j].Values = append(e.Attributes[j].Values, pairs[i+1])
				found = true
				break
			}
		}
		if !found {
			e.Attributes = append(e.Attributes, Attribute{Name: pairs[i], Values: []string{pairs[i+1]}})
		}
	}
	return e
}
