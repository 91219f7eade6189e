// Package admission holds Gatehouse's validating webhooks. Kubernetes RBAC
// decides who may create a Share at all; these decide whether the person
// making this request may make this change, by the sharing rules, the
// grant rule and the seats, and say why not in a sentence. The rules
// themselves are internal/access's (CheckShare, CheckGrant, WhyNoSeat,
// SelfEditable, ForbiddenKubernetesGroup, WhyNotPersonal ...): nothing here
// re-implements them. Each kind is judged in a file of its own (user.go,
// group.go, ...; secret.go for Secrets, status.go for every kind's status);
// this file holds what they share.
package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
)

// Paths of the webhooks, as the markers below name them.
const (
	PathShare          = "/validate-share"
	PathResourceGrant  = "/validate-resourcegrant"
	PathUser           = "/validate-user"
	PathLicense        = "/validate-license"
	PathConnection     = "/validate-connection"
	PathGroup          = "/validate-group"
	PathDirectory      = "/validate-directory"
	PathStatus         = "/validate-status"
	PathSecretMarker   = "/validate-secret-marker"
	PathUserCredential = "/validate-user-credential"
)

// The webhooks. Every one that enforces a perimeter rule fails closed
// (failurePolicy Fail) and judges CREATE, UPDATE and DELETE: a security
// check must not be skipped because the operator is down. The Secret
// marker's judges only Secrets that carry the marker (objectSelector), so
// the cluster's other Secrets never depend on Gatehouse.
//
// +kubebuilder:webhook:path=/validate-share,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=shares,verbs=create;update;delete,versions=v1alpha1,name=shares.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-resourcegrant,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=resourcegrants,verbs=create;update;delete,versions=v1alpha1,name=resourcegrants.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-user,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=users,verbs=create;update;delete,versions=v1alpha1,name=users.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-license,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=licenses,verbs=create;update;delete,versions=v1alpha1,name=licenses.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-connection,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=connections,verbs=create;update;delete,versions=v1alpha1,name=connections.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-group,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=groups,verbs=create;update;delete,versions=v1alpha1,name=groups.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-status,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=users/status;groups/status;licenses/status;directories/status;connections/status;resourcegrants/status;shares/status,verbs=create;update;delete,versions=v1alpha1,name=status.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-directory,mutating=false,failurePolicy=fail,sideEffects=None,groups=iam.gatehouse.dev,resources=directories,verbs=create;update;delete,versions=v1alpha1,name=directories.iam.gatehouse.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Validator holds what the webhooks read.
type Validator struct {
	// Engine gives the namespaces' permission indexes.
	Engine *engine.Engine
	// Client reads from the manager's cache.
	Client client.Reader
	// APIReader reads what the cache does not hold (Secrets), uncached.
	APIReader client.Reader
	// Authorizer creates SubjectAccessReviews (may the requester read a
	// Secret it names?).
	Authorizer client.Client
	// Scheme decodes the objects.
	Scheme *runtime.Scheme
	// Admins are the identities exempt from the rules.
	Admins Admins
	// Audit records the exempt changes.
	Audit *audit.Logger
	// ReadyTimeout is how long a request waits for the engine at start-up.
	ReadyTimeout time.Duration
}

// Admins are the identities exempt from the rules: the operator itself,
// members of the groups (system:masters by default; a GitOps service
// account is typically listed) and the users named.
type Admins struct {
	Groups []string
	Users  []string
	// BreakGlass is the break-glass group, which the webhook configuration
	// exempts from the Share and ResourceGrant webhooks only; it is no
	// administrator group, and no Group may map onto it.
	BreakGlass string
	// Self is the operator's own identity; its changes are not audited
	// (the directory sync would flood the log).
	Self string
}

// ForbiddenKubernetesGroup says why a Group may not map onto the API-server
// group kg ("" when it may), by access.ForbiddenKubernetesGroup.
func (a Admins) ForbiddenKubernetesGroup(kg string) string {
	return access.ForbiddenKubernetesGroup(kg, append(slices.Clip(a.Groups), a.BreakGlass))
}

