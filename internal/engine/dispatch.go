package engine

import (
	"context"
	"fmt"
	"slices"

	"github.com/go-logr/logr"

	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
)

// Field indexes on the cache, so that a User or Group change finds the
// Groups, Shares and ResourceGrants it touches without a list scan.
const (
	// IndexGrantee indexes Shares by "User/<name>", "Group/<name>" and
	// "Organization/<name>" of their grantees.
	IndexGrantee = "gatehouse.grantee"
	// IndexSubject indexes ResourceGrants by "User/<name>" and
	// "Group/<name>" of their subjects.
	IndexSubject = "gatehouse.subject"
	// IndexLDAPGroup indexes Groups by their normalised ldapGroups.
	IndexLDAPGroup = "gatehouse.ldapGroup"
	// IndexLogin indexes Users by spec.login.
	IndexLogin = "gatehouse.login"
	// IndexIdentity indexes Users by their Kubernetes identity
	// (kubernetesUsername, or the login standing for it).
	IndexIdentity = "gatehouse.identity"
)

// RegisterIndexes registers the engine's field indexes.
func RegisterIndexes(ctx context.Context, fi client.FieldIndexer) error {
	for _, ix := range []struct {
		obj   client.Object
		field string
		fn    client.IndexerFunc
	}{
		{&iamv1alpha1.Share{}, IndexGrantee, func(o client.Object) []string {
			var out []string
			for _, g := range o.(*iamv1alpha1.Share).Spec.Grantees {
				out = append(out, string(g.Kind)+"/"+g.Name)
			}
			return out
		}},
		{&iamv1alpha1.ResourceGrant{}, IndexSubject, func(o client.Object) []string {
			var out []string
			for _, s := range o.(*iamv1alpha1.ResourceGrant).Spec.Subjects {
				out = append(out, string(s.Kind)+"/"+s.Name)
			}
			return out
		}},
		{&iamv1alpha1.User{}, IndexLogin, func(o client.Object) []string {
			if l := o.(*iamv1alpha1.User).Spec.Login; l != "" {
				return []string{l}
			}
			return nil
		}},
		{&iamv1alpha1.User{}, IndexIdentity, func(o client.Object) []string {
			if id := o.(*iamv1alpha1.User).Spec.KubernetesIdentity(); id != "" {
				return []string{id}
			}
			return nil
		}},
		{&iamv1alpha1.Group{}, IndexLDAPGroup, func(o client.Object) []string {
			var out []string
			for _, dn := range o.(*iamv1alpha1.Group).Spec.LDAPGroups {
				out = append(out, ldapdn.Normalize(dn))
			}
			return out
		}},
	} {
		if err := fi.IndexField(ctx, ix.obj, ix.field, ix.fn); err != nil {
			return fmt.Errorf("cannot index %T by %s: %w", ix.obj, ix.field, err)
		}
	}
	return nil
}

// dispatcher answers whom a change touches besides the users the Index
// names: it lists the cache through the field indexes above.
type dispatcher struct {
	cache client.Reader
	log   logr.Logger
}

// touched returns the non-User objects whose status a change (old → obj,
// either nil) touches, by kind: the object itself, and for a User or Group
// the Groups, Shares, ResourceGrants and License that count its users. It
// lists the cache, so it runs under no lock; Engine.enqueueTouched
// enqueues what it returns.
func (d dispatcher) touched(kind access.Kind, old, obj client.Object) map[access.Kind][]string {
	cur := obj
	if cur == nil {
		cur = old
	}
	ns, name := cur.GetNamespace(), cur.GetName()
	var groups, shares, grants, licenses []string
	switch kind {
	case access.KindUser:
		groups, shares, grants, licenses = d.userChange(ns, name, old, obj)
	case access.KindGroup:
		groups = []string{name}
		shares = d.names(ns, &iamv1alpha1.ShareList{}, IndexGrantee, "Group/"+name)
		grants = d.names(ns, &iamv1alpha1.ResourceGrantList{}, IndexSubject, "Group/"+name)
	case access.KindShare:
		shares = []string{name}
	case access.KindResourceGrant:
		grants = []string{name}
	case access.KindLicense:
		licenses = d.names(ns, &iamv1alpha1.LicenseList{}, "", "")
	case access.KindConnection:
		// Connections are reconciled by the Connection controllers, which
		// watch them; the engine only keeps the Index current.
	}
	return map[access.Kind][]string{access.KindGroup: groups, access.KindShare: shares,
		access.KindResourceGrant: grants, access.KindLicense: licenses}
}

// userChange returns the Groups, Shares, ResourceGrants and Licenses whose
// status a User's change (old → obj, either nil) touches.
func (d dispatcher) userChange(ns, name string, old, obj client.Object) (groups, shares, grants, licenses []string) {
	ou, _ := old.(*iamv1alpha1.User)
	nu, _ := obj.(*iamv1alpha1.User)
	// The License counts seats: any user created, deleted, activated or
	// moved to another profile.
	if access.SeatCountChanged(ou, nu) {
		licenses = d.names(ns, &iamv1alpha1.LicenseList{}, "", "")
	}
	userGroups := d.userGroups(ns, ou)
	for _, g := range d.userGroups(ns, nu) {
		if !slices.Contains(userGroups, g) {
			userGroups = append(userGroups, g)
		}
	}
	if access.MemberCountChanged(ou, nu) {
		groups = userGroups
	}
	if access.ReachChanged(ou, nu) {
		keys := []string{"User/" + name}
		for _, g := range userGroups {
			keys = append(keys, "Group/"+g)
		}
		for _, u := range []*iamv1alpha1.User{ou, nu} {
			if u != nil && u.Spec.Organization != "" {
				keys = append(keys, "Organization/"+u.Spec.Organization)
			}
		}
		for _, k := range keys {
			shares = append(shares, d.names(ns, &iamv1alpha1.ShareList{}, IndexGrantee, k)...)
			if k[0] != 'O' {
				grants = append(grants, d.names(ns, &iamv1alpha1.ResourceGrantList{}, IndexSubject, k)...)
			}
		}
	}
	return groups, shares, grants, licenses
}

// userGroups returns the existing Groups a user belongs to: its spec.groups
// and the Groups mapping one of its directory groups.
func (d dispatcher) userGroups(ns string, u *iamv1alpha1.User) []string {
	if u == nil {
		return nil
	}
	out := slices.Clone(u.Spec.Groups)
	for _, dn := range u.Spec.DirectoryGroups {
		for _, g := range d.names(ns, &iamv1alpha1.GroupList{}, IndexLDAPGroup, ldapdn.Normalize(dn)) {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// names lists the names of a namespace's objects from the cache, matching a
// field index when field is set. Under no lock.
func (d dispatcher) names(ns string, list client.ObjectList, field, value string) []string {
	opts := []client.ListOption{client.InNamespace(ns), client.UnsafeDisableDeepCopy}
	if field != "" {
		opts = append(opts, client.MatchingFields{field: value})
	}
	if err := d.cache.List(context.Background(), list, opts...); err != nil {
		d.log.Error(err, "cannot list from the cache", "namespace", ns, "index", field)
		return nil
	}
	var out []string
	_ = forEachItem(list, func(o client.Object) { out = append(out, o.GetName()) })
	return out
}
