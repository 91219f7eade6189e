package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/history"
)

// user judges a User change. It refuses, for everyone, administrators
// included, a login another User has and a Kubernetes identity another
// User claims or that belongs to Kubernetes (system:) (userIdentity); for
// everyone but administrators, creating or deleting a User, changing
// another person's User, and changing one's own beyond its display name
// and e-mail (selfEdit); and, for everyone but the configured
// administrator identities, a new active Local user (or a re-activation,
// or a move to another profile) into a full profile, and a profile the
// License does not have. Directory-managed users are never refused for
// seats: they wait Pending.
func (v *Validator) user(ctx context.Context, req admission.Request, before, after *iamv1alpha1.User) (admission.Warnings, error) {
	if after == nil {
		if orphans(req) && !v.Admins.is(req.UserInfo) {
			return nil, deny("%s cannot delete User %s/%s leaving its dependents behind (propagationPolicy Orphan): its credential Secrets would outlive it, and a User created again under its name would take them; only the configured administrators (--admin-groups, --admin-users) may; delete it with the default propagation.",
				req.UserInfo.Username, req.Namespace, req.Name)
		}
		return nil, v.adminOnly(ctx, req, "User", "deleting a User ends a person's access and frees its seat")
	}
	if err := v.userIdentity(ctx, req, before, after); err != nil {
		return nil, err
	}
	if before == nil {
		if err := v.adminOnly(ctx, req, "User", "a User is a person's seat and access"); err != nil {
			return nil, err
		}
	} else if self, err := v.selfEdit(ctx, req, before, after); self || err != nil {
		return nil, err
	}
	if v.Admins.is(req.UserInfo) {
		v.exempt(ctx, req, "User")
		return nil, nil
	}
	if before != nil && before.Spec.KubernetesIdentity() != after.Spec.KubernetesIdentity() {
		return nil, deny("%s cannot change the Kubernetes identity of User %s/%s (from %q to %q): a User's identity is what its per-user credentials and Roles are bound to, so only the configured administrators (--admin-groups, --admin-users) change it; ask one.",
			req.UserInfo.Username, req.Namespace, req.Name, before.Spec.KubernetesIdentity(), after.Spec.KubernetesIdentity())
	}
	if !access.ClaimsSeat(before, after) {
		return nil, nil
	}
	license, err := v.licenseInForce(ctx, req.Namespace)
	if err != nil {
		return nil, unavailable(err)
	}
	if license == nil {
		return admission.Warnings{fmt.Sprintf("namespace %s has no License, so %s holds no seat until one is applied", req.Namespace, after.Spec.Login)}, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return nil, unavailable(err)
	}
	if why := access.WhyNoSeat(ix.Profiles(), after.Spec.Profile, req.Namespace+"/"+license.Name); why != "" {
		return nil, denial(why)
	}
	return nil, nil
}

// selfEdit judges a change to an existing User: an administrator's goes on
// to the other rules; the person the User stands for may change only its
// display name and e-mail (self: admitted at once): groups, profile,
// active, organization, source, directory, authMethod and Kubernetes
// identity are administrators' (flipping source to Local, say, would
// escape the directory).
func (v *Validator) selfEdit(ctx context.Context, req admission.Request, before, after *iamv1alpha1.User) (self bool, err error) {
	admin, err := v.administrator(ctx, req)
	if err != nil {
		return false, unavailable(err)
	}
	if admin {
		return false, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return false, unavailable(err)
	}
	if me, ok := ix.UserForKubernetesName(req.UserInfo.Username); ok && me == before.Name {
		if r := ix.ComputeUser(me); r == nil || r.Seat != iamv1alpha1.SeatGranted {
			return false, deny("%s is inactive or holds no seat, so it cannot change its own User %s/%s; ask an administrator.",
				req.UserInfo.Username, req.Namespace, before.Name)
		}
		if access.SelfEditable(before, after) {
			if why := history.Judge(before, after, selfPaths); why != "" {
				return false, deny("%s cannot make this change of its own User %s/%s: %s; a person may claim in the apply history only spec.displayName and spec.email.",
					req.UserInfo.Username, req.Namespace, before.Name, why)
			}
			return true, nil // one's own display name and e-mail
		}
		return false, deny("%s may change only spec.displayName and spec.email of its own User %s/%s; "+
			"its groups, profile, activity, organization, source, directory, authMethod, Kubernetes identity and metadata are administrators' to change: ask one.",
			req.UserInfo.Username, req.Namespace, before.Name)
	}
	return false, deny("%s cannot change User %s/%s: only administrators (the groups of --admin-groups, or a User holding admin) change other people's Users; ask one.",
		req.UserInfo.Username, req.Namespace, before.Name)
}

// orphans reports whether a DELETE asks to leave the object's dependents
// behind (propagationPolicy Orphan, or the deprecated orphanDependents).
func orphans(req admission.Request) bool {
	var opts metav1.DeleteOptions
	if len(req.Options.Raw) == 0 || json.Unmarshal(req.Options.Raw, &opts) != nil {
		return false
	}
	return (opts.PropagationPolicy != nil && *opts.PropagationPolicy == metav1.DeletePropagationOrphan) ||
		(opts.OrphanDependents != nil && *opts.OrphanDependents) //nolint:staticcheck // the API server still honours it
}

// selfPaths are access.SelfEditablePaths as field paths.
var selfPaths = history.Paths(access.SelfEditablePaths)

// userIdentity judges the login and the Kubernetes identity of a User, for
// everyone: two Users standing for one identity would let either act as
// the other. A User that already collides (made while the webhook was
// down, or before this rule) may still be changed in any way that keeps or
// frees its identity, deactivated or deleted; it is judged as nobody until
// the collision ends (access.Index.UserForKubernetesName).
func (v *Validator) userIdentity(ctx context.Context, req admission.Request, before, after *iamv1alpha1.User) error {
	id := after.Spec.KubernetesIdentity()
	if before != nil && before.Spec.KubernetesIdentity() == id {
		return nil
	}
	if strings.HasPrefix(id, "system:") {
		return deny("login %q would stand for the Kubernetes identity %q, and system: names belong to Kubernetes itself; "+
			"set spec.kubernetesUsername to the identity this person's requests carry.", after.Spec.Login, id)
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return unavailable(err)
	}
	if before == nil {
		for _, name := range ix.UsersWithLogin(after.Spec.Login) {
			if name != after.Name {
				return deny("login %q is already User %s's in namespace %s; a login names one user: pick another login or edit User %s.",
					after.Spec.Login, name, req.Namespace, name)
			}
		}
	}
	for _, name := range ix.UsersClaiming(id) {
		if name != after.Name {
			return deny("the Kubernetes identity %q is already User %s's in namespace %s (its %s); one identity stands for one user, "+
				"or either could act as the other: set a different spec.kubernetesUsername, or change User %s first.",
				id, name, req.Namespace, identityField(ix, name), name)
		}
	}
	return nil
}

// identityField names where User name's Kubernetes identity comes from.
func identityField(ix *access.Index, name string) string {
	if ix.SetsKubernetesUsername(name) {
		return "spec.kubernetesUsername"
	}
	return "login, as it sets no spec.kubernetesUsername"
}
