package ldap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeConn answers searches with a function, for the flows a real slapd
// cannot show: Active Directory's ranged attributes and in-chain rule.
type fakeConn struct {
	handle func(req SearchRequest) ([]*Entry, error)
	reqs   []SearchRequest
}

func (f *fakeConn) Search(_ context.Context, req SearchRequest, fn func(*Entry) error) error {
	f.reqs = append(f.reqs, req)
	entries, err := f.handle(req)
	for _, e := range entries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return err
}

func (f *fakeConn) Close() error { return nil }

func (f *fakeConn) filters() []string {
	out := make([]string, len(f.reqs))
	for i, r := range f.reqs {
		out[i] = r.Filter
	}
	return out
}

// adGroup simulates Active Directory's answer for a group with more member
// values than its MaxValRange (here size): the request's attribute list says
// which range is wanted.
func adGroup(dn string, members []string, size int, req SearchRequest) *Entry {
	low := 0
	for _, a := range req.Attributes {
		if _, r, ok := parseRange(a); ok {
			low = r.low
		}
	}
	e := &Entry{DN: dn, Attributes: []Attribute{{Name: "cn", Values: []string{rdnValue(dn)}}}}
	high := low + size - 1
	if high >= len(members)-1 {
		return addAttr(e, fmt.Sprintf("member;range=%d-*", low), members[low:])
	}
	return addAttr(e, fmt.Sprintf("member;range=%d-%d", low, high), members[low:high+1])
}

func addAttr(e *Entry, name string, values []string) *Entry {
	e.Attributes = append(e.Attributes, Attribute{Name: name, Values: values})
	return e
}

func TestReadRangedMembers(t *testing.T) {
	var users []*Entry
	var members []string
	for i := range 7 {
		u := person(fmt.Sprintf("u%d", i))
		users = append(users, u)
		members = append(members, u.DN)
	}
	big := gdn("big")
	fc := &fakeConn{handle: func(req SearchRequest) ([]*Entry, error) {
		switch {
		case req.BaseDN == people:
			return users, nil
		case req.BaseDN == groups:
			return []*Entry{adGroup(big, members, 3, req), grp("small", "member", members[0])}, nil
		case req.BaseDN == big && req.Scope == ScopeBase:
			return []*Entry{adGroup(big, members, 3, req)}, nil
		}
		return nil, fmt.Errorf("unexpected search %+v", req)
	}}
	snap, err := Read(context.Background(), fc, query(MemberAttributeMember, NestingNone, 0))
	if err != nil {
		t.Fatal(err)
	}
	g := snap.Groups[0]
	if g.DN != big || g.MemberCount != 7 || len(g.Users) != 7 {
		t.Errorf("big group: %s with %d members and %d users, want 7 and 7", g.DN, g.MemberCount, len(g.Users))
	}
	if diff := cmp.Diff(members, g.Members); diff != "" {
		t.Errorf("members in order (-want +got):\n%s", diff)
	}
	wantAttrs := [][]string{nil, nil, {"member;range=3-*"}, {"member;range=6-*"}}
	for i, r := range fc.reqs[2:] {
		if diff := cmp.Diff(wantAttrs[i+2], r.Attributes); diff != "" {
			t.Errorf("range request %d attributes (-want +got):\n%s", i, diff)
		}
	}
	if want := (Stats{UserEntries: 7, GroupEntries: 2, Searches: 4, RangedGroups: 1}); snap.Stats != want {
		t.Errorf("stats = %+v, want %+v", snap.Stats, want)
	}
}

func TestReadRangeWithoutProgressFails(t *testing.T) {
	big := gdn("big")
	fc := &fakeConn{handle: func(req SearchRequest) ([]*Entry, error) {
		switch req.BaseDN {
		case people:
			return nil, nil
		case groups, big:
			// A broken server: always the first range again.
			return []*Entry{addAttr(ent(big, "cn", "big"), "member;range=0-1", []string{"a", "b"})}, nil
		}
		return nil, nil
	}}
	_, err := Read(context.Background(), fc, query(MemberAttributeMember, NestingNone, 0))
	if err == nil || ReasonOf(err) != ReasonSearchFailed || !strings.Contains(err.Error(), "no progress") {
		t.Fatalf("err = %v, want a SearchFailed error about no progress", err)
	}
}