// is reports whether the request comes from an administrator identity.
func (a Admins) is(u authenticationv1.UserInfo) bool {
	if u.Username == a.Self || slices.Contains(a.Users, u.Username) {
		return true
	}
	for _, g := range u.Groups {
		if slices.Contains(a.Groups, g) {
			return true
		}
	}
	return false
}

// Register adds the webhooks to the manager's webhook server: typed
// validators (admission.WithValidator of a judge), and raw handlers for
// the status and Secret marker webhooks (see each).
func (v *Validator) Register(srv webhook.Server) {
	for path, wh := range map[string]*webhook.Admission{
		PathShare:          admission.WithValidator[*iamv1alpha1.Share](v.Scheme, judge[*iamv1alpha1.Share](v.share)),
		PathResourceGrant:  admission.WithValidator[*iamv1alpha1.ResourceGrant](v.Scheme, judge[*iamv1alpha1.ResourceGrant](v.resourceGrant)),
		PathUser:           admission.WithValidator[*iamv1alpha1.User](v.Scheme, judge[*iamv1alpha1.User](v.user)),
		PathLicense:        admission.WithValidator[*iamv1alpha1.License](v.Scheme, judge[*iamv1alpha1.License](v.license)),
		PathConnection:     admission.WithValidator[*iamv1alpha1.Connection](v.Scheme, judge[*iamv1alpha1.Connection](v.connection)),
		PathGroup:          admission.WithValidator[*iamv1alpha1.Group](v.Scheme, judge[*iamv1alpha1.Group](v.group)),
		PathDirectory:      admission.WithValidator[*iamv1alpha1.Directory](v.Scheme, judge[*iamv1alpha1.Directory](v.directory)),
		PathUserCredential: admission.WithValidator[*corev1.Secret](v.Scheme, judge[*corev1.Secret](v.userCredential)),
		PathStatus:         {Handler: admission.HandlerFunc(v.status)},
		PathSecretMarker:   {Handler: admission.HandlerFunc(v.secretMarker)},
	} {
		srv.Register(path, wh)
	}
}

// judge is the rule of a webhook for objects of type T (a Gatehouse kind,
// or the per-user credential Secrets): before is nil on CREATE and after
// nil on DELETE; it returns the warnings, or an error whose message is the
// denial (or, made by unavailable, a failure to decide). As an
// admission.Validator it reads the request (who asks, the operation, the
// name) from the context, and admits the namespace controller's and the
// garbage collector's cleanup (collector) before any rule.
type judge[T runtime.Object] func(ctx context.Context, req admission.Request, before, after T) (admission.Warnings, error)

// ValidateCreate implements admission.Validator.
func (j judge[T]) ValidateCreate(ctx context.Context, obj T) (admission.Warnings, error) {
	var none T
	return j.call(ctx, none, obj)
}

// ValidateUpdate implements admission.Validator.
func (j judge[T]) ValidateUpdate(ctx context.Context, oldObj, newObj T) (admission.Warnings, error) {
	return j.call(ctx, oldObj, newObj)
}

// ValidateDelete implements admission.Validator.
func (j judge[T]) ValidateDelete(ctx context.Context, obj T) (admission.Warnings, error) {
	var none T
	return j.call(ctx, obj, none)
}

func (j judge[T]) call(ctx context.Context, before, after T) (admission.Warnings, error) {
	req, err := admission.RequestFromContext(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	if _, ok := collector(req); ok {
		return nil, nil
	}
	return j(ctx, req, before, after)
}

// denial is a judge's refusal: its text is the sentence the requester
// reads, whole (so not an error string of the usual kind).
type denial string

func (d denial) Error() string { return string(d) }

// deny is a denial made like fmt.Sprintf.
func deny(format string, args ...any) error { return denial(fmt.Sprintf(format, args...)) }

// unavailable is a failure to decide (the engine not ready, a list that
// failed), answered as the raw handlers' errored is: 503, and the request
// fails closed. Any other error of a judge is a denial (403).
func unavailable(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Code: http.StatusServiceUnavailable, Message: err.Error()}}
}

