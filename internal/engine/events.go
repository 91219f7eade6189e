package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
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
			// time, which never changes): status writes and the informers'
			// resyncs are not changes.
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
		e.stashLocked(kind, obj)
		return
	}
	// The same spec, a newer status: what resync compares with. A spec
	// the Index failed to take stays as it was, so resync still sees it.
	if prev := e.applied[obj.GetNamespace()][kind][obj.GetName()]; prev != nil &&
		prev.GetUID() == obj.GetUID() && prev.GetGeneration() == obj.GetGeneration() {
		e.setAppliedLocked(kind, obj)
	}
	if e.queues[kind] != nil {
		e.enqueueLocked(kind, obj.GetNamespace(), obj.GetName())
		statusRechecks.WithLabelValues(string(kind)).Inc()
	}
}

// stash keeps an object seen before the engine is ready for build, and
// reports whether it did.
func (e *Engine) stash(kind access.Kind, obj client.Object) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ready {
		return false
	}
	e.stashLocked(kind, obj)
	return true
}

func (e *Engine) stashLocked(kind access.Kind, obj client.Object) {
	ns := obj.GetNamespace()
	p := e.pending[ns]
	if p == nil {
		p = &pendingNS{objs: map[access.Kind]map[string]client.Object{}}
		e.pending[ns] = p
	}
	if p.objs[kind] == nil {
		p.objs[kind] = map[string]client.Object{}
	}
	p.objs[kind][obj.GetName()] = obj
}

// setAppliedLocked records obj as what its namespace's Index holds.
func (e *Engine) setAppliedLocked(kind access.Kind, obj client.Object) {
	ns := obj.GetNamespace()
	if e.applied[ns] == nil {
		e.applied[ns] = map[access.Kind]map[string]client.Object{}
	}
	if e.applied[ns][kind] == nil {
		e.applied[ns][kind] = map[string]client.Object{}
	}
	e.applied[ns][kind][obj.GetName()] = obj
}

// upsert applies a created or changed object to its namespace's Index and
// enqueues what it touches.
func (e *Engine) upsert(kind access.Kind, old, obj client.Object) {
	e.apply(kind, old, obj, false)
}

// apply applies obj (created or changed; old is its previous version, nil
// if none) to the namespace's Index, enqueues the reconciles it causes and
// reports whether it did. With repair (resync), it does so only if the
// Index still holds old, so that an event applied meanwhile is not undone.
func (e *Engine) apply(kind access.Kind, old, obj client.Object, repair bool) bool {
	if e.stash(kind, obj) {
		return true
	}
	ns, name := obj.GetNamespace(), obj.GetName()
	cause := string(kind) + " " + name
	if old == nil {
		cause += " created"
	} else {
		cause += " changed"
	}
	if kind == access.KindLicense {
		if !e.licenseChanged(ns, cause) {
			return false
		}
		e.dispatch(kind, old, obj)
		return true
	}
	e.mu.Lock()
	if repair && e.applied[ns][kind][name] != old {
		e.mu.Unlock()
		return false
	}
	aff, err := e.indexLocked(ns).Upsert(obj)
	users := aff.Users
	if err != nil {
		e.failedLocked(ns)
		e.mu.Unlock()
		e.log.Error(err, "cannot index the object; retrying", "kind", kind, "namespace", ns, "name", name)
		return false
	}
	e.setAppliedLocked(kind, obj)
	if kind == access.KindUser && !slices.Contains(users, name) {
		users = append(users, name)
	}
	e.enqueueUsersLocked(ns, users, cause)
	e.mu.Unlock()
	e.dispatch(kind, old, obj)
	return true
}

// remove removes a deleted object from its namespace's Index and enqueues
// what it touches.
func (e *Engine) remove(kind access.Kind, obj client.Object) {
	e.drop(kind, obj, false)
}

// drop removes obj from the namespace's Index and reports whether it did;
// with repair, only if the Index still holds obj.
func (e *Engine) drop(kind access.Kind, obj client.Object, repair bool) bool {
	ns, name := obj.GetNamespace(), obj.GetName()
	e.mu.Lock()
	if !e.ready {
		if p := e.pending[ns]; p != nil {
			delete(p.objs[kind], name)
		}
		e.mu.Unlock()
		return true
	}
	ix := e.indexes[ns]
	if ix == nil || (repair && e.applied[ns][kind][name] != obj) {
		e.mu.Unlock()
		return false
	}
	cause := string(kind) + " " + name + " deleted"
	if kind == access.KindLicense {
		e.mu.Unlock()
		if !e.licenseChanged(ns, cause) {
			return false
		}
		e.dispatch(kind, obj, nil)
		return true
	}
	aff, err := ix.Delete(kind, name)
	users := aff.Users
	if err != nil {
		e.failedLocked(ns)
		e.mu.Unlock()
		e.log.Error(err, "cannot remove the object from the index; retrying", "kind", kind, "namespace", ns, "name", name)
		return false
	}
	delete(e.applied[ns][kind], name)
	if kind == access.KindUser {
		delete(e.causes, client.ObjectKeyFromObject(obj))
		users = slices.DeleteFunc(users, func(u string) bool { return u == name })
	}
	e.enqueueUsersLocked(ns, users, cause)
	e.mu.Unlock()
	e.dispatch(kind, obj, nil)
	return true
}

