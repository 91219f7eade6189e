package connection

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Labels of the Roles and RoleBindings the controller writes. The manager
// caches only Roles and RoleBindings that carry LabelManagedBy=ManagedBy.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "gatehouse"
)

// Name prefixes of the Roles and RoleBindings: one pair (or one per bucket
// of readers) for the Connection's details (its global credential and
// OAuth2 client secret), and one pair per per-user credential Secret. The
// names hold ":", which no Connection or Secret name can: the objects of
// one Connection or Secret cannot take the names of another's (a personal
// Connection named lake-1-of-2 once took those of Connection lake's second
// bucket). Names a person took first are NameTaken, never overwritten.
const (
	detailsPrefix    = "gatehouse:connection:"
	credentialPrefix = "gatehouse:credential:"
)

// secretAccess is one Role and its RoleBinding: get on exactly secrets, for
// exactly subjects.
type secretAccess struct {
	name     string
	secrets  []string
	subjects []rbacv1.Subject
}

// accessInput is what the RBAC projection of a Connection depends on.
type accessInput struct {
	conn *iamv1alpha1.Connection
	// detailSecrets are the Connection's own Secrets: the global credential
	// and the OAuth2 client secret (valid names only).
	detailSecrets []string
	// unknownGroups are the Groups of detailsReadableBy (mode Groups) that
	// do not exist, in its order (access.Index.UnknownGroups).
	unknownGroups []string
	// readers are the Users that may read the Connection's details
	// (access.Index.DetailReaders): Kubernetes identity by User name.
	readers map[string]string
	// users are, for a PerUser Connection, the Users that may use it or
	// hold one of its per-user Secrets (access.Index.ConnectionUsers).
	users []access.ConnectionUser
	// userSecrets are the per-user credential Secrets of the Connection, by
	// user name.
	userSecrets map[string][]*corev1.Secret
}

// renderAccess computes the Roles and RoleBindings of a Connection and the
// SecretAccess condition: the Connection's (marked) Secrets readable by
// exactly the Users that may read its details by Gatehouse's own membership
// (in.readers, access.Index.DetailReaders: active, seated, members of
// detailsReadableBy's Groups or, for All, every such User), bound by their
// Kubernetes identity, in RoleBindings of at most readersPerBinding
// subjects, each User in the binding its name hashes to (so a seat or
// membership change rewrites one binding, not all); and each per-user
// Secret by its active User. Nobody else is named: administrators read
// Secrets through their own ClusterRoles.
func renderAccess(in accessInput) ([]secretAccess, metav1.Condition) {
	var (
		out      []secretAccess
		problems []string
		reason   string
		readers  string
	)
	problem := func(r, msg string) {
		if reason == "" {
			reason = r
		}
		problems = append(problems, msg)
	}
	if len(in.detailSecrets) > 0 {
		aud := in.conn.Spec.DetailsReadableBy
		mode := iamv1alpha1.AudienceNone
		if aud != nil && aud.Mode != "" {
			mode = aud.Mode
		}
		switch mode {
		case iamv1alpha1.AudienceAll:
			readers = fmt.Sprintf("the %s of the namespace (detailsReadableBy All)", words.Count(len(in.readers), "active, seated user", "active, seated users"))
		case iamv1alpha1.AudienceGroups:
			for _, name := range in.unknownGroups {
				problem(iamv1alpha1.ReasonUnknownGroup, fmt.Sprintf("detailsReadableBy names group %s, which does not exist: create it or remove it.", name))
			}
			readers = fmt.Sprintf("the %s of %s %s", words.Count(len(in.readers), "active, seated member", "active, seated members"), words.Plural(len(aud.Groups), "group", "groups"), words.List(aud.Groups))
			if len(in.readers) == 0 {
				readers = "nobody but administrators (no active, seated member of " + words.List(aud.Groups) + ")"
			}
		default:
			readers = "nobody but administrators (detailsReadableBy None)"
		}
		out = append(out, readerBindings(in.conn.Name, in.detailSecrets, in.readers)...)
	}
	perUser := 0
	if outbound.IsPerUser(in.conn) {
		for _, u := range in.users {
			if !u.Active || u.Deleting {
				continue
			}
			for _, s := range in.userSecrets[u.Name] {
				out = append(out, secretAccess{name: objectName(credentialPrefix, s.Name), secrets: []string{s.Name}, subjects: []rbacv1.Subject{userSubject(u.Identity)}})
				perUser++
			}
		}
	}
	slices.SortFunc(out, func(a, b secretAccess) int { return strings.Compare(a.name, b.name) })
	if len(problems) > 0 {
		return out, status.Condition(iamv1alpha1.ConditionSecretAccess, false, reason, strings.Join(problems, " "))
	}
	var msg []string
	if len(in.detailSecrets) > 0 {
		msg = append(msg, fmt.Sprintf("%s %s %s readable by %s.", words.Plural(len(in.detailSecrets), "Secret", "Secrets"), words.List(in.detailSecrets), words.Plural(len(in.detailSecrets), "is", "are"), readers))
	}
	if outbound.IsPerUser(in.conn) {
		msg = append(msg, fmt.Sprintf("%s readable by %s only.", words.Count(perUser, "per-user credential Secret is", "per-user credential Secrets are each"), words.Plural(perUser, "its active user", "their active user")))
	}
	if len(msg) == 0 {
		msg = append(msg, "The connection has no Secret to project.")
	}
	return out, status.Condition(iamv1alpha1.ConditionSecretAccess, true, iamv1alpha1.ReasonProjected, strings.Join(msg, " "))
}

