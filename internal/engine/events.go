package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
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

// handler follows one kind's informer.
func (e *Engine) handler(kind access.Kind) toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if o, ok := obj.(client.Object); ok {
				if kind == access.KindUser {
					e.observeSeat(nil, o)
				}
				e.upsert(kind, nil, o)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(client.Object)
			n, ok2 := newObj.(client.Object)
			if !ok1 || !ok2 {
				return
			}
			if kind == access.KindUser {
				e.observeSeat(o, n)
			}
			// Only the spec decides access (and, for a User, its creation
			// time, which never changes): status writes and resyncs are
			// not changes.
			if o.GetGeneration() == n.GetGeneration() && o.GetUID() == n.GetUID() {
				if o.GetResourceVersion() != n.GetResourceVersion() {
					e.recheck(kind, n)
				}
				return
			}
			e.upsert(kind, o, n)
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if o, ok := obj.(client.Object); ok {
				if kind == access.KindUser {
					e.observeSeat(o, nil)
				}
				e.remove(kind, o)
			}
		},
	}
}

// recheck reconciles an object once more when a write the index does not
// follow (its status, mostly its own controller's) is seen. The reconcilers
// compare with the cache, and a reconcile that ran while its previous write
// was still on its way could find the cache equal to what it computes and
// skip a write the API server needed (a member count that went 2 → 3 → 2,
// a User's permissions that flipped and flipped back). Rechecking when the
// write arrives settles it; it reads the cache and the index only (for a
// User, one ComputeUser), and writes nothing when nothing differs. It also
// brings a status someone other than the operator wrote (statusowner) to
// the reconciler that removes it.
func (e *Engine) recheck(kind access.Kind, obj client.Object) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.ready {
		return
	}
	e.enqueueLocked(kind, obj.GetNamespace(), obj.GetName())
	statusRechecks.WithLabelValues(string(kind)).Inc()
}

func (e *Engine) upsert(kind access.Kind, old, obj client.Object) {
	ns := obj.GetNamespace()
	e.mu.Lock()
	if !e.ready {
		p := e.pending[ns]
		if p == nil {
			p = &pendingNS{objs: map[access.Kind]map[string]client.Object{}}
			e.pending[ns] = p
		}
		if p.objs[kind] == nil {
			p.objs[kind] = map[string]client.Object{}
		}
		p.objs[kind][obj.GetName()] = obj
		e.mu.Unlock()
		return
	}
	ix := e.indexLocked(ns)
	cause := string(kind) + " " + obj.GetName()
	if old == nil {
		cause += " created"
	} else {
		cause += " changed"
	}
	var users []string
	var err error
	if kind == access.KindLicense {
		users, err = e.licenseChangedLocked(ns, ix)
	} else {
		users, err = ix.Upsert(obj)
	}
	if err != nil {
		e.mu.Unlock()
		e.log.Error(err, "cannot index the object", "kind", kind, "namespace", ns, "name", obj.GetName())
		return
	}
	if kind == access.KindUser && !slices.Contains(users, obj.GetName()) {
		users = append(users, obj.GetName())
	}
	e.enqueueUsersLocked(ns, users, cause)
	e.mu.Unlock()
	e.dispatch(kind, old, obj)
}

func (e *Engine) remove(kind access.Kind, obj client.Object) {
	ns := obj.GetNamespace()
	e.mu.Lock()
	if !e.ready {
		if p := e.pending[ns]; p != nil {
			delete(p.objs[kind], obj.GetName())
		}
		e.mu.Unlock()
		return
	}
	ix := e.indexes[ns]
	if ix == nil {
		e.mu.Unlock()
		return
	}
	var users []string
	var err error
	if kind == access.KindLicense {
		users, err = e.licenseChangedLocked(ns, ix)
	} else {
		users, err = ix.Delete(kind, obj.GetName())
	}
	if err != nil {
		e.mu.Unlock()
		e.log.Error(err, "cannot remove the object from the index", "kind", kind, "namespace", ns, "name", obj.GetName())
		return
	}
	if kind == access.KindUser {
		delete(e.causes, client.ObjectKeyFromObject(obj))
		users = slices.DeleteFunc(users, func(u string) bool { return u == obj.GetName() })
	}
	e.enqueueUsersLocked(ns, users, string(kind)+" "+obj.GetName()+" deleted")
	e.mu.Unlock()
	e.dispatch(kind, obj, nil)
}

