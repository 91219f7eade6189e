package admission

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// status admits a write to the status of any Gatehouse kind from the
// operator alone: status is what Gatehouse computed, and a status someone
// else wrote (a seat, a permission, a member count) would be believed by
// whoever reads it. No administrator or break-glass identity is exempt.
// The controllers also remove, independently of this webhook, any status
// field someone else wrote (internal/statusowner).
//
// A raw handler: it judges seven kinds' /status by the requester alone,
// and decodes no object.
func (v *Validator) status(_ context.Context, req admission.Request) admission.Response {
	if req.UserInfo.Username == v.Admins.Self {
		return admission.Allowed("the operator")
	}
	kind := req.Kind.Kind
	if kind == "" {
		kind = strings.TrimSuffix(req.Resource.Resource, "s")
	}
	return admission.Denied(fmt.Sprintf("only the Gatehouse operator writes the status of %s %s/%s (it computes it from the spec of the namespace's objects); "+
		"%s cannot. Change the spec instead, and the operator recomputes the status.",
		kind, req.Namespace, req.Name, req.UserInfo.Username))
}
