package admission

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// share judges a Share change by SPEC rules 1–5 (access.CheckShare), and
// what it does besides its grantees (access.CheckShareMeta: the note,
// labels, annotations, finalizers).
func (v *Validator) share(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Share) (admission.Warnings, error) {
	sameSharing := after != nil && before != nil && after.Spec.Resource == before.Spec.Resource &&
		equality.Semantic.DeepEqual(after.Spec.Grantees, before.Spec.Grantees)
	if sameSharing && after.Spec.Note == before.Spec.Note && access.SameMeta(before, after) {
		return nil, nil // the sharing does not change
	}
	if v.Admins.is(req.UserInfo) {
		v.exempt(ctx, req, "Share")
		return nil, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return nil, unavailable(err)
	}
	me, ok := ix.UserForKubernetesName(req.UserInfo.Username)
	if !ok {
		return nil, denial(notAUser(ix, req.UserInfo.Username, req.Namespace, "share"))
	}
	r := access.Requester{User: me}
	if !sameSharing {
		if viol := access.CheckShare(ix, before, after, r); viol != nil {
			return nil, denial(viol.Message)
		}
	}
	if viol := access.CheckShareMeta(ix, before, after, r); viol != nil {
		return nil, denial(viol.Message)
	}
	return nil, nil
}

// grant judges a ResourceGrant change: one cannot grant a permission one
// does not hold, and changing grants needs admin or editPermissions on the
// resource (access.CheckGrant); its labels, annotations and finalizers as
// access.CheckGrantMeta says.
func (v *Validator) grant(ctx context.Context, req admission.Request, before, after *iamv1alpha1.ResourceGrant) (admission.Warnings, error) {
	sameGrant := after != nil && before != nil && equality.Semantic.DeepEqual(after.Spec, before.Spec)
	if sameGrant && access.SameMeta(before, after) {
		return nil, nil // the grant does not change
	}
	if v.Admins.is(req.UserInfo) {
		v.exempt(ctx, req, "ResourceGrant")
		return nil, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return nil, unavailable(err)
	}
	me, ok := ix.UserForKubernetesName(req.UserInfo.Username)
	if !ok {
		return nil, denial(notAUser(ix, req.UserInfo.Username, req.Namespace, "grant permissions"))
	}
	r := access.Requester{User: me}
	if !sameGrant {
		if viol := access.CheckGrant(ix, before, after, r); viol != nil {
			return nil, denial(viol.Message)
		}
	}
	if viol := access.CheckGrantMeta(ix, before, after, r); viol != nil {
		return nil, denial(viol.Message)
	}
	return nil, nil
}

// notAUser is the denial of a requester that is no Gatehouse User, with
// the reason the Index gives (access.Index.WhyNotAUser).
func notAUser(ix *access.Index, username, ns, what string) string {
	return fmt.Sprintf("%s is not a Gatehouse User in namespace %s, so it cannot %s here: %s.", username, ns, what, ix.WhyNotAUser(username))
}
