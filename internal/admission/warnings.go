package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// The checks below look at other objects, which in a GitOps apply may
// legitimately come later: they warn, and never reject. (Every Secret
// reference is a name in the object's own namespace: the API has no field
// that could name another.)

// connectionWarnings are about groups of usableBy/detailsReadableBy that
// do not exist and Secrets that are missing.
func (v *Validator) connectionWarnings(ctx context.Context, ns string, c *iamv1alpha1.Connection) []string {
	var warnings []string
	for field, a := range map[string]*iamv1alpha1.Audience{"usableBy": c.Spec.UsableBy, "detailsReadableBy": c.Spec.DetailsReadableBy} {
		if a == nil {
			continue
		}
		if missing := v.missingGroups(ctx, ns, a.Groups); len(missing) > 0 {
			warnings = append(warnings, fmt.Sprintf("spec.%s names groups that do not exist (yet): %s; they admit nobody until created", field, strings.Join(missing, ", ")))
		}
	}
	if ref := c.Spec.Credentials.SecretRef; ref != nil {
		warnings = append(warnings, v.missingSecret(ctx, ns, ref.Name, "spec.credentials.secretRef")...)
	}
	if o := c.Spec.Credentials.OAuth2; o != nil {
		warnings = append(warnings, v.missingSecret(ctx, ns, o.ClientSecretRef.Name, "spec.credentials.oauth2.clientSecretRef")...)
	}
	slices.Sort(warnings)
	return warnings
}

// group refuses a kubernetesGroup that names an administrator group (the
// operator would bind its Roles to every administrator, and membership of
// the Group would read as administrator membership), and warns when a
// deleted Group is still named by Shares or ResourceGrants.
func (v *Validator) group(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Group) (admission.Warnings, error) {
	if err := v.adminOnly(ctx, req, "Group", "a Group gives its members global permissions and access"); err != nil {
		return nil, err
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

// directory warns about missing Secrets and profiles the License lacks.
func (v *Validator) directory(ctx context.Context, req admission.Request, before, d *iamv1alpha1.Directory) (admission.Warnings, error) {
	if err := v.adminOnly(ctx, req, "Directory", "a Directory decides who the users are and which seats they take"); err != nil {
		return nil, err
	}
	if err := v.directorySecretsRule(ctx, req, before, d); err != nil {
		return nil, err
	}
	if d == nil {
		return nil, nil
	}
	var warnings admission.Warnings
	if ref := d.Spec.BindPasswordSecretRef; ref != nil {
		warnings = append(warnings, v.missingSecret(ctx, req.Namespace, ref.Name, "spec.bindPasswordSecretRef")...)
	}
	if d.Spec.TLS != nil && d.Spec.TLS.CASecretRef != nil {
		warnings = append(warnings, v.missingSecret(ctx, req.Namespace, d.Spec.TLS.CASecretRef.Name, "spec.tls.caSecretRef")...)
	}
	if l, err := v.license1(ctx, req.Namespace); err == nil && l != nil {
		known := map[string]bool{}
		for _, p := range l.Spec.Profiles {
			known[p.Name] = true
		}
		var unknown []string
		for _, m := range d.Spec.ProfileMappings {
			if !known[m.Profile] && !slices.Contains(unknown, m.Profile) {
				unknown = append(unknown, m.Profile)
			}
		}
		if d.Spec.DefaultProfile != "" && !known[d.Spec.DefaultProfile] && !slices.Contains(unknown, d.Spec.DefaultProfile) {
			unknown = append(unknown, d.Spec.DefaultProfile)
		}
		if len(unknown) > 0 {
			warnings = append(warnings, fmt.Sprintf("profiles %s are not in License %s; users mapped to them hold no seat", strings.Join(unknown, ", "), l.Name))
		}
	}
	return warnings, nil
}

func (v *Validator) missingGroups(ctx context.Context, ns string, names []string) []string {
	var missing []string
	for _, n := range names {
		var g iamv1alpha1.Group
		if err := v.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: n}, &g); apierrors.IsNotFound(err) {
			missing = append(missing, n)
		}
	}
	return missing
}

// missingSecret reads only the Secret's metadata (PartialObjectMetadata),
// never its data.
func (v *Validator) missingSecret(ctx context.Context, ns, name, field string) []string {
	if v.APIReader == nil || name == "" {
		return nil
	}
	s := &metav1.PartialObjectMetadata{}
	s.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := v.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); apierrors.IsNotFound(err) {
		return []string{fmt.Sprintf("%s: Secret %s does not exist (yet) in namespace %s; the object is not Ready until it does", field, name, ns)}
	}
	return nil
}