// readersPerBinding bounds the subjects of one RoleBinding: at 10,000
// readers, twenty-odd bindings of which a change rewrites one.
const readersPerBinding = 500

// readerBindings spreads readers (Kubernetes identities by User name) over
// the fewest power-of-two number of RoleBindings that keeps each under
// readersPerBinding, each reader in the one its User name hashes to. One
// binding has the name gatehouse:connection:<name>, several
// gatehouse:connection:<name>:<i>-of-<n>.
func readerBindings(conn string, secrets []string, readers map[string]string) []secretAccess {
	if len(readers) == 0 {
		return nil
	}
	buckets := 1
	for buckets*readersPerBinding < len(readers) {
		buckets *= 2
	}
	subjects := make([][]rbacv1.Subject, buckets)
	for name, identity := range readers {
		h := fnv.New32a()
		_, _ = h.Write([]byte(name))
		b := int(h.Sum32() % uint32(buckets))
		subjects[b] = append(subjects[b], rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: identity})
	}
	var out []secretAccess
	for b, subs := range subjects {
		if len(subs) == 0 {
			continue
		}
		name := objectName(detailsPrefix, conn)
		if buckets > 1 {
			name = objectName(detailsPrefix, fmt.Sprintf("%s:%d-of-%d", conn, b+1, buckets))
		}
		out = append(out, secretAccess{name: name, secrets: secrets, subjects: sortSubjects(subs)})
	}
	return out
}

// userSubject is the RBAC subject of a Kubernetes identity.
func userSubject(identity string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: identity}
}

// sortSubjects sorts subjects and drops duplicates.
func sortSubjects(s []rbacv1.Subject) []rbacv1.Subject {
	cmp := func(a, b rbacv1.Subject) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	}
	slices.SortFunc(s, cmp)
	return slices.CompactFunc(s, func(a, b rbacv1.Subject) bool { return cmp(a, b) == 0 })
}

// objectName is prefix+name, shortened with a hash when it would be longer
// than an object name may be.
func objectName(prefix, name string) string {
	n := prefix + name
	if len(n) <= validation.DNS1123SubdomainMaxLength {
		return n
	}
	sum := sha256.Sum256([]byte(name))
	h := hex.EncodeToString(sum[:])[:12]
	return strings.TrimRight(n[:validation.DNS1123SubdomainMaxLength-13], "-.") + "-" + h
}

