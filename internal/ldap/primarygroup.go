package ldap

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Active Directory keeps one membership of every user outside the group's
// member attribute: the user's primary group (usually Domain Users, RID
// 513) is named by the user's primaryGroupID, the RID of that group in the
// user's domain, and the group does not list the user. With
// GroupQuery.PrimaryGroups a Read counts these members as direct members of
// the group and a Lookup adds the group to the user's.

// The attributes that name a primary group.
const (
	attrObjectSID      = "objectSid"
	attrPrimaryGroupID = "primaryGroupID"
)

// primaryGroupAttributes are the attributes a user search asks for, besides
// the Query's own, when primary groups are resolved.
func (q Query) primaryGroupAttributes() []string {
	if q.Groups == nil || !q.Groups.PrimaryGroups {
		return nil
	}
	return []string{attrObjectSID, attrPrimaryGroupID}
}

// decodeSID turns a binary security identifier (MS-DTYP 2.4.2.2) into its
// string form S-1-5-21-...; ok is false when b is not one.
func decodeSID(b []byte) (sid string, ok bool) {
	if len(b) < 8 || b[0] != 1 {
		return "", false
	}
	n := int(b[1])
	if len(b) != 8+4*n {
		return "", false
	}
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	sb.WriteString(strconv.FormatUint(auth, 10))
	for i := range n {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return sb.String(), true
}

// encodeSID is the inverse of decodeSID.
func encodeSID(sid string) ([]byte, bool) {
	parts := strings.Split(sid, "-")
	if len(parts) < 3 || parts[0] != "S" || parts[1] != "1" || len(parts)-3 > 255 {
		return nil, false
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, false
	}
	subs := parts[3:]
	b := make([]byte, 8, 8+4*len(subs))
	b[0], b[1] = 1, byte(len(subs))
	for i := range 6 {
		b[7-i] = byte(auth >> (8 * i))
	}
	for _, s := range subs {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, false
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b, true
}

// primaryGroupSID is the SID of the user entry e's primary group: the
// user's own SID with its last part (the user's RID) replaced by
// primaryGroupID. It is "" when e lacks either attribute.
func primaryGroupSID(e *Entry) string {
	rid := strings.TrimSpace(e.First(attrPrimaryGroupID))
	if _, err := strconv.ParseUint(rid, 10, 32); err != nil {
		return ""
	}
	sid, ok := decodeSID([]byte(e.First(attrObjectSID)))
	if !ok {
		return ""
	}
	i := strings.LastIndexByte(sid, '-')
	if strings.Count(sid, "-") < 3 {
		return ""
	}
	return sid[:i+1] + rid
}

// groupSID is the string SID of a group entry, "" when it has none.
func groupSID(e *Entry) string {
	sid, _ := decodeSID([]byte(e.First(attrObjectSID)))
	return sid
}

// addPrimaryMembers appends to the member values of every group entry the
// DNs of the user entries whose primary group it is, so that assemble
// counts them as direct members. Groups are the entries readGroups returned,
// with their objectSid.
func addPrimaryMembers(q Query, users, groups []*Entry) {
	if q.Groups == nil || !q.Groups.PrimaryGroups {
		return
	}
	s, _ := schemaFor(q.Groups.MemberAttribute)
	bySID := make(map[string]*Entry, len(groups))
	for _, g := range groups {
		if sid := groupSID(g); sid != "" {
			bySID[sid] = g
		}
	}
	for _, u := range users {
		g := bySID[primaryGroupSID(u)]
		if g == nil {
			continue
		}
		i := slices.IndexFunc(g.Attributes, func(a Attribute) bool { return strings.EqualFold(a.Name, string(s.attribute)) })
		if i < 0 {
			g.Attributes = append(g.Attributes, Attribute{Name: string(s.attribute)})
			i = len(g.Attributes) - 1
		}
		g.Attributes[i].Values = append(g.Attributes[i].Values, u.DN)
	}
}

// sidFilter matches the entry whose objectSid is sid, written as the
// escaped bytes every server compares (Active Directory also takes the
// string form, other servers do not).
func sidFilter(sid string) (string, error) {
	b, ok := encodeSID(sid)
	if !ok {
		return "", fmt.Errorf("%q is not a security identifier", sid)
	}
	var sb strings.Builder
	sb.WriteString("(" + attrObjectSID + "=")
	for _, x := range b {
		fmt.Fprintf(&sb, "\\%02x", x)
	}
	sb.WriteString(")")
	return sb.String(), nil
}

// groupSIDAttributes are the attributes a group search asks for, besides
// the Query's own, when primary groups are resolved.
func (q Query) groupSIDAttributes() []string {
	if q.Groups == nil || !q.Groups.PrimaryGroups {
		return nil
	}
	return []string{attrObjectSID}
}

// lookupPrimaryGroup finds the group whose objectSid is sid (none when
// sid is ""), with the search containing runs below the groups' base.
func lookupPrimaryGroup(containing func(filter string, fn func(GroupRef)) error, sid string) ([]GroupRef, error) {
	if sid == "" {
		return nil, nil
	}
	f, err := sidFilter(sid)
	if err != nil {
		return nil, err
	}
	var out []GroupRef
	err = containing(f, func(g GroupRef) { out = append(out, g) })
	return out, err
}
