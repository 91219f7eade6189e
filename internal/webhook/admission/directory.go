package admission

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// directory judges a Directory change. It refuses any change by anyone but
// administrators; for everyone, administrators included, a password bind
// in clear text and naming a Secret its requester may not read
// (directoryCredentials). It warns about missing Secrets and profiles the
// License lacks.
func (v *Validator) directory(ctx context.Context, req admission.Request, before, d *iamv1alpha1.Directory) (admission.Warnings, error) {
	if err := v.adminOnly(ctx, req, "Directory", "a Directory decides who the users are and which seats they take"); err != nil {
		return nil, err
	}
	if err := v.directoryCredentials(ctx, req, before, d); err != nil {
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
	if l, err := v.licenseInForce(ctx, req.Namespace); err == nil && l != nil {
		unknown := access.UnlicensedProfiles(d, l)
		if len(unknown) > 0 {
			warnings = append(warnings, fmt.Sprintf("profiles %s are not in License %s; users mapped to them hold no seat", strings.Join(unknown, ", "), l.Name))
		}
	}
	return warnings, nil
}

// directoryCredentials judges a Directory's Secrets and bind: the requester
// may read them, and a password bind over ldap:// without StartTLS is
// refused unless the Directory allows it in so many words.
func (v *Validator) directoryCredentials(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Directory) error {
	if after == nil {
		return nil
	}
	if after.Spec.BindPasswordSecretRef != nil && strings.HasPrefix(after.Spec.URL, "ldap://") && !after.Spec.StartTLS && !after.Spec.AllowPlaintextBind {
		return deny("Directory %s/%s would bind with a password over ldap:// without StartTLS, which sends the password in clear text to anyone on the path; "+
			"use ldaps:// or set spec.startTLS: true, or accept the risk with spec.allowPlaintextBind: true.", req.Namespace, req.Name)
	}
	if before == nil || !equality.Semantic.DeepEqual(directoryUse(before), directoryUse(after)) {
		return v.checkSecretsReadable(ctx, req, "Directory", directorySecrets(after))
	}
	return nil
}

// directoryUse is what a Directory's Secrets are used for: a change to any
// of it checks again that the requester may read them.
func directoryUse(d *iamv1alpha1.Directory) any {
	return []any{d.Spec.URL, d.Spec.StartTLS, d.Spec.TLS, d.Spec.BindDN, d.Spec.BindPasswordSecretRef, d.Spec.AllowPlaintextBind}
}

// directorySecrets are the Secrets a Directory names, by field.
func directorySecrets(d *iamv1alpha1.Directory) map[string]string {
	out := map[string]string{}
	if ref := d.Spec.BindPasswordSecretRef; ref != nil && ref.Name != "" {
		out["spec.bindPasswordSecretRef"] = ref.Name
	}
	if t := d.Spec.TLS; t != nil && t.CASecretRef != nil && t.CASecretRef.Name != "" {
		out["spec.tls.caSecretRef"] = t.CASecretRef.Name
	}
	return out
}
