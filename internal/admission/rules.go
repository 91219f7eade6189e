package admission

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// share judges a Share change by SPEC rules 1–5 (access.CheckShare).
func (v *Validator) share(ctx context.Context, req admission.Request) admission.Response {
	if resp, ok := collector(req); ok {
		return resp
	}
	after, before, err := decode(v, req, func() *iamv1alpha1.Share { return &iamv1alpha1.Share{} })
	if err != nil {
		return admission.Errored(400, err)
	}
	if after != nil && before != nil && equality.Semantic.DeepEqual(after.Spec, before.Spec) {
		return admission.Allowed("the sharing does not change")
	}
	if v.Admins.is(req.UserInfo) {
		return v.exempt(ctx, req, "Share")
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return errored(err)
	}
	me, ok := ix.UserForKubernetesName(req.UserInfo.Username)
	if !ok {
		return admission.Denied(notAUser(req.UserInfo.Username, req.Namespace, "share"))
	}
	if viol := access.CheckShare(ix, before, after, access.Requester{User: me}); viol != nil {
		return admission.Denied(viol.Message)
	}
	return admission.Allowed("")
}

// grant judges a ResourceGrant change: one cannot grant a permission one
// does not hold, and changing grants needs admin or editPermissions on the
// resource (access.CheckGrant).
func (v *Validator) grant(ctx context.Context, req admission.Request) admission.Response {
	if resp, ok := collector(req); ok {
		return resp
	}
	after, before, err := decode(v, req, func() *iamv1alpha1.ResourceGrant { return &iamv1alpha1.ResourceGrant{} })
	if err != nil {
		return admission.Errored(400, err)
	}
	if after != nil && before != nil && equality.Semantic.DeepEqual(after.Spec, before.Spec) {
		return admission.Allowed("the grant does not change")
	}
	if v.Admins.is(req.UserInfo) {
		return v.exempt(ctx, req, "ResourceGrant")
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return errored(err)
	}
	me, ok := ix.UserForKubernetesName(req.UserInfo.Username)
	if !ok {
		return admission.Denied(notAUser(req.UserInfo.Username, req.Namespace, "grant permissions"))
	}
	if viol := access.CheckGrant(ix, before, after, access.Requester{User: me}); viol != nil {
		return admission.Denied(viol.Message)
	}
	return admission.Allowed("")
}

func notAUser(username, ns, what string) string {
	return fmt.Sprintf("%s is not a Gatehouse User in namespace %s (no User has kubernetesUsername or login %q), so it cannot %s here; "+
		"ask an administrator to create your User, or to make the change.", username, ns, username, what)
}