// ownedLabels are the labels of the Roles and RoleBindings of conn.
func ownedLabels(conn *iamv1alpha1.Connection) map[string]string {
	l := map[string]string{LabelManagedBy: ManagedBy}
	if len(validation.IsValidLabelValue(conn.Name)) == 0 {
		l[iamv1alpha1.LabelConnection] = conn.Name
	}
	return l
}

func ownerRef(conn *iamv1alpha1.Connection) metav1.OwnerReference {
	return *metav1.NewControllerRef(conn, iamv1alpha1.GroupVersion.WithKind("Connection"))
}

// applyAccess makes the Roles and RoleBindings controlled by conn exactly
// want: it deletes the others (the ones of older names included), then
// applies (server-side, as FieldManager) each one of want that the cache
// does not show as wanted. A name of want that the cache does not show as
// conn's is read live first: an object of that name that conn does not
// control is someone else's, and nothing is written for it; its name is
// returned among taken. The bindings go before their Roles when access is
// removed, and after them when it is added. Labels someone else set on
// them are theirs and stay.
func applyAccess(ctx context.Context, c client.Client, live client.Reader, conn *iamv1alpha1.Connection, want []secretAccess) (taken []string, err error) {
	in := client.InNamespace(conn.Namespace)
	managed := client.MatchingLabels{LabelManagedBy: ManagedBy}
	var roles rbacv1.RoleList
	if err := c.List(ctx, &roles, in, managed); err != nil {
		return nil, fmt.Errorf("cannot list the Roles of namespace %s: %w", conn.Namespace, err)
	}
	var bindings rbacv1.RoleBindingList
	if err := c.List(ctx, &bindings, in, managed); err != nil {
		return nil, fmt.Errorf("cannot list the RoleBindings of namespace %s: %w", conn.Namespace, err)
	}
	wanted := map[string]bool{}
	for _, a := range want {
		wanted[a.name] = true
	}
	curBindings := map[string]*rbacv1.RoleBinding{}
	for i := range bindings.Items {
		b := &bindings.Items[i]
		if !metav1.IsControlledBy(b, conn) {
			continue
		}
		if !wanted[b.Name] {
			if err := deleteObject(ctx, c, b, "RoleBinding"); err != nil {
				return nil, err
			}
			continue
		}
		curBindings[b.Name] = b
	}
	curRoles := map[string]*rbacv1.Role{}
	for i := range roles.Items {
		r := &roles.Items[i]
		if !metav1.IsControlledBy(r, conn) {
			continue
		}
		if !wanted[r.Name] {
			if err := deleteObject(ctx, c, r, "Role"); err != nil {
				return nil, err
			}
			continue
		}
		curRoles[r.Name] = r
	}
	owner := ownerRef(conn)
	labels := ownedLabels(conn)
	opts := []client.ApplyOption{client.FieldOwner(FieldManager), client.ForceOwnership}
	for _, a := range want {
		key := client.ObjectKey{Namespace: conn.Namespace, Name: a.name}
		if curRoles[a.name] == nil || curBindings[a.name] == nil {
			someone, err := takenBy(ctx, live, conn, key)
			if err != nil {
				return nil, err
			}
			if someone != "" {
				taken = append(taken, someone)
				continue
			}
		}
		rules := roleRules(a)
		if cur := curRoles[a.name]; cur == nil || !status.Equal(cur.Rules, rules) || !hasLabels(cur.Labels, labels) {
			if err := c.Apply(ctx, roleApply(conn, a, owner, labels), opts...); err != nil {
				return nil, fmt.Errorf("cannot apply Role %s/%s: %w", conn.Namespace, a.name, err)
			}
		}
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: a.name}
		cur := curBindings[a.name]
		if cur != nil && cur.RoleRef != ref {
			// roleRef cannot change: the binding is replaced.
			if err := deleteObject(ctx, c, cur, "RoleBinding"); err != nil {
				return nil, err
			}
			cur = nil
		}
		if cur == nil || !status.Equal(cur.Subjects, a.subjects) || !hasLabels(cur.Labels, labels) {
			if err := c.Apply(ctx, bindingApply(conn, a, owner, labels), opts...); err != nil {
				return nil, fmt.Errorf("cannot apply RoleBinding %s/%s: %w", conn.Namespace, a.name, err)
			}
		}
	}
	return taken, nil
}