// dispatch enqueues the non-User objects whose status a change touches:
// the object itself, and for a User or Group the Groups, Shares,
// ResourceGrants and License that count its users.
func (e *Engine) dispatch(kind access.Kind, old, obj client.Object) {
	cur := obj
	if cur == nil {
		cur = old
	}
	ns, name := cur.GetNamespace(), cur.GetName()
	var groups, shares, grants, licenses []string
	switch kind {
	case access.KindUser:
		ou, _ := old.(*iamv1alpha1.User)
		nu, _ := obj.(*iamv1alpha1.User)
		// The License counts seats: any user created, deleted, activated
		// or moved to another profile.
		if access.SeatCountChanged(ou, nu) {
			licenses = e.names(ns, &iamv1alpha1.LicenseList{}, "", "")
		}
		userGroups := e.userGroups(ns, ou)
		for _, g := range e.userGroups(ns, nu) {
			if !slices.Contains(userGroups, g) {
				userGroups = append(userGroups, g)
			}
		}
		if access.MembershipChanged(ou, nu) {
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
				shares = append(shares, e.names(ns, &iamv1alpha1.ShareList{}, IndexGrantee, k)...)
				if k[0] != 'O' {
					grants = append(grants, e.names(ns, &iamv1alpha1.ResourceGrantList{}, IndexSubject, k)...)
				}
			}
		}
	case access.KindGroup:
		groups = []string{name}
		shares = e.names(ns, &iamv1alpha1.ShareList{}, IndexGrantee, "Group/"+name)
		grants = e.names(ns, &iamv1alpha1.ResourceGrantList{}, IndexSubject, "Group/"+name)
	case access.KindShare:
		shares = []string{name}
	case access.KindResourceGrant:
		grants = []string{name}
	case access.KindLicense:
		licenses = e.names(ns, &iamv1alpha1.LicenseList{}, "", "")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range []struct {
		kind  access.Kind
		names []string
	}{{access.KindGroup, groups}, {access.KindShare, shares}, {access.KindResourceGrant, grants}, {access.KindLicense, licenses}} {
		if len(t.names) > 0 {
			e.enqueueLocked(t.kind, ns, t.names...)
			reconcilesEnqueued.WithLabelValues(string(t.kind)).Add(float64(len(t.names)))
		}
	}
	if kind == access.KindConnection {
		e.enqueueLocked(kind, ns, name)
	}
}

// userGroups returns the existing Groups a user belongs to: its spec.groups
// and the Groups mapping one of its directory groups.
func (e *Engine) userGroups(ns string, u *iamv1alpha1.User) []string {
	if u == nil {
		return nil
	}
	out := slices.Clone(u.Spec.Groups)
	for _, dn := range u.Spec.DirectoryGroups {
		for _, g := range e.names(ns, &iamv1alpha1.GroupList{}, IndexLDAPGroup, ldapdn.Normalize(dn)) {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// names lists the names of a namespace's objects from the cache, matching a
// field index when field is set.
func (e *Engine) names(ns string, list client.ObjectList, field, value string) []string {
	opts := []client.ListOption{client.InNamespace(ns)}
	if field != "" {
		opts = append(opts, client.MatchingFields{field: value})
	}
	if err := e.cache.List(context.Background(), list, opts...); err != nil {
		e.log.Error(err, "cannot list from the cache", "namespace", ns, "index", field)
		return nil
	}
	var out []string
	_ = forEachItem(list, func(o client.Object) { out = append(out, o.GetName()) })
	return out
}

func forEachItem(list client.ObjectList, fn func(client.Object)) error {
	return meta.EachListItem(list, func(o runtime.Object) error {
		if co, ok := o.(client.Object); ok {
			fn(co)
		}
		return nil
	})
}

// noteExpiry remembers a License's future expiry. Under e.mu.
func (e *Engine) noteExpiry(ns string, l *iamv1alpha1.License) {
	if l.Spec.ExpiresAt != nil && l.Spec.ExpiresAt.After(e.now()) {
		e.expiry[ns] = l.Spec.ExpiresAt.Time
	} else {
		delete(e.expiry, ns)
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// expiryLoop sleeps until the next License expiry, then moves the Index's
// clock so the License's users lose their seats, and enqueues them and the
// License.
func (e *Engine) expiryLoop(ctx context.Context) {
	for {
		e.mu.Lock()
		var next time.Time
		for _, t := range e.expiry {
			if next.IsZero() || t.Before(next) {
				next = t
			}
		}
		e.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = time.NewTimer(time.Until(next) + 10*time.Millisecond)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-fire:
			e.expire()
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

func (e *Engine) expire() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for ns, t := range e.expiry {
		if t.After(now) {
			continue
		}
		delete(e.expiry, ns)
		if ix := e.indexes[ns]; ix != nil {
			e.enqueueUsersLocked(ns, ix.SetNow(now), "License expired")
		}
		e.enqueueLocked(access.KindLicense, ns, e.names(ns, &iamv1alpha1.LicenseList{}, "", "")...)
	}
}

// licenseChangedLocked puts the License in force (from the cache, which
// already holds the change) into the Index and returns the users it
// touches, including those whose seats the clock takes away.
func (e *Engine) licenseChangedLocked(ns string, ix *access.Index) ([]string, error) {
	var list iamv1alpha1.LicenseList
	if err := e.cache.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("cannot list the Licenses of %s: %w", ns, err)
	}
	users := ix.SetNow(e.now())
	l := access.LicenseInForce(list.Items)
	var more []string
	var err error
	if l == nil {
		delete(e.expiry, ns)
		more, err = ix.Delete(access.KindLicense, "")
	} else {
		e.noteExpiry(ns, l)
		more, err = ix.Upsert(l.DeepCopy())
	}
	return append(users, more...), err
}
