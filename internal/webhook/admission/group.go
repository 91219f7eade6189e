package admission

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// group judges a Group change. It refuses any change by anyone but
// administrators (a Group gives its members global permissions and
// access); for everyone, administrators included, a new kubernetesGroup
// that names a system: or administrator group (access.ForbiddenKubernetesGroup:
// the operator would bind its Roles to every administrator, and membership
// of the Group would read as administrator membership). It warns when a
// deleted Group is still named by Shares or ResourceGrants.
func (v *Validator) group(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Group) (admission.Warnings, error) {
	if err := v.adminOnly(ctx, req, "Group", "a Group gives its members global permissions and access"); err != nil {
		return nil, err
	}
	if before != nil && after != nil && before.Spec.KubernetesGroup != after.Spec.KubernetesGroup && !v.Admins.is(req.UserInfo) {
		return nil, deny("%s cannot change spec.kubernetesGroup of Group %s/%s: the API-server group its members' Roles are bound to is the configured administrators' (--admin-groups, --admin-users) to change; ask one.",
			req.UserInfo.Username, req.Namespace, req.Name)
	}
	if after != nil {
		kg := after.Spec.KubernetesGroup
		if why := v.Admins.ForbiddenKubernetesGroup(kg); why != "" {
			if before != nil && before.Spec.KubernetesGroup == kg {
				// Made before the rule: it may still be edited or deleted,
				// and the controller binds nothing to it.
				return admission.Warnings{fmt.Sprintf("spec.kubernetesGroup %q %s; nothing is bound to it until it changes", kg, why)}, nil
			}
			return nil, deny("spec.kubernetesGroup %q %s, so Gatehouse will not bind Roles to it; "+
				"name the API-server group this group's own members carry, or leave it empty.", kg, why)
		}
		return nil, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return nil, nil // a warning only: never refuse for it
	}
	shares, grants := ix.GroupNamers(req.Name)
	var names []string
	for _, s := range shares {
		names = append(names, "Share "+s)
	}
	for _, g := range grants {
		names = append(names, "ResourceGrant "+g)
	}
	if len(names) == 0 {
		return nil, nil
	}
	return admission.Warnings{fmt.Sprintf("group %s is still named by %s; its members lose what those give through it",
		req.Name, strings.Join(names, ", "))}, nil
}