// takenBy reads the Role and the RoleBinding named key live, and names the
// first that exists and that conn does not control ("Role x"), or "".
func takenBy(ctx context.Context, live client.Reader, conn *iamv1alpha1.Connection, key client.ObjectKey) (string, error) {
	for _, o := range []struct {
		obj  client.Object
		kind string
	}{{&rbacv1.Role{}, "Role"}, {&rbacv1.RoleBinding{}, "RoleBinding"}} {
		err := live.Get(ctx, key, o.obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot read %s %s/%s: %w", o.kind, key.Namespace, key.Name, err)
		}
		if !metav1.IsControlledBy(o.obj, conn) {
			return o.kind + " " + key.Name, nil
		}
	}
	return "", nil
}

// nameTaken is the SecretAccess condition when names are taken.
func nameTaken(taken []string) metav1.Condition {
	return status.Condition(iamv1alpha1.ConditionSecretAccess, false, iamv1alpha1.ReasonNameTaken,
		fmt.Sprintf("%s %s not this Connection's, so the operator wrote nothing in %s place: names under gatehouse: are the operator's; delete %s, and the Connection's access is written at the next reconcile.",
			words.List(taken), words.Plural(len(taken), "exists and is", "exist and are"), words.Plural(len(taken), "its", "their"), words.Plural(len(taken), "it", "them")))
}

// deleteObject deletes obj (a Role or RoleBinding) as read; gone already is
// done.
func deleteObject(ctx context.Context, c client.Client, obj client.Object, kind string) error {
	// The UID precondition keeps a new object of the same name.
	uid := obj.GetUID()
	if err := c.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("cannot delete %s %s/%s: %w", kind, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

func roleRules(a secretAccess) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}, ResourceNames: a.secrets}}
}

func ownerApply(o metav1.OwnerReference) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().WithAPIVersion(o.APIVersion).WithKind(o.Kind).WithName(o.Name).WithUID(o.UID).
		WithController(true).WithBlockOwnerDeletion(true)
}

// roleApply is the Role of a: get on exactly its Secrets.
func roleApply(conn *iamv1alpha1.Connection, a secretAccess, owner metav1.OwnerReference, labels map[string]string) *rbacv1ac.RoleApplyConfiguration {
	return rbacv1ac.Role(a.name, conn.Namespace).WithLabels(labels).WithOwnerReferences(ownerApply(owner)).
		WithRules(rbacv1ac.PolicyRule().WithAPIGroups("").WithResources("secrets").WithVerbs("get").WithResourceNames(a.secrets...))
}

// bindingApply is the RoleBinding of a: its Role, for exactly its subjects.
func bindingApply(conn *iamv1alpha1.Connection, a secretAccess, owner metav1.OwnerReference, labels map[string]string) *rbacv1ac.RoleBindingApplyConfiguration {
	b := rbacv1ac.RoleBinding(a.name, conn.Namespace).WithLabels(labels).WithOwnerReferences(ownerApply(owner)).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup(rbacv1.GroupName).WithKind("Role").WithName(a.name))
	for _, s := range a.subjects {
		b.WithSubjects(rbacv1ac.Subject().WithKind(s.Kind).WithAPIGroup(s.APIGroup).WithName(s.Name))
	}
	return b
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
