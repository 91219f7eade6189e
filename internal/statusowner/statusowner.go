// Package statusowner tells which fields of a Gatehouse object's status
// were written by someone other than the operator.
//
// Status belongs to the operator. The status webhook admits nobody else,
// and independently of it every reconcile removes what someone else wrote:
// the API server records in managedFields which manager wrote which status
// field, and the cache transform below keeps, beside the cache (keyed by
// the object's UID and tied to its resourceVersion, never in the cached
// object), the top-level status fields that a manager other than the
// operator's own status writers (the names Register recorded) holds. The
// reconciler that owns such a field removes it (a JSON patch of remove
// operations only, which leaves no owner behind) and applies its own
// status again.
//
// A name is all the API server records of a manager, so a writer that
// spoofs one of the operator's names with a server-side apply is not seen
// here; the operator's next apply, under the same name, then replaces that
// manager's fields with its own, which removes what it does not write.
package statusowner

import (
	"bytes"
	"iter"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// records holds what Mark found, per object UID: a foreign record of one
// resourceVersion. Only objects someone else wrote status into have one;
// Mark forgets it when a later version has none (the repair), so it holds
// at most the forged objects not yet repaired (or deleted before that).
var records sync.Map // types.UID -> foreign

// foreign is what Mark records.
type foreign struct {
	ResourceVersion string
	Fields          []string
	Managers        []string
}

// Mark records, beside the cache, the top-level status fields of obj
// written by managers other than the operator's, and drops managedFields
// and kubectl's last-applied configuration from the cached copy, which
// nothing reads (the operator writes by apply and patch, never by an
// Update of a cached object). It is part of the cache transform of every
// Gatehouse kind; an object already transformed is left as it is (its
// record is tied to its resourceVersion).
func Mark(obj metav1.Object) {
	mf := obj.GetManagedFields()
	if mf == nil {
		return // transformed already, or never written
	}
	ann := obj.GetAnnotations()
	delete(ann, corev1.LastAppliedConfigAnnotation)
	f := foreign{ResourceVersion: obj.GetResourceVersion()}
	for _, e := range mf {
		if e.Subresource != "status" || e.FieldsV1 == nil ||
			(Registered(e.Manager) && e.Operation == metav1.ManagedFieldsOperationApply) {
			continue
		}
		names := statusFields(e.FieldsV1.GetRawBytes())
		for _, name := range names {
			if !slices.Contains(f.Fields, name) {
				f.Fields = append(f.Fields, name)
			}
		}
		if len(names) > 0 && !slices.Contains(f.Managers, e.Manager) {
			f.Managers = append(f.Managers, e.Manager)
		}
	}
	obj.SetManagedFields(nil)
	obj.SetAnnotations(ann)
	if len(f.Fields) == 0 {
		records.Delete(obj.GetUID())
		return
	}
	slices.Sort(f.Fields)
	slices.Sort(f.Managers)
	records.Store(obj.GetUID(), f)
}

// statusFields returns the top-level status fields a managedFields entry's
// FieldsV1 holds (structured-merge-diff's own decoding of the format), none
// when it is not a valid field set.
func statusFields(raw []byte) []string {
	var set fieldpath.Set
	if set.FromJSON(bytes.NewReader(raw)) != nil {
		return nil
	}
	st, ok := set.Children.Get(fieldpath.PathElement{FieldName: ptr.To("status")})
	if !ok {
		return nil
	}
	var names []string
	for _, pes := range []iter.Seq[fieldpath.PathElement]{st.Members.All(), st.Children.All()} {
		for pe := range pes {
			if pe.FieldName != nil && !slices.Contains(names, *pe.FieldName) {
				names = append(names, *pe.FieldName)
			}
		}
	}
	return names
}

// CacheTransform is Mark as a cache transform.
func CacheTransform(in any) (any, error) {
	if o, ok := in.(metav1.Object); ok {
		Mark(o)
	}
	return in, nil
}

// Fields returns the top-level status fields of obj (of those in scope;
// all when scope is empty) that someone other than the operator wrote, and
// who wrote them, as the cache recorded them for obj's resourceVersion.
func Fields(obj metav1.Object, scope ...string) (fields, managers []string) {
	v, ok := records.Load(obj.GetUID())
	if !ok {
		return nil, nil
	}
	f := v.(foreign)
	if f.ResourceVersion != obj.GetResourceVersion() {
		return nil, nil
	}
	for _, name := range f.Fields {
		if len(scope) == 0 || slices.Contains(scope, name) {
			fields = append(fields, name)
		}
	}
	if len(fields) == 0 {
		return nil, nil
	}
	return fields, f.Managers
}

// Written is a predicate for controllers that otherwise react only
// to spec changes: it passes an update whose status now holds fields
// someone other than the operator wrote.
func Written() predicate.Funcs {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			f, _ := Fields(e.ObjectNew)
			return len(f) > 0
		},
	}
}
