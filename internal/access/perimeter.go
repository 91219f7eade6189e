package access

import (
	"slices"
	"strings"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// ForbiddenKubernetesGroup says why a Group may not map onto the API-server
// group kg ("" when it may): a system: group belongs to Kubernetes
// (system:authenticated is everyone; the CRD refuses these too), and an
// administrator group (adminGroups: --admin-groups and the break-glass
// group) would make every administrator a member and give the Group's
// Roles to them. The webhook refuses such a Group and the controllers bind
// nothing to it.
func ForbiddenKubernetesGroup(kg string, adminGroups []string) string {
	switch {
	case kg == "":
		return ""
	case strings.HasPrefix(kg, "system:"):
		return "is a system: group, which belongs to Kubernetes"
	case slices.Contains(adminGroups, kg):
		return "is an administrator or break-glass group of Gatehouse"
	}
	return ""
}

// HoldsAdmin reports whether User name holds the global permission admin:
// active, seated, in a group giving it, within its profile. Such a User is
// an administrator of the namespace (SPEC "The perimeter").
func (ix *Index) HoldsAdmin(name string) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	u := ix.users[name]
	if u == nil {
		return false
	}
	return slices.Contains(ix.computeUser(u).GlobalPermissions, iamv1alpha1.GlobalAdmin)
}