func TestReadActiveDirectoryInChain(t *testing.T) {
	// outer lists alice and a group the group search does not read (outside
	// ou=groups), whose DN has filter metacharacters: the in-chain filter
	// escapes it. The server says bob is a member through it.
	outer := gdn("outer")
	sub := `cn=R(D) *,ou=elsewhere,dc=x`
	fc := &fakeConn{handle: func(req SearchRequest) ([]*Entry, error) {
		switch req.Filter {
		case DefaultUserFilter:
			if diff := cmp.Diff([]string{"uid", "displayName", "cn", "mail", "member"}, req.Attributes); diff != "" {
				return nil, fmt.Errorf("user search attributes (-want +got):\n%s", diff)
			}
			return []*Entry{person("alice"), person("bob")}, nil
		case DefaultGroupFilter:
			return []*Entry{ent(outer, "cn", "outer", "member", dnOf("alice"), "member", sub)}, nil
		case `(&(objectClass=person)(memberOf:1.2.840.113556.1.4.1941:=cn=R\28D\29 \2a,ou=elsewhere,dc=x))`:
			if req.BaseDN != people || len(req.Attributes) != 1 || req.Attributes[0] != "1.1" {
				return nil, fmt.Errorf("in-chain search %+v", req)
			}
			return []*Entry{ent(dnOf("bob"))}, nil
		}
		return nil, fmt.Errorf("unexpected filter %s", req.Filter)
	}}
	snap, err := Read(context.Background(), fc, query(MemberAttributeMember, NestingActiveDirectory, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []User{
		user("alice", GroupRef{DN: outer, Name: "outer", Direct: true}),
		user("bob", GroupRef{DN: outer, Name: "outer", Direct: false}),
	}
	if diff := cmp.Diff(want, snap.Users); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if snap.Stats.Searches != 3 {
		t.Errorf("%d searches, want 3: users, groups, one in-chain search", snap.Stats.Searches)
	}
}

func TestReadFailsWholeWhenASearchFails(t *testing.T) {
	lost := newError(ReasonUnreachable, nil, "lost the connection")
	cases := map[string]struct {
		handle func(req SearchRequest) ([]*Entry, error)
		reason Reason
		prefix string
	}{
		"users interrupted after some entries": {
			handle: func(req SearchRequest) ([]*Entry, error) {
				if req.BaseDN == people {
					return []*Entry{person("a"), person("b")}, lost
				}
				return nil, nil
			},
			reason: ReasonUnreachable, prefix: "cannot read the users: ",
		},
		"groups interrupted": {
			handle: func(req SearchRequest) ([]*Entry, error) {
				if req.BaseDN == groups {
					return []*Entry{grp("g", "member", dnOf("a"))}, lost
				}
				return []*Entry{person("a")}, nil
			},
			reason: ReasonUnreachable, prefix: "cannot read the groups: ",
		},
	}
	for name, tc := range cases {
		snap, err := Read(context.Background(), &fakeConn{handle: tc.handle}, query(MemberAttributeMember, NestingNone, 0))
		if snap != nil || err == nil {
			t.Errorf("%s: got a snapshot (%v) from an interrupted read", name, snap)
			continue
		}
		if ReasonOf(err) != tc.reason || !strings.HasPrefix(err.Error(), tc.prefix) || !errors.Is(err, lost) {
			t.Errorf("%s: err = %q (reason %s), want reason %s and prefix %q", name, err, ReasonOf(err), tc.reason, tc.prefix)
		}
	}
}

func TestReadMaxUsers(t *testing.T) {
	fc := &fakeConn{handle: func(SearchRequest) ([]*Entry, error) {
		return []*Entry{person("a"), person("b"), person("c")}, nil
	}}
	q := query(MemberAttributeMember, NestingNone, 0)
	q.MaxUsers = 2
	_, err := Read(context.Background(), fc, q)
	if ReasonOf(err) != ReasonTooLarge {
		t.Fatalf("err = %v, want TooLarge", err)
	}
	q.MaxUsers = 3
	if _, err := Read(context.Background(), fc, q); err != nil {
		t.Fatalf("exactly MaxUsers entries: %v", err)
	}
}

func TestReadInvalidQuery(t *testing.T) {
	fc := &fakeConn{handle: func(SearchRequest) ([]*Entry, error) { return nil, nil }}
	_, err := Read(context.Background(), fc, Query{Users: UserQuery{BaseDN: people, Filter: "objectClass=person"}})
	if ReasonOf(err) != ReasonInvalidConfig {
		t.Fatalf("err = %v, want InvalidConfig", err)
	}
	if len(fc.reqs) != 0 {
		t.Errorf("an invalid query searched %d times", len(fc.reqs))
	}
}

func TestLookupFilters(t *testing.T) {
	alice := person("alice")
	cases := map[string]struct {
		q           Query
		login       string
		handle      func(req SearchRequest) ([]*Entry, error)
		wantFilters []string
		wantReason  Reason
		wantGroups  []GroupRef
	}{
		"injection is one literal value": {
			q:           Query{Users: UserQuery{BaseDN: people}},
			login:       "*)(uid=*",
			handle:      func(SearchRequest) ([]*Entry, error) { return nil, nil },
			wantFilters: []string{`(&(objectClass=person)(uid=\2a\29\28uid=\2a))`},
			wantReason:  ReasonNotFound,
		},
		"several login attributes": {
			q:           Query{Users: UserQuery{BaseDN: people, LoginAttributes: []string{"uid", "mail"}}},
			login:       "a*",
			handle:      func(SearchRequest) ([]*Entry, error) { return nil, nil },
			wantFilters: []string{`(&(objectClass=person)(|(uid=a\2a)(mail=a\2a)))`},
			wantReason:  ReasonNotFound,
		},
		"an entry whose first login attribute holds another login is not a match": {
			q:     Query{Users: UserQuery{BaseDN: people, LoginAttributes: []string{"uid", "mail"}}},
			login: "alice@x",
			handle: func(SearchRequest) ([]*Entry, error) {
				return []*Entry{alice}, nil // found by mail, but its login is alice
			},
			wantFilters: []string{`(&(objectClass=person)(|(uid=alice@x)(mail=alice@x)))`},
			wantReason:  ReasonNotFound,
		},
		"two entries": {
			q:     Query{Users: UserQuery{BaseDN: people}},
			login: "alice",
			handle: func(SearchRequest) ([]*Entry, error) {
				return []*Entry{alice, ent("uid=alice,ou=other,dc=x", "uid", "Alice")}, nil
			},
			wantFilters: []string{`(&(objectClass=person)(uid=alice))`},
			wantReason:  ReasonAmbiguous,
		},
		"memberUid groups by login": {
			q:     query(MemberAttributeMemberUID, NestingNone, 0),
			login: "ALICE",
			handle: func(req SearchRequest) ([]*Entry, error) {
				if req.BaseDN == people {
					return []*Entry{alice}, nil
				}
				return []*Entry{ent(gdn("devs"), "cn", "devs")}, nil
			},
			wantFilters: []string{`(&(objectClass=person)(uid=ALICE))`, "(&" + DefaultGroupFilter + "(memberUid=alice))"},
			wantGroups:  []GroupRef{ref("devs", true)},
		},
		"ActiveDirectory direct and in-chain": {
			q:     query(MemberAttributeMember, NestingActiveDirectory, 0),
			login: "alice",
			handle: func(req SearchRequest) ([]*Entry, error) {
				switch {
				case req.BaseDN == people:
					if !slices.Contains(req.Attributes, "memberOf") {
						return nil, fmt.Errorf("the user search asks for %v, not memberOf", req.Attributes)
					}
					// memberOf spelled otherwise than the group's DN
					return []*Entry{ent(`uid=alice,ou=R\2CD (*),dc=x`, "uid", "alice", "memberOf", "CN=Inner, OU=Groups, DC=X")}, nil
				case strings.Contains(req.Filter, InChainRule):
					return []*Entry{ent(gdn("inner"), "cn", "inner"), ent(gdn("outer"), "cn", "outer")}, nil
				}
				return nil, fmt.Errorf("unexpected %s", req.Filter)
			},
			wantFilters: []string{
				`(&(objectClass=person)(uid=alice))`,
				"(&" + DefaultGroupFilter + `(member:1.2.840.113556.1.4.1941:=uid=alice,ou=R\5c2CD \28\2a\29,dc=x))`,
			},
			wantGroups: []GroupRef{ref("inner", true), ref("outer", false)},
		},
		"Recursive walks up": {
			q:     query(MemberAttributeMember, NestingRecursive, 5),
			login: "alice",
			handle: func(req SearchRequest) ([]*Entry, error) {
				switch {
				case req.BaseDN == people:
					return []*Entry{alice}, nil
				case strings.Contains(req.Filter, "(member="+dnOf("alice")+")"):
					return []*Entry{ent(gdn("leaf"), "cn", "leaf")}, nil
				case strings.Contains(req.Filter, "(member="+gdn("leaf")+")"):
					return []*Entry{ent(gdn("top"), "cn", "top")}, nil
				case strings.Contains(req.Filter, "(member="+gdn("top")+")"):
					return []*Entry{ent(gdn("leaf"), "cn", "leaf")}, nil // a cycle back
				}
				return nil, fmt.Errorf("unexpected %s", req.Filter)
			},
			wantFilters: []string{
				`(&(objectClass=person)(uid=alice))`,
				"(&" + DefaultGroupFilter + "(member=" + dnOf("alice") + "))",
				"(&" + DefaultGroupFilter + "(member=" + gdn("leaf") + "))",
				"(&" + DefaultGroupFilter + "(member=" + gdn("top") + "))",
			},
			wantGroups: []GroupRef{ref("leaf", true), ref("top", false)},
		},
	}
	for name, tc := range cases {
		fc := &fakeConn{handle: tc.handle}
		u, err := Lookup(context.Background(), fc, tc.q, tc.login)
		if diff := cmp.Diff(tc.wantFilters, fc.filters()); diff != "" {
			t.Errorf("%s: filters (-want +got):\n%s", name, diff)
		}
		if tc.wantReason != "" {
			if ReasonOf(err) != tc.wantReason {
				t.Errorf("%s: err = %v, want reason %s", name, err, tc.wantReason)
			}
			if tc.wantReason == ReasonNotFound && !errors.Is(err, ErrNotFound) {
				t.Errorf("%s: errors.Is(err, ErrNotFound) is false for %v", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(tc.wantGroups, u.Groups); diff != "" {
			t.Errorf("%s: groups (-want +got):\n%s", name, diff)
		}
	}
}

func TestReasonOfAndErrNotFound(t *testing.T) {
	e := newError(ReasonBindFailed, nil, "bind failed")
	wrapped := fmt.Errorf("context: %w", e)
	if ReasonOf(wrapped) != ReasonBindFailed {
		t.Errorf("ReasonOf(wrapped) = %q", ReasonOf(wrapped))
	}
	if ReasonOf(errors.New("plain")) != "" {
		t.Error("ReasonOf(plain error) is not empty")
	}
	if errors.Is(wrapped, ErrNotFound) {
		t.Error("a BindFailed error is ErrNotFound")
	}
	if !errors.Is(fmt.Errorf("x: %w", newError(ReasonNotFound, nil, "no entry")), ErrNotFound) {
		t.Error("a NotFound error is not ErrNotFound")
	}
}
