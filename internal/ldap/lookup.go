package ldap

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// Lookup finds the one user whose login is login, with its groups, for
// OnDemand provisioning. The login is escaped, so no value can widen the
// search. Logins compare case-insensitively, as LDAP compares uid, mail and
// sAMAccountName; the returned Login is the directory's (lower case when the
// Query says so).
//
// It returns an error matching ErrNotFound when no entry has the login, and
// one with ReasonAmbiguous when several do.
func Lookup(ctx context.Context, conn Conn, q Query, login string) (*User, error) {
	q = q.withDefaults()
	if err := q.validate(); err != nil {
		return nil, err
	}
	login = strings.TrimSpace(login)
	if login == "" {
		return nil, newError(ReasonInvalidConfig, nil, "cannot look up an empty login")
	}
	u := q.Users
	filter := andFilter(u.Filter, loginFilter(u.LoginAttributes, login))
	var matches []userRec
	var primary string // the primary group's SID of the (one) match
	err := conn.Search(ctx, SearchRequest{
		BaseDN: u.BaseDN, Scope: u.Scope, Filter: filter,
		Attributes: q.userAttributes(), PageSize: q.PageSize,
	}, func(e *Entry) error {
		// An entry found through a later login attribute whose first one
		// holds another login is someone else.
		if rec, reason := q.toUser(e); reason == "" && strings.EqualFold(rec.user.Login, login) {
			matches = append(matches, rec)
			primary = primaryGroupSID(e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot look up login %q: %w", login, err)
	}
	switch len(matches) {
	case 0:
		return nil, newError(ReasonNotFound, nil, "no entry below %s with filter %s has the login %q in %s",
			u.BaseDN, u.Filter, login, strings.Join(u.LoginAttributes, ", "))
	case 1:
	default:
		dns := make([]string, len(matches))
		for i, m := range matches {
			dns[i] = m.user.DN
		}
		sort.Strings(dns)
		return nil, newError(ReasonAmbiguous, nil, "the login %q belongs to %d entries (%s); a login must belong to one entry",
			login, len(dns), strings.Join(dns, "; "))
	}
	rec := matches[0]
	if q.Groups == nil {
		return &rec.user, nil
	}
	if !q.Groups.PrimaryGroups {
		primary = ""
	}
	groups, err := lookupGroups(ctx, conn, q, rec, primary)
	if err != nil {
		return nil, fmt.Errorf("cannot read the groups of %s: %w", rec.user.DN, err)
	}
	rec.user.Groups = groups
	return &rec.user, nil
}

// lookupGroups finds the groups of one user by asking the server which
// groups list it (and, when nesting, which groups list those). primary is
// the SID of the user's primary group ("": none), a direct group too.
func lookupGroups(ctx context.Context, conn Conn, q Query, rec userRec, primary string) ([]GroupRef, error) {
	gq := q.Groups
	s, _ := schemaFor(gq.MemberAttribute)
	attr := string(s.attribute)
	containing := func(filter string) ([]GroupRef, error) {
		var out []GroupRef
		err := conn.Search(ctx, SearchRequest{
			BaseDN: gq.BaseDN, Scope: gq.Scope, Filter: andFilter(gq.Filter, filter),
			Attributes: []string{gq.NameAttribute}, PageSize: q.PageSize,
		}, func(e *Entry) error {
			out = append(out, GroupRef{DN: e.DN, Name: q.groupName(e)})
			return nil
		})
		return out, err
	}

	direct, err := containing(directMemberFilter(s, rec))
	if err != nil {
		return nil, err
	}
	if primary != "" {
		pg, err := lookupPrimaryGroup(containing, primary)
		if err != nil {
			return nil, err
		}
		direct = append(direct, pg...)
	}
	found := groupSet{}
	var frontier []GroupRef
	for _, g := range direct {
		g.Direct = true
		if !found.has(g) {
			found.add(g)
			frontier = append(frontier, g)
		}
	}

	switch gq.Nested {
	case NestingRecursive:
		// Up level by level: the groups that list a group found so far.
		_, err := walkNesting(frontier, gq.MaxNestingDepth, false,
			func(child GroupRef) ([]GroupRef, error) { return containing(equalityFilter(attr, child.DN)) },
			found.has, found.add)
		if err != nil {
			return nil, err
		}
	case NestingActiveDirectory:
		all, err := containing(inChainFilter(attr, rec.user.DN))
		if err != nil {
			return nil, err
		}
		for _, g := range all {
			if !found.has(g) {
				found.add(g)
			}
		}
	}
	return found.sorted(), nil
}

// directMemberFilter matches the groups that list the user itself.
func directMemberFilter(s memberSchema, rec userRec) string {
	attr := string(s.attribute)
	if s.kind != loginValues {
		return equalityFilter(attr, rec.user.DN)
	}
	// memberUid lists the login as the directory wrote it.
	fs := []string{equalityFilter(attr, rec.raw)}
	if rec.user.Login != rec.raw {
		fs = append(fs, equalityFilter(attr, rec.user.Login))
	}
	return orFilter(fs...)
}

// groupSet is a set of groups by normalised DN.
type groupSet map[string]GroupRef

func (gs groupSet) has(g GroupRef) bool {
	_, ok := gs[ldapdn.Normalize(g.DN)]
	return ok
}

func (gs groupSet) add(g GroupRef) { gs[ldapdn.Normalize(g.DN)] = g }

// sorted returns the groups sorted by normalised DN.
func (gs groupSet) sorted() []GroupRef {
	keys := make([]string, 0, len(gs))
	for k := range gs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]GroupRef, len(keys))
	for i, k := range keys {
		out[i] = gs[k]
	}
	return out
}
