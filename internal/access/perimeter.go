package access

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// ForbiddenKubernetesGroup says why a Group may not map onto the API-server
// group kg ("" when it may): a system: group belongs to Kubernetes
// (system:authenticated is everyone; the CRD refuses these too), and an
// administrator group (adminGroups: --admin-groups and the break-glass
// group) would make every administrator a member and give the Group's
// Roles to them. The webhook refuses such a Group and the controllers bind
// nothing to it.
func ForbiddenKubernetesGroup(kg string, adminGroups []string) string {
	switch {
	case kg == "":
		return ""
	case strings.HasPrefix(kg, "system:"):
		return "is a system: group, which belongs to Kubernetes"
	case slices.Contains(adminGroups, kg):
		return "is an administrator or break-glass group of Gatehouse"
	}
	return ""
}

// SelfEditablePaths are the paths of its own User a person may change (what
// SelfEditable admits), as field names from the object's root: the apply
// history of a self-edit may claim these and nothing else.
var SelfEditablePaths = [][]string{{"spec", "displayName"}, {"spec", "email"}}

// SelfEditable reports whether a change to a User touches only what its
// own person may change: the display name and e-mail (and its apply
// history, which the webhook judges by path: internal/history). Everything
// else of a User (groups, profile, activity, organization, source,
// directory, authMethod, Kubernetes identity and metadata) is
// administrators' to change: the User webhook admits such a change from
// the person the User stands for, and nothing more.
func SelfEditable(before, after *iamv1alpha1.User) bool {
	b, a := before.DeepCopy(), after.DeepCopy()
	b.Spec.DisplayName, b.Spec.Email = a.Spec.DisplayName, a.Spec.Email
	for _, o := range []*iamv1alpha1.User{b, a} {
		delete(o.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
		if len(o.Annotations) == 0 {
			o.Annotations = nil
		}
		o.ManagedFields, o.ResourceVersion, o.Generation, o.Status = nil, "", 0, iamv1alpha1.UserStatus{}
	}
	return reflect.DeepEqual(b.Spec, a.Spec) && reflect.DeepEqual(b.ObjectMeta, a.ObjectMeta)
}

// WhyNotPersonal says why Connection c cannot be a personal connection of
// User me, a member of groups mine (as ComputeUser reports them): a
// personal connection may be used and have its details read only by
// groups its creator belongs to, or by nobody, never by everyone. It
// returns "" when c may be personal, else a sentence saying what to name
// instead (usableBy is judged first).
func WhyNotPersonal(c *iamv1alpha1.Connection, me string, mine []string) string {
	for _, f := range []struct {
		field    string
		audience *iamv1alpha1.Audience
	}{{"usableBy", c.Spec.UsableBy}, {"detailsReadableBy", c.Spec.DetailsReadableBy}} {
		a := f.audience
		if a == nil || a.Mode == "" || a.Mode == iamv1alpha1.AudienceNone {
			continue
		}
		if a.Mode == iamv1alpha1.AudienceAll {
			return fmt.Sprintf("a personal connection may be used and read only by groups you belong to, and spec.%s is All; name your groups (%s) instead.", f.field, strings.Join(mine, ", "))
		}
		for _, g := range a.Groups {
			if !slices.Contains(mine, g) {
				return fmt.Sprintf("a personal connection may be used and read only by groups you belong to, and spec.%s names Group %s, which %s is not in.", f.field, g, me)
			}
		}
	}
	return ""
}

// HoldsGlobal reports whether User name holds global permission p
// (effective: active, seated, through its groups, within its profile).
func (ix *Index) HoldsGlobal(name string, p iamv1alpha1.GlobalPermission) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	u := ix.users[name]
	if u == nil {
		return false
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	return ix.effectiveGlobal(sc, u)&parseGlobalLenient([]iamv1alpha1.GlobalPermission{p}) != 0
}

// HoldsAdmin reports whether User name holds the global permission admin:
// active, seated, in a group giving it, within its profile. Such a User is
// an administrator of the namespace (SPEC "The perimeter").
func (ix *Index) HoldsAdmin(name string) bool { return ix.HoldsGlobal(name, iamv1alpha1.GlobalAdmin) }

// printable is the rule the CRDs hold names to (their CEL rules use the
// same expression): printable words separated by single spaces, with no
// control, format (bidirectional overrides), private-use or separator
// characters, and no leading or trailing space. A login is one word.
var (
	printable     = regexp.MustCompile(`^[^\s\p{C}\p{Z}]+( [^\s\p{C}\p{Z}]+)*$`)
	printableWord = regexp.MustCompile(`^[^\s\p{C}\p{Z}]+$`)
)

// Finding is an object that breaks a rule of the perimeter: made before
// the rule landed, or while a webhook was down. Deleting or fixing it is
// always admitted.
type Finding struct {
	Kind, Name string
	// Problem says what is wrong and how to fix it, in a sentence.
	Problem string
}

// CheckPerimeter returns, sorted by kind and name, the objects of a
// namespace that break a perimeter rule: Users that stand for one
// Kubernetes identity together or for a system: one, Groups mapped onto a
// system:, administrator or break-glass group (adminGroups), and names that
// are not printable. What `kubectl gatehouse check` reports.
func CheckPerimeter(s Snapshot, adminGroups []string) []Finding {
	var out []Finding
	byIdentity := map[string][]string{}
	for _, u := range s.Users {
		id := u.Spec.KubernetesIdentity()
		byIdentity[id] = append(byIdentity[id], u.Name)
		if !printableWord.MatchString(u.Spec.Login) {
			out = append(out, Finding{"User", u.Name, fmt.Sprintf("login %q holds spaces, control characters or bidirectional overrides; create a User with a plain login and delete this one.", u.Spec.Login)})
		}
		if u.Spec.KubernetesUsername != "" && !printable.MatchString(u.Spec.KubernetesUsername) {
			out = append(out, Finding{"User", u.Name, fmt.Sprintf("kubernetesUsername %q is not printable; set the identity this person's requests carry.", u.Spec.KubernetesUsername)})
		}
		if strings.HasPrefix(id, "system:") {
			out = append(out, Finding{"User", u.Name, fmt.Sprintf("stands for the Kubernetes identity %q, which belongs to Kubernetes; set spec.kubernetesUsername to this person's own identity.", id)})
		}
	}
	for id, names := range byIdentity {
		if len(names) < 2 {
			continue
		}
		sort.Strings(names)
		for _, n := range names {
			others := slices.DeleteFunc(slices.Clone(names), func(o string) bool { return o == n })
			out = append(out, Finding{"User", n, fmt.Sprintf("stands for the Kubernetes identity %q together with User %s, so requests as %q are judged as neither; set a distinct spec.kubernetesUsername on one, or delete the one that should not exist.",
				id, strings.Join(others, ", "), id)})
		}
	}
	for _, g := range s.Groups {
		if why := ForbiddenKubernetesGroup(g.Spec.KubernetesGroup, adminGroups); why != "" {
			out = append(out, Finding{"Group", g.Name, fmt.Sprintf("kubernetesGroup %q %s, so nothing is bound to it; set the group its own members carry, or remove it.", g.Spec.KubernetesGroup, why)})
		}
	}
	names := func(kind, name string, ref iamv1alpha1.ResourceRef, subjects []string) {
		if !printable.MatchString(ref.Name) {
			out = append(out, Finding{kind, name, fmt.Sprintf("resource name %q is not printable (control characters, bidirectional overrides, or spaces at its ends); it can pass for another resource: delete it and share the resource by its plain name.", ref.Name)})
		}
		for _, n := range subjects {
			if !printable.MatchString(n) {
				out = append(out, Finding{kind, name, fmt.Sprintf("names %q, which is not printable; remove that entry.", n)})
			}
		}
	}
	for _, sh := range s.Shares {
		var subjects []string
		for _, g := range sh.Spec.Grantees {
			subjects = append(subjects, g.Name)
		}
		names("Share", sh.Name, sh.Spec.Resource, subjects)
	}
	for _, g := range s.ResourceGrants {
		var subjects []string
		for _, sub := range g.Spec.Subjects {
			subjects = append(subjects, sub.Name)
		}
		names("ResourceGrant", g.Name, g.Spec.Resource, subjects)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// DetailReaders returns, sorted, the Users that may read the details (the
// credentials in clear) of Connection name (readsDetails). The RBAC
// projection binds exactly these, by their Kubernetes identity.
func (ix *Index) DetailReaders(name string) []string {
	return ix.usersWhere(name, ix.readsDetails)
}

// readsDetails is the rule of DetailReaders, by detailsReadableBy and
// Gatehouse's own membership: every active, seated User for All; the
// active, seated members of its Groups, local and directory-mapped, for
// Groups; nobody for None. A User whose Kubernetes identity another User
// claims never reads (its identity stands for nobody). ix.mu is held.
func (ix *Index) readsDetails(sc *scratch, c *connEntry, u *userEntry) bool {
	a := c.obj.Spec.DetailsReadableBy
	if a == nil || !u.active || len(ix.identities[u.identity]) != 1 {
		return false
	}
	if st, _, _ := ix.seat(u); st != iamv1alpha1.SeatGranted {
		return false
	}
	switch a.Mode {
	case iamv1alpha1.AudienceAll:
		return true
	case iamv1alpha1.AudienceGroups:
		return ix.inAnyGroup(sc, u, a.Groups)
	}
	return false
}

// usersWhere returns, sorted, the Users for which rule holds of Connection
// name (none when the Index does not hold it).
func (ix *Index) usersWhere(name string, rule func(*scratch, *connEntry, *userEntry) bool) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	c := ix.conns[name]
	if c == nil {
		return nil
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	var out []string
	for _, u := range ix.users {
		if rule(sc, c, u) {
			out = append(out, u.name)
		}
	}
	sort.Strings(out)
	return out
}

// KubernetesIdentity returns the API-server user name User name stands for.
func (ix *Index) KubernetesIdentity(name string) (string, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if u := ix.users[name]; u != nil {
		return u.identity, true
	}
	return "", false
}

// MayUse reports whether User user may use Connection conn (mayUse).
func (ix *Index) MayUse(conn, user string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	c, u := ix.conns[conn], ix.users[user]
	if c == nil || u == nil {
		return false
	}
	sc := ix.getScratch()
	defer ix.putScratch(sc)
	return ix.mayUse(sc, c, u)
}

// mayUse is the rule of holding a Connection's `use` permission: an
// active, seated User its usableBy admits, by Gatehouse's membership (local
// and directory-mapped groups), or an administrator (Owner of every
// resource). ix.mu is held.
func (ix *Index) mayUse(sc *scratch, c *connEntry, u *userEntry) bool {
	if !u.active {
		return false
	}
	if st, _, _ := ix.seat(u); st != iamv1alpha1.SeatGranted {
		return false
	}
	switch c.mode {
	case iamv1alpha1.AudienceAll:
		return true
	case iamv1alpha1.AudienceGroups:
		if ix.inAnyGroup(sc, u, c.groups) {
			return true
		}
	}
	return ix.effectiveGlobal(sc, u)&adminBit != 0
}

// HasConnection reports whether the Index holds Connection name.
func (ix *Index) HasConnection(name string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.conns[name] != nil
}
