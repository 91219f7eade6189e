package admission

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// The perimeter: who may write each kind at all, whatever RBAC allows
// (SPEC "The perimeter"). Administrators are the configured identities
// (--admin-groups, --admin-users), the operator, and active seated Users
// holding admin; the License is the configured identities' alone.

// systemCollectors are the identities of Kubernetes' namespace controller
// and garbage collector: with --use-service-account-credentials their own
// ServiceAccounts, else kube-controller-manager's user.
var systemCollectors = []string{
	"system:serviceaccount:kube-system:namespace-controller",
	"system:serviceaccount:kube-system:generic-garbage-collector",
	"system:kube-controller-manager",
}

// collector admits the namespace controller's and the garbage collector's
// deletes, and their updates that only remove finalizers or owner
// references, so that a namespace can be deleted and owned objects
// collected whatever the other rules say.
func collector(req admission.Request) (why string, ok bool) {
	if !slices.Contains(systemCollectors, req.UserInfo.Username) {
		return "", false
	}
	switch req.Operation {
	case admissionv1.Delete:
		return "the namespace controller or garbage collector deletes", true
	case admissionv1.Update:
		if onlyRemovesFinalizersOrOwners(req.OldObject.Raw, req.Object.Raw) {
			return "the namespace controller or garbage collector removes a finalizer or owner reference", true
		}
	}
	return "", false
}

// onlyRemovesFinalizersOrOwners reports whether after is before with some
// finalizers or owner references removed and nothing else changed.
func onlyRemovesFinalizersOrOwners(beforeRaw, afterRaw []byte) bool {
	var before, after map[string]any
	if json.Unmarshal(beforeRaw, &before) != nil || json.Unmarshal(afterRaw, &after) != nil {
		return false
	}
	bm, _ := before["metadata"].(map[string]any)
	am, _ := after["metadata"].(map[string]any)
	if bm == nil || am == nil {
		return false
	}
	for _, key := range []string{"finalizers", "ownerReferences"} {
		b, _ := bm[key].([]any)
		a, _ := am[key].([]any)
		for _, x := range a {
			if !slices.ContainsFunc(b, func(y any) bool { return reflect.DeepEqual(x, y) }) {
				return false
			}
		}
		delete(bm, key)
		delete(am, key)
	}
	for _, key := range []string{"managedFields", "resourceVersion"} {
		delete(bm, key)
		delete(am, key)
	}
	return reflect.DeepEqual(before, after)
}

// administrator reports whether the request comes from an administrator:
// a configured identity (or the operator), or the active, seated User of
// the namespace it stands for holding admin.
func (v *Validator) administrator(ctx context.Context, req admission.Request) (bool, error) {
	if v.Admins.is(req.UserInfo) {
		return true, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return false, err
	}
	me, ok := ix.UserForKubernetesName(req.UserInfo.Username)
	return ok && ix.HoldsAdmin(me), nil
}

// adminOnly refuses the request unless it comes from an administrator
// (and records a configured identity's change in the audit log); why says
// why the change is an administrator's.
func (v *Validator) adminOnly(ctx context.Context, req admission.Request, kind, why string) error {
	ok, err := v.administrator(ctx, req)
	if err != nil {
		return unavailable(err)
	}
	if ok {
		if v.Admins.is(req.UserInfo) {
			v.exempt(ctx, req, kind)
		}
		return nil
	}
	return deny("%s cannot %s %s %s/%s: %s, so only administrators may (the groups of --admin-groups, or a User holding admin); ask one.",
		who(req.UserInfo), verb(req.Operation), kind, req.Namespace, req.Name, why)
}

func who(u authenticationv1.UserInfo) string { return u.Username }

func verb(op admissionv1.Operation) string {
	switch op {
	case admissionv1.Create:
		return "create"
	case admissionv1.Delete:
		return "delete"
	}
	return "change"
}

// selfEditable reports whether a change to a User touches only what its
// own person may change: the display name and e-mail (and kubectl's record
// of its last apply).
func selfEditable(before, after *iamv1alpha1.User) bool {
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
