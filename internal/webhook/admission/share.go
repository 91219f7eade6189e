package admission

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/history"
)

// share judges a Share change. For everyone but the configured
// administrator identities (whose changes are audited), it refuses a
// requester that is no Gatehouse User, a change of the sharing that breaks
// SPEC rules 1–5 (access.CheckShare), and a change of what the Share says
// besides its grantees that the requester may not make
// (access.CheckShareMeta: the note, labels, annotations, finalizers, owner
// references), and an apply history claiming a path it may not change
// (internal/history, access.Index.ShareWritablePaths). A change that leaves
// the sharing and its history as they were passes for everyone.
func (v *Validator) share(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Share) (admission.Warnings, error) {
	sameSharing := after != nil && before != nil && after.Spec.Resource == before.Spec.Resource &&
		equality.Semantic.DeepEqual(after.Spec.Grantees, before.Spec.Grantees)
	if sameSharing && after.Spec.Note == before.Spec.Note && access.SameMeta(before, after) && history.Same(before, after) {
		return nil, nil // the sharing does not change, nor its apply history
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
	if before != nil && after != nil {
		if why := history.Judge(before, after, history.Paths(ix.ShareWritablePaths(before, r))); why != "" {
			return nil, deny("%s cannot make this change of Share %s: %s.", me, after.Name, why)
		}
	}
	return nil, nil
}
