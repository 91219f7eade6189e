package admission

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/history"
)

// resourceGrant judges a ResourceGrant change. For everyone but the
// configured administrator identities (whose changes are audited), it
// refuses a requester that is no Gatehouse User, granting a permission one
// does not hold, and changing grants without admin or editPermissions on
// the resource (access.CheckGrant), and changing labels, annotations and
// finalizers and owner references as access.CheckGrantMeta says, and an
// apply history claiming a path it may not change (internal/history,
// access.Index.GrantWritablePaths). A change that leaves the grant and its
// history as they were passes for everyone.
func (v *Validator) resourceGrant(ctx context.Context, req admission.Request, before, after *iamv1alpha1.ResourceGrant) (admission.Warnings, error) {
	sameGrant := after != nil && before != nil && equality.Semantic.DeepEqual(after.Spec, before.Spec)
	if sameGrant && access.SameMeta(before, after) && history.Same(before, after) {
		return nil, nil // the grant does not change, nor its apply history
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
	if before != nil && after != nil {
		if why := history.Judge(before, after, history.Paths(ix.GrantWritablePaths(before, r))); why != "" {
			return nil, deny("%s cannot make this change of ResourceGrant %s: %s.", me, after.Name, why)
		}
	}
	return nil, nil
}
