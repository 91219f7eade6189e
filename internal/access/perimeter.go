package access

import (
	"slices"
	"strings"
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
		return "is an administrator group of Gatehouse"
	}
	return ""
}
