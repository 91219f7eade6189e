package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// licenseInForce returns the namespace's License in force, nil if none.
func (v *Validator) licenseInForce(ctx context.Context, ns string) (*iamv1alpha1.License, error) {
	var list iamv1alpha1.LicenseList
	if err := v.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("cannot list the Licenses of %s: %w", ns, err)
	}
	return access.LicenseInForce(list.Items), nil
}

// license judges a License change. It refuses any change by anyone but the
// configured administrator identities (a User holding admin included: the
// License holds the seats bought from the vendor); for them, a second
// License in a namespace. It warns when a change takes seats from users:
// who will lose them, the newest first.
func (v *Validator) license(ctx context.Context, req admission.Request, before, after *iamv1alpha1.License) (admission.Warnings, error) {
	if !v.Admins.is(req.UserInfo) {
		return nil, deny("%s cannot %s License %s/%s: the License holds the seats bought from the vendor, so only the configured administrator identities (--admin-groups, --admin-users) change it, not a User holding admin; ask your platform team.",
			req.UserInfo.Username, verb(req.Operation), req.Namespace, req.Name)
	}
	if after == nil {
		return nil, nil
	}
	var list iamv1alpha1.LicenseList
	if err := v.Client.List(ctx, &list, client.InNamespace(req.Namespace)); err != nil {
		return nil, unavailable(fmt.Errorf("cannot list the Licenses: %w", err))
	}
	for _, l := range list.Items {
		if l.Name != after.Name {
			return nil, deny("namespace %s already has License %s, and a namespace has one License; edit License %s instead (add the profile there).",
				req.Namespace, l.Name, l.Name)
		}
	}
	if before == nil {
		return nil, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return nil, unavailable(err)
	}
	var warnings admission.Warnings
	for _, loss := range ix.SeatsLost(before, after) {
		n := len(loss.Losing)
		if loss.Removed {
			warnings = append(warnings, fmt.Sprintf("profile %s is removed: %s %s (%s)", loss.Profile, words.Count(n, "user", "users"), words.Plural(n, "loses its seat", "lose their seats"), strings.Join(loss.Losing, ", ")))
			continue
		}
		losing := slices.Clone(loss.Losing)
		slices.Reverse(losing)
		warnings = append(warnings, fmt.Sprintf("profile %s shrinks to %s for %s: %s will lose %s (the newest first) and wait Pending",
			loss.Profile, words.Count(loss.Seats, "seat", "seats"), words.Count(loss.Active, "active user", "active users"), words.List(losing), words.Plural(n, "its seat", "their seats")))
	}
	return warnings, nil
}
