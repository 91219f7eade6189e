package admission

import (
	"context"
	"fmt"
	"slices"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
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

// The checks below look at other objects, which in a GitOps apply may
// legitimately come later: they warn, and never reject. (Every Secret
// reference is a name in the object's own namespace: the API has no field
// that could name another.)

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

// The marker: only someone who may get a Secret may mark it for a
// Gatehouse object, and only a Secret of a type Gatehouse uses. The webhook
// sees only Secrets carrying the label, before or after (its objectSelector),
// so the rest of the cluster's Secrets never depend on Gatehouse.
//
// +kubebuilder:webhook:path=/validate-secret-marker,mutating=false,failurePolicy=fail,sideEffects=None,groups="",resources=secrets,verbs=create;update,versions=v1,name=secrets.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10

// secretMarker judges the marker label of a Secret. It refuses, for
// everyone, administrators included, a marked Secret of a type Gatehouse
// never uses as a credential, and a new or changed marker set by someone
// who may not read the Secret. A raw handler, to keep its rule exact:
// unlike the others it admits no collector's update first.
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
	if !outbound.TypeAllowed(after.Type) {
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

// userCredential judges a per-user credential Secret. It refuses, for
// everyone, one of a type Gatehouse never uses as a credential, and a
// change of its per-user labels (set at creation only: issue 24, finding
// 3); and, for everyone but administrators, any write to a Secret labelled
// as another User's, before or after.
func (v *Validator) userCredential(ctx context.Context, req admission.Request, before, after *corev1.Secret) (admission.Warnings, error) {
	if after != nil && after.Labels[iamv1alpha1.LabelUser] != "" && !outbound.TypeAllowed(after.Type) {
		return nil, deny("Secret %s/%s is of type %s, which Gatehouse never uses as a credential; store a per-user credential in an Opaque, kubernetes.io/basic-auth or kubernetes.io/ssh-auth Secret.",
			req.Namespace, req.Name, after.Type)
	}
	if before != nil && after != nil {
		for _, l := range []string{iamv1alpha1.LabelUser, iamv1alpha1.LabelConnection} {
			if before.Labels[l] != after.Labels[l] {
				return nil, deny("%s cannot relabel Secret %s/%s: labels %s and %s are set when a per-user credential is created and never after, by anyone (labelling a Secret one cannot read would hand it to a user, and a newer credential would then replace it); create a new Secret instead: kubectl gatehouse credentials set.",
					req.UserInfo.Username, req.Namespace, req.Name, iamv1alpha1.LabelUser, iamv1alpha1.LabelConnection)
			}
		}
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