// dispatch enqueues the non-User objects whose status a change touches:
// the object itself, and for a User or Group the Groups, Shares,
// ResourceGrants and License that count its users. It lists the cache, so
// it runs under no lock.
func (e *Engine) dispatch(kind access.Kind, old, obj client.Object) {
	cur := obj
	if cur == nil {
		cur = old
	}
	ns, name := cur.GetNamespace(), cur.GetName()
	var groups, shares, grants, licenses []string
	switch kind {
	case access.KindUser:
		groups, shares, grants, licenses = e.userChange(ns, name, old, obj)
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
	case access.KindConnection:
		// Connections are reconciled by the Connection controllers, which
		// watch them; the engine only keeps the Index current.
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
}

// userChange returns the Groups, Shares, ResourceGrants and Licenses whose
// status a User's change (old → obj, either nil) touches.
func (e *Engine) userChange(ns, name string, old, obj client.Object) (groups, shares, grants, licenses []string) {
	ou, _ := old.(*iamv1alpha1.User)
	nu, _ := obj.(*iamv1alpha1.User)
	// The License counts seats: any user created, deleted, activated or
	// moved to another profile.
	if access.SeatCountChanged(ou, nu) {
		licenses = e.names(ns, &iamv1alpha1.LicenseList{}, "", "")
	}
	userGroups := e.userGroups(ns, ou)
	for _, g := range e.userGroups(ns, nu) {
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
			shares = append(shares, e.names(ns, &iamv1alpha1.ShareList{}, IndexGrantee, k)...)
			if k[0] != 'O' {
				grants = append(grants, e.names(ns, &iamv1alpha1.ResourceGrantList{}, IndexSubject, k)...)
			}
		}
	}
	return groups, shares, grants, licenses
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
// field index when field is set. Under no lock.
func (e *Engine) names(ns string, list client.ObjectList, field, value string) []string {
	opts := []client.ListOption{client.InNamespace(ns), client.UnsafeDisableDeepCopy}
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

// noteExpiryLocked remembers a License's future expiry. Under e.mu.
func (e *Engine) noteExpiryLocked(ns string, l *iamv1alpha1.License) {
	if l.Spec.ExpiresAt != nil && l.Spec.ExpiresAt.After(e.clock.Now()) {
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
		var timer clock.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = e.clock.NewTimer(next.Sub(e.clock.Now()) + 10*time.Millisecond)
			fire = timer.C()
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

// expire takes the seats of the Licenses that expired: it moves their
// Indexes' clocks and enqueues their users and the Licenses.
func (e *Engine) expire() {
	e.mu.Lock()
	now := e.clock.Now()
	var expired []string
	for ns, t := range e.expiry {
		if t.After(now) {
			continue
		}
		delete(e.expiry, ns)
		expired = append(expired, ns)
		if ix := e.indexes[ns]; ix != nil {
			e.enqueueUsersLocked(ns, ix.SetNow(now), "License expired")
		}
	}
	e.mu.Unlock()
	for _, ns := range expired {
		licenses := e.names(ns, &iamv1alpha1.LicenseList{}, "", "")
		e.mu.Lock()
		e.enqueueLocked(access.KindLicense, ns, licenses...)
		e.mu.Unlock()
	}
}

// licenseChanged puts the License in force (from the cache, which already
// holds the change) into the namespace's Index and enqueues the users it
// touches, including those whose seats the clock takes away; it reports
// whether it did. It lists the Licenses under licMu, not mu, so the one
// applied last is from the newest list whoever calls it (an event or
// resync).
func (e *Engine) licenseChanged(ns, cause string) bool {
	e.licMu.Lock()
	defer e.licMu.Unlock()
	var list iamv1alpha1.LicenseList
	err := e.cache.List(context.Background(), &list, client.InNamespace(ns))
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.failedLocked(ns)
		e.log.Error(err, "cannot list the Licenses; retrying", "namespace", ns)
		return false
	}
	ix := e.indexLocked(ns)
	users := ix.SetNow(e.clock.Now())
	l := access.LicenseInForce(list.Items)
	var aff access.Affected
	if l == nil {
		delete(e.expiry, ns)
		aff, err = ix.Delete(access.KindLicense, "")
	} else {
		e.noteExpiryLocked(ns, l)
		aff, err = ix.Upsert(l.DeepCopy())
	}
	more := aff.Users
	if err != nil {
		e.failedLocked(ns)
		e.log.Error(err, "cannot index the License; retrying", "namespace", ns)
		return false
	}
	// The Index holds the namespace's Licenses as listed.
	if e.applied[ns] == nil {
		e.applied[ns] = map[access.Kind]map[string]client.Object{}
	}
	held := make(map[string]client.Object, len(list.Items))
	for i := range list.Items {
		held[list.Items[i].Name] = &list.Items[i]
	}
	e.applied[ns][access.KindLicense] = held
	e.enqueueUsersLocked(ns, append(users, more...), cause)
	return true
}
