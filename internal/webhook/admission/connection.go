package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

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
	var prev metav1.Object
	if before != nil {
		prev = before
	}
	if !access.SameOwnersAndFinalizers(prev, after) {
		return refuse("owner references and finalizers are administrators' to set (an owner's deletion, or a finalizer, decides when the connection and its access go).")
	}
	var mine []string
	if r := ix.ComputeUser(me); r != nil {
		mine = r.Groups
	}
	if why := access.WhyNotPersonal(after, me, mine); why != "" {
		return refuse("%s", why)
	}
	return nil
}

// connection judges a Connection change. It refuses a change by anyone
// but administrators and, of a personal connection, its creator holding
// createPersonalConnections, and a personal connection open to groups its
// creator is not in (connectionWriter); for everyone,
// administrators included, naming a Secret its requester may not read,
// whenever what the Secrets are used for changes. It warns about groups
// and Secrets that do not exist.
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
