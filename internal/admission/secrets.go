package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/credentials"
)

// The Secrets a Connection or Directory names: the requester must be able
// to get each itself (a SubjectAccessReview with its user, groups, uid and
// extra), or the operator would read, send and grant for it what it cannot
// read (the confused deputy). Nobody is exempt, the break-glass group and
// the configured administrators included; the check fails closed.
//
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// mayGetSecret asks the API server whether the requester may get Secret
// ns/name.
func (v *Validator) mayGetSecret(ctx context.Context, req admission.Request, ns, name string) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, vals := range req.UserInfo.Extra {
		extra[k] = authorizationv1.ExtraValue(vals)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: req.UserInfo.Username, Groups: req.UserInfo.Groups, UID: req.UserInfo.UID, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "get", Resource: "secrets", Name: name},
	}}
	if err := v.Authorizer.Create(ctx, sar); err != nil {
		return false, fmt.Errorf("cannot ask the API server whether %s may read Secret %s/%s: %w", req.UserInfo.Username, ns, name, err)
	}
	return sar.Status.Allowed, nil
}

// checkSecretsReadable refuses the request unless its requester may get
// every Secret named (field -> Secret name).
func (v *Validator) checkSecretsReadable(ctx context.Context, req admission.Request, kind string, named map[string]string) error {
	fields := make([]string, 0, len(named))
	for f := range named {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		ok, err := v.mayGetSecret(ctx, req, req.Namespace, named[f])
		if err != nil {
			return unavailable(err)
		}
		if !ok {
			return deny("%s cannot %s %s %s/%s naming Secret %s (%s): it may not read that Secret itself, and Gatehouse uses a Secret only for those who may; "+
				"name a Secret you may read, or ask its owner (or an administrator) for get on it.",
				req.UserInfo.Username, verb(req.Operation), kind, req.Namespace, req.Name, named[f], f)
		}
	}
	return nil
}