// WhoAmI asks the API server who the operator is (a SelfSubjectReview), for
// Admins.Self.
func WhoAmI(ctx context.Context, c client.Client) (string, error) {
	r := &authenticationv1.SelfSubjectReview{}
	if err := c.Create(ctx, r); err != nil {
		return "", fmt.Errorf("cannot ask the API server who the operator is (SelfSubjectReview): %w", err)
	}
	return r.Status.UserInfo.Username, nil
}

// index waits for the engine and returns the namespace's Index (an empty
// one for a namespace with no Gatehouse object yet).
func (v *Validator) index(ctx context.Context, ns string) (*access.Index, error) {
	wait := v.ReadyTimeout
	if wait == 0 {
		wait = 5 * time.Second
	}
	select {
	case <-v.Engine.Ready():
	case <-time.After(wait):
		return nil, errors.New("gatehouse is starting and has not read the namespace yet; retry in a few seconds")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if ix := v.Engine.Index(ns); ix != nil {
		return ix, nil
	}
	return access.NewIndex(access.Snapshot{Now: time.Now()}), nil
}

// decode returns the request's new and old objects (nil when absent), for
// the raw handlers.
func decode[T runtime.Object](v *Validator, req admission.Request, newObj func() T) (after, before T, err error) {
	dec := admission.NewDecoder(v.Scheme)
	var zero T
	after, before = zero, zero
	if len(req.Object.Raw) > 0 {
		o := newObj()
		if err := dec.DecodeRaw(req.Object, o); err != nil {
			return zero, zero, fmt.Errorf("cannot decode the object: %w", err)
		}
		after = o
	}
	if len(req.OldObject.Raw) > 0 {
		o := newObj()
		if err := dec.DecodeRaw(req.OldObject, o); err != nil {
			return zero, zero, fmt.Errorf("cannot decode the old object: %w", err)
		}
		before = o
	}
	return after, before, nil
}

// exempt records an administrator's change to the audit log (the change
// is then allowed).
func (v *Validator) exempt(ctx context.Context, req admission.Request, kind string) {
	if req.UserInfo.Username != v.Admins.Self {
		v.Audit.AdmissionExempt(ctx, audit.Exemption{
			Namespace: req.Namespace, Kind: kind, Name: req.Name, Operation: string(req.Operation),
			Username: req.UserInfo.Username, Groups: req.UserInfo.Groups,
		})
	}
}

// errored is a raw handler's failure to decide: 503, failing closed.
func errored(err error) admission.Response {
	return admission.Errored(http.StatusServiceUnavailable, err)
}

// Setup registers the webhooks on the manager's webhook server. The
// operator's own identity is asked of the API server and added to
// admins.Self.
func Setup(ctx context.Context, mgr ctrl.Manager, eng *engine.Engine, admins Admins, log *audit.Logger) error {
	c, err := client.New(mgr.GetConfig(), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return fmt.Errorf("cannot create a client: %w", err)
	}
	if admins.Self, err = WhoAmI(ctx, c); err != nil {
		return err
	}
	if log == nil {
		log = audit.Discard()
	}
	v := &Validator{Engine: eng, Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Authorizer: c, Scheme: mgr.GetScheme(), Admins: admins, Audit: log}
	v.Register(mgr.GetWebhookServer())
	return nil
}

// The perimeter: who may write each kind at all, whatever RBAC allows
// (SPEC "The perimeter"). Administrators are the configured identities
// (--admin-groups, --admin-users), the operator, and active seated Users
// holding admin; the License is the configured identities' alone.

// systemCollectors are the identities of Kubernetes' namespace controller
// and garbage collector: with --use-service-account-credentials their own
// ServiceAccounts, else kube-controller-manager's user.
var systemCollectors = []string{
	"system:serviceaccount:kube-system:namespace-controller",
	"system:serviceaccount:kube-system:generic-garbage-collector",
	"system:kube-controller-manager",
}

// collector admits the namespace controller's and the garbage collector's
// deletes, and their updates that only remove finalizers or owner
// references, so that a namespace can be deleted and owned objects
// collected whatever the other rules say.
func collector(req admission.Request) (why string, ok bool) {
	if !slices.Contains(systemCollectors, req.UserInfo.Username) {
		return "", false
	}
	switch req.Operation {
	case admissionv1.Delete:
		return "the namespace controller or garbage collector deletes", true
	case admissionv1.Update:
		if onlyRemovesFinalizersOrOwners(req.OldObject.Raw, req.Object.Raw) {
			return "the namespace controller or garbage collector removes a finalizer or owner reference", true
		}
	}
	return "", false
}

// withoutBlock is an owner reference without blockOwnerDeletion, which the
// garbage collector turns off before it deletes a dependent (anything else
// is returned as it is).
func withoutBlock(ref any) any {
	m, ok := ref.(map[string]any)
	if !ok {
		return ref
	}
	c := maps.Clone(m)
	delete(c, "blockOwnerDeletion")
	return c
}

// onlyRemovesFinalizersOrOwners reports whether after is before with some
// finalizers or owner references removed, or the blockOwnerDeletion of an
// owner reference turned off or on, and nothing else changed.
func onlyRemovesFinalizersOrOwners(beforeRaw, afterRaw []byte) bool {
	var before, after map[string]any
	if json.Unmarshal(beforeRaw, &before) != nil || json.Unmarshal(afterRaw, &after) != nil {
		return false
	}
	bm, _ := before["metadata"].(map[string]any)
	am, _ := after["metadata"].(map[string]any)
	if bm == nil || am == nil {
		return false
	}
	for _, key := range []string{"finalizers", "ownerReferences"} {
		b, _ := bm[key].([]any)
		a, _ := am[key].([]any)
		for _, x := range a {
			if !slices.ContainsFunc(b, func(y any) bool { return reflect.DeepEqual(withoutBlock(x), withoutBlock(y)) }) {
				return false
			}
		}
		delete(bm, key)
		delete(am, key)
	}
	for _, key := range []string{"managedFields", "resourceVersion"} {
		delete(bm, key)
		delete(am, key)
	}
	return reflect.DeepEqual(before, after)
}

// administrator reports whether the request comes from an administrator:
// a configured identity (or the operator), or the active, seated User of
// the namespace it stands for holding admin.
func (v *Validator) administrator(ctx context.Context, req admission.Request) (bool, error) {
	if v.Admins.is(req.UserInfo) {
		return true, nil
	}
	ix, err := v.index(ctx, req.Namespace)
	if err != nil {
		return false, err
	}
	me, ok := ix.UserForKubernetesName(req.UserInfo.Username)
	return ok && ix.HoldsAdmin(me), nil
}

// adminOnly refuses the request unless it comes from an administrator
// (and records a configured identity's change in the audit log); why says
// why the change is an administrator's.
func (v *Validator) adminOnly(ctx context.Context, req admission.Request, kind, why string) error {
	ok, err := v.administrator(ctx, req)
	if err != nil {
		return unavailable(err)
	}
	if ok {
		if v.Admins.is(req.UserInfo) {
			v.exempt(ctx, req, kind)
		}
		return nil
	}
	return deny("%s cannot %s %s %s/%s: %s, so only administrators may (the groups of --admin-groups, or a User holding admin); ask one.",
		who(req.UserInfo), verb(req.Operation), kind, req.Namespace, req.Name, why)
}

func who(u authenticationv1.UserInfo) string { return u.Username }

func verb(op admissionv1.Operation) string {
	switch op {
	case admissionv1.Create:
		return "create"
	case admissionv1.Delete:
		return "delete"
	}
	return "change"
}

// notAUser is the denial of a requester that is no Gatehouse User, with
// the reason the Index gives (access.Index.WhyNotAUser).
func notAUser(ix *access.Index, username, ns, what string) string {
	return fmt.Sprintf("%s is not a Gatehouse User in namespace %s, so it cannot %s here: %s.", username, ns, what, ix.WhyNotAUser(username))
}
