package ldap

import (
	"context"
	"fmt"
	"maps"
	"slices"
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
	attrs := q.userAttributes()
	var backlink string
	if g := q.Groups; g != nil && g.Nested == NestingActiveDirectory {
		// Its memberOf values say which of the in-chain search's groups list
		// the user itself, so no search for the direct groups is needed.
		s, _ := schemaFor(g.MemberAttribute)
		backlink = s.backlink
		attrs = uniqueFold(append(attrs, backlink))
	}
	var matches []userRec
	var direct map[string]bool
	var primary string // the primary group's SID of the (one) match
	err := conn.Search(ctx, SearchRequest{
		BaseDN: u.BaseDN, Scope: u.Scope, Filter: filter,
		Attributes: attrs, PageSize: q.PageSize,
	}, func(e *Entry) error {
		// An entry found through a later login attribute whose first one
		// holds another login is someone else.
		if rec, reason := q.toUser(e); reason == "" && strings.EqualFold(rec.user.Login, login) {
			matches = append(matches, rec)
			if backlink != "" {
				direct = normalisedSet(e.Values(backlink))
			}
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
	groups, err := lookupGroups(ctx, conn, q, rec, direct, primary)
	if err != nil {
		return nil, fmt.Errorf("cannot read the groups of %s: %w", rec.user.DN, err)
	}
	rec.user.Groups = groups
	return &rec.user, nil
}

// lookupGroups finds the groups of one user by asking the server which
// groups list it and, when nesting, which groups list those: Recursive one
// search per level (per maxFilterValues groups of a level), ActiveDirectory
// one in-chain search in all, the user's memberOf values (direct, by
// normalised DN) telling which of those list it directly. primary is the
// SID of the user's primary group ("": none), a direct group too, whose
// own nesting groups count as Read counts them.
func lookupGroups(ctx context.Context, conn Conn, q Query, rec userRec, direct map[string]bool, primary string) ([]GroupRef, error) {
	gq := q.Groups
	s, _ := schemaFor(gq.MemberAttribute)
	attr := string(s.attribute)
	containing := func(filter string, fn func(GroupRef)) error {
		return conn.Search(ctx, SearchRequest{
			BaseDN: gq.BaseDN, Scope: gq.Scope, Filter: andFilter(gq.Filter, filter),
			Attributes: []string{gq.NameAttribute}, PageSize: q.PageSize,
		}, func(e *Entry) error {
			fn(GroupRef{DN: e.DN, Name: q.groupName(e)})
			return nil
		})
	}
	found := groupSet{}
	var frontier []GroupRef
	addDirect := func(g GroupRef) {
		g.Direct = true
		if !found.has(g) {
			frontier = append(frontier, g)
		}
		found.add(g)
	}
	primaryGroups, err := lookupPrimaryGroup(containing, primary)
	if err != nil {
		return nil, err
	}
	if gq.Nested == NestingActiveDirectory {
		// The in-chain rule follows member values, not primaryGroupID: the
		// groups nesting the primary group take one more search.
		chains := []string{rec.user.DN}
		for _, g := range primaryGroups {
			chains = append(chains, g.DN)
		}
		for _, dn := range chains {
			err := containing(inChainFilter(attr, dn), func(g GroupRef) {
				g.Direct = direct[ldapdn.Normalize(g.DN)]
				if !found.has(g) {
					found.add(g)
				}
			})
			if err != nil {
				return nil, err
			}
		}
		for _, g := range primaryGroups {
			addDirect(g)
		}
		return found.sorted(), nil
	}

	for _, g := range primaryGroups {
		addDirect(g)
	}
	if err := containing(directMemberFilter(s, rec), addDirect); err != nil {
		return nil, err
	}
	if gq.Nested == NestingRecursive {
		// Up level by level: the groups that list a group of the level.
		_, err := walkNesting(frontier, gq.MaxNestingDepth, false,
			func(level []GroupRef, visit func(GroupRef)) error {
				for start := 0; start < len(level); start += maxFilterValues {
					chunk := level[start:min(start+maxFilterValues, len(level))]
					fs := make([]string, len(chunk))
					for i, child := range chunk {
						fs[i] = equalityFilter(attr, child.DN)
					}
					if err := containing(orFilter(fs...), visit); err != nil {
						return err
					}
				}
				return nil
			},
			found.has, found.add)
		if err != nil {
			return nil, err
		}
	}
	return found.sorted(), nil
}

// maxFilterValues bounds the member DNs one search of Lookup's Recursive
// walk asks about, so that a filter stays far below a server's request size
// limit (Active Directory's MaxReceiveBuffer, OpenLDAP's
// sockbuf_max_incoming_auth) however wide a level is.
const maxFilterValues = 100

// normalisedSet returns the normalised DNs of values as a set.
func normalisedSet(values []string) map[string]bool {
	out := make(map[string]bool, len(values))
	for _, v := range values {
		out[ldapdn.Normalize(v)] = true
	}
	return out
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
	keys := slices.Sorted(maps.Keys(gs))
	out := make([]GroupRef, len(keys))
	for i, k := range keys {
		out[i] = gs[k]
	}
	return out
}