// connectionSecrets are the Secrets a Connection names, by field.
func connectionSecrets(c *iamv1alpha1.Connection) map[string]string {
	out := map[string]string{}
	if ref := c.Spec.Credentials.SecretRef; ref != nil && ref.Name != "" {
		out["spec.credentials.secretRef"] = ref.Name
	}
	if o := c.Spec.Credentials.OAuth2; o != nil && o.ClientSecretRef.Name != "" {
		out["spec.credentials.oauth2.clientSecretRef"] = o.ClientSecretRef.Name
	}
	return out
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

// connectionWriter judges who writes a Connection: administrators, or a
// user holding createPersonalConnections for a personal connection (one
// that only groups it belongs to may use and read, recorded as its own by
// the created-by annotation; it may then change or delete only its own).
func (v *Validator) connectionWriter(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Connection) error {
	admin, err := v.administrator(ctx, req)
	if err != nil {
		return unavailable(err)
	}
	if admin {
		if v.Admins.is(req.UserInfo) {
			v.exempt(ctx, req, "Connection")
		}
		return nil
	}
	who := req.UserInfo.Username
	refuse := func(format string, args ...any) error {
		return denial(fmt.Sprintf("%s cannot %s Connection %s/%s: ", who, verb(req.Operation), req.Namespace, req.Name) + fmt.Sprintf(format, args...))
	}
	if before != nil && before.Annotations[iamv1alpha1.AnnotationCreatedBy] != who {
		return refuse("only administrators and its creator change a Connection, and annotation %s says it is not yours; ask an administrator.", iamv1alpha1.AnnotationCreatedBy)
	}
	if after == nil {
		return nil // deleting one's own
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return unavailable(err)
	}
	me, ok := ix.UserForKubernetesName(who)
	if !ok {
		return denial(notAUser(ix, who, req.Namespace, "create connections"))
	}
	if !ix.HoldsGlobal(me, "createPersonalConnections") {
		return refuse("creating connections needs administrator rights or the global permission createPersonalConnections, which %s does not hold; ask an administrator.", me)
	}
	if got := after.Annotations[iamv1alpha1.AnnotationCreatedBy]; got != who {
		return refuse("a personal connection records its creator: set annotation %s: %q (it cannot change later).", iamv1alpha1.AnnotationCreatedBy, who)
	}
	var mine []string
	if r := ix.ComputeUser(me); r != nil {
		mine = r.Groups
	}
	for field, a := range map[string]*iamv1alpha1.Audience{"usableBy": after.Spec.UsableBy, "detailsReadableBy": after.Spec.DetailsReadableBy} {
		if a == nil || a.Mode == "" || a.Mode == iamv1alpha1.AudienceNone {
			continue
		}
		if a.Mode == iamv1alpha1.AudienceAll {
			return refuse("a personal connection may be used and read only by groups you belong to, and spec.%s is All; name your groups (%s) instead.", field, strings.Join(mine, ", "))
		}
		for _, g := range a.Groups {
			if !slices.Contains(mine, g) {
				return refuse("a personal connection may be used and read only by groups you belong to, and spec.%s names Group %s, which %s is not in.", field, g, me)
			}
		}
	}
	return nil
}

// connection judges a Connection change: who writes it (connectionWriter),
// that its requester may read the Secrets it names whenever what they are
// used for changes, and warns about groups and Secrets that do not exist.
func (v *Validator) connection(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Connection) (admission.Warnings, error) {
	if err := v.connectionWriter(ctx, req, before, after); err != nil {
		return nil, err
	}
	if after == nil {
		return nil, nil
	}
	if before == nil || !equality.Semantic.DeepEqual(before.Spec, after.Spec) {
		if err := v.checkSecretsReadable(ctx, req, "Connection", connectionSecrets(after)); err != nil {
			return nil, err
		}
	}
	return v.connectionWarnings(ctx, req.Namespace, after), nil
}

// directoryUse is what a Directory's Secrets are used for: a change to any
// of it checks again that the requester may read them.
func directoryUse(d *iamv1alpha1.Directory) any {
	return []any{d.Spec.URL, d.Spec.StartTLS, d.Spec.TLS, d.Spec.BindDN, d.Spec.BindPasswordSecretRef, d.Spec.AllowPlaintextBind}
}

// directorySecretsRule judges a Directory's Secrets and bind: the requester
// may read them, and a password bind over ldap:// without StartTLS is
// refused unless the Directory allows it in so many words.
func (v *Validator) directorySecretsRule(ctx context.Context, req admission.Request, before, after *iamv1alpha1.Directory) error {
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

// The marker: only someone who may get a Secret may mark it for a
// Gatehouse object, and only a Secret of a type Gatehouse uses. The webhook
// sees only Secrets carrying the label, before or after (its objectSelector),
// so the rest of the cluster's Secrets never depend on Gatehouse.
//
// +kubebuilder:webhook:path=/validate-secret-marker,mutating=false,failurePolicy=fail,sideEffects=None,groups="",resources=secrets,verbs=create;update,versions=v1,name=secrets.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10

// secretMarker judges the marker label of a Secret. A raw handler, to keep
// its rule exact: unlike the others it admits no collector's update first.
func (v *Validator) secretMarker(ctx context.Context, req admission.Request) admission.Response {
	after, before, err := decode(v, req, func() *corev1.Secret { return &corev1.Secret{} })
	if err != nil {
		return admission.Errored(400, err)
	}
	if after == nil {
		return admission.Allowed("")
	}
	mark, marked := after.Labels[iamv1alpha1.LabelCredentialFor]
	if !marked {
		return admission.Allowed("not marked")
	}
	if !credentials.TypeAllowed(after.Type) {
		return admission.Denied(fmt.Sprintf("Secret %s/%s is of type %s, which Gatehouse never uses as a credential; remove label %s, or put the credential in an Opaque, kubernetes.io/basic-auth or kubernetes.io/ssh-auth Secret.",
			req.Namespace, req.Name, after.Type, iamv1alpha1.LabelCredentialFor))
	}
	if before != nil && before.Labels[iamv1alpha1.LabelCredentialFor] == mark {
		return admission.Allowed("the marker does not change")
	}
	ok, err := v.mayGetSecret(ctx, req, req.Namespace, req.Name)
	if err != nil {
		return errored(err)
	}
	if !ok {
		return admission.Denied(fmt.Sprintf("%s cannot mark Secret %s/%s for %s: only someone who may read a Secret may hand it to Gatehouse (label %s); ask its owner.",
			req.UserInfo.Username, req.Namespace, req.Name, mark, iamv1alpha1.LabelCredentialFor))
	}
	return admission.Allowed("")
}

// Per-user credentials are their user's: a Secret carrying the label
// iam.gatehouse.dev/user (its objectSelector; the rest of the cluster's
// Secrets never reach this webhook) is created, changed, relabelled or
// deleted only by the User the label names, before and after, or by an
// administrator (a platform service storing credentials for users is
// configured as one). Only the types Gatehouse uses are admitted.
//
// +kubebuilder:webhook:path=/validate-user-credential,mutating=false,failurePolicy=fail,sideEffects=None,groups="",resources=secrets,verbs=create;update;delete,versions=v1,name=usercredentials.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10

// userCredential judges a per-user credential Secret.
func (v *Validator) userCredential(ctx context.Context, req admission.Request, before, after *corev1.Secret) (admission.Warnings, error) {
	if after != nil && after.Labels[iamv1alpha1.LabelUser] != "" && !credentials.TypeAllowed(after.Type) {
		return nil, deny("Secret %s/%s is of type %s, which Gatehouse never uses as a credential; store a per-user credential in an Opaque, kubernetes.io/basic-auth or kubernetes.io/ssh-auth Secret.",
			req.Namespace, req.Name, after.Type)
	}
	admin, err := v.administrator(ctx, req)
	if err != nil {
		return nil, unavailable(err)
	}
	if admin {
		return nil, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return nil, unavailable(err)
	}
	me, _ := ix.UserForKubernetesName(req.UserInfo.Username)
	for _, s := range []*corev1.Secret{before, after} {
		if s == nil {
			continue
		}
		if owner := s.Labels[iamv1alpha1.LabelUser]; owner != "" && owner != me {
			return nil, deny("%s cannot %s Secret %s/%s: it is User %s's credential (label %s), and only that user or an administrator writes it; store your own with kubectl gatehouse credentials set.",
				req.UserInfo.Username, verb(req.Operation), req.Namespace, req.Name, owner, iamv1alpha1.LabelUser)
		}
	}
	return nil, nil // one's own credential
}
