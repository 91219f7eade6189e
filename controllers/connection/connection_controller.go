package connection

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/engine"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
	"github.com/gatehouse-dev/gatehouse/internal/probe"
)

// FieldManager owns the fields of Connection.status this package writes,
// and the Roles and RoleBindings it applies. controllers/user writes
// User.status.credentials under the same name (user.CredentialsFieldManager).
const FieldManager = "gatehouse-connection"

// writer writes Connection.status as FieldManager.
var writer = status.NewWriter(FieldManager, "Connection")

// Event reasons on a Connection.
const (
	// EventReachable: a connection test succeeded after one that failed (or
	// the first one).
	EventReachable = "Reachable"
	// EventUnreachable: a connection test failed.
	EventUnreachable = "Unreachable"
)

// Reconciler writes a Connection's status and the Roles and RoleBindings
// of its Secrets.
type Reconciler struct {
	// Client reads from the manager's cache (Connections, labelled
	// Secrets, the operator's Roles and RoleBindings) and writes. Users
	// and Groups it does not read: the engine's Index answers for them.
	Client client.Client
	// Live reads from the API server what is not cached: the Secrets a
	// Connection references by name, and a Role or RoleBinding whose name
	// the operator is about to take (NameTaken).
	Live client.Reader
	// Recorder records Events on Connections.
	Recorder events.EventRecorder
	// Tests holds the connection tests' verdicts (TestReconciler runs
	// them).
	Tests *Tests
	// Engine tells who may use a Connection and read its details, by
	// Gatehouse's own membership (required).
	Engine *engine.Engine
}

// scope is what one reconcile gathers.
type scope struct {
	conn *iamv1alpha1.Connection
	// global is the global credential Secret, when read and valid.
	global *corev1.Secret
	// results are the verdicts on the Connection's own Secrets.
	results []outbound.Result
	// detailSecrets are the names of the Connection's own Secrets.
	detailSecrets []string
	// userSecrets are the per-user credential Secrets of a PerUser
	// Connection, by user name.
	userSecrets map[string][]*corev1.Secret
}

// Reconcile validates the Connection's Secrets, projects their access into
// RBAC and writes the status, with the Reachable condition of the last
// connection test (run by the test controller, never here: a slow database
// delays no projection). An error reaches the Ready condition (the
// writer's deferred End) before it is returned.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, err error) {
	var conn iamv1alpha1.Connection
	if err := r.Client.Get(ctx, req.NamespacedName, &conn); err != nil {
		if apierrors.IsNotFound(err) {
			r.Tests.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if conn.DeletionTimestamp != nil {
		// Its Roles and RoleBindings go with it (owner references).
		return ctrl.Result{}, nil
	}
	x, err := writer.Begin(ctx, r.Client, r.Recorder, &conn, func(err error) any {
		failed := conn.Status.DeepCopy()
		failed.Conditions = status.Failed(conn.Status.Conditions, conn.Generation, err)
		return failed
	})
	defer x.End(ctx, &err)
	if err != nil {
		return ctrl.Result{}, err
	}
	s := &scope{conn: &conn}
	if err := readSecrets(ctx, r.Live, s); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.readUserSecrets(ctx, s); err != nil {
		return ctrl.Result{}, err
	}

	ix, ok := engineIndex(r.Engine, &conn)
	if !ok {
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	// The engine enqueues this Connection after its Index took any change
	// that touches it, so what the Index says is never older than what woke
	// this reconcile (a per-user Secret of a User the Index does not hold
	// yet is bound once the User's own change reaches the Index).
	in := audience(ix, &conn, s)
	var c counts
	if outbound.IsPerUser(&conn) {
		c = countCredentials(&conn, in.users, s.userSecrets)
	}
	creds := credentialsCondition(&conn, s.results, c)
	want, access := renderAccess(in)
	taken, err := applyAccess(ctx, r.Client, r.Live, &conn, want)
	if err != nil {
		return ctrl.Result{}, err
	}
	var result ctrl.Result
	if len(taken) > 0 {
		// Nothing tells when a person's object goes: look again.
		access, result = nameTaken(taken), ctrl.Result{RequeueAfter: time.Minute}
	}
	reach, testedAt := r.reachability(ctx, s, creds.Status == metav1.ConditionTrue)

	want2 := iamv1alpha1.ConnectionStatus{
		ObservedGeneration: conn.Generation,
		UsersConfigured:    c.configured,
		UsersMissing:       c.missing,
		UsersInvalid:       c.invalid,
		LastTestTime:       testedAt,
	}
	want2.Conditions = status.Conditions(conn.Status.Conditions, conn.Generation, readyCondition(creds, access), creds, access, reach)
	cur := conn.Status
	wrote, err := x.Apply(ctx, &want2, status.Unchanged(cur, want2, connectionConditions))
	if !wrote || err != nil {
		return result, err
	}
	r.recordReachability(&conn, cur.Conditions, reach)
	return result, nil
}

func connectionConditions(s *iamv1alpha1.ConnectionStatus) *[]metav1.Condition { return &s.Conditions }

// engineIndex returns the engine's Index of conn's namespace once it holds
// conn; false before the engine is ready or while conn's event is still on
// its way to it (the caller tries again shortly). Who may use a Connection
// and who may read its details are the engine's to say.
func engineIndex(e *engine.Engine, conn *iamv1alpha1.Connection) (*access.Index, bool) {
	ix := e.Index(conn.Namespace)
	return ix, ix != nil && ix.HasConnection(conn.Name)
}

// audience asks the engine's Index ix who reads and uses conn: the Users
// that may read its details, the Groups of its detailsReadableBy that do
// not exist, and, for PerUser, the Users that may use it or hold one of
// its per-user Secrets.
func audience(ix *access.Index, conn *iamv1alpha1.Connection, s *scope) accessInput {
	in := accessInput{conn: conn, detailSecrets: s.detailSecrets, readers: detailReaders(ix, conn.Name), userSecrets: s.userSecrets}
	if d := conn.Spec.DetailsReadableBy; d != nil && d.Mode == iamv1alpha1.AudienceGroups {
		in.unknownGroups = ix.UnknownGroups(d.Groups)
	}
	if outbound.IsPerUser(conn) {
		in.users = ix.ConnectionUsers(conn.Name, slices.Sorted(maps.Keys(s.userSecrets)))
	}
	return in
}

// detailReaders are the Users that may read conn's details
// (access.Index.DetailReaders): Kubernetes identity by User name.
func detailReaders(ix *access.Index, conn string) map[string]string {
	out := map[string]string{}
	for _, name := range ix.DetailReaders(conn) {
		if id, ok := ix.KubernetesIdentity(name); ok {
			out[name] = id
		}
	}
	return out
}

// readSecrets reads and validates the Secrets the Connection references:
// the global credential (mode Global) and the OAuth2 client secret. Each
// name is checked before anything is read, and read in the Connection's
// own namespace only. A Secret is used (validated, tested with, projected
// into RBAC) only when its owner marked it for this Connection
// (outbound.CheckMarked); otherwise its result says what to run.
func readSecrets(ctx context.Context, secrets client.Reader, s *scope) error {
	conn := s.conn
	cred := conn.Spec.Credentials
	typ := outbound.EffectiveType(cred)
	// read returns the Secret when it exists and is marked for conn
	// (outbound.Resolve), and records the result otherwise.
	read := func(field, name string, notFound outbound.Result) (*corev1.Secret, error) {
		secret, res, err := outbound.Resolve(ctx, secrets, outbound.Ref{
			Namespace: conn.Namespace, Name: name, Field: field,
			Kind: outbound.ForConnection, Object: conn.Name, NotFound: notFound,
		})
		switch {
		case err != nil:
			return nil, err
		case secret == nil:
			s.results = append(s.results, res)
			return nil, nil
		}
		if !slices.Contains(s.detailSecrets, name) {
			s.detailSecrets = append(s.detailSecrets, name)
		}
		return secret, nil
	}
	if cred.Mode == iamv1alpha1.CredentialModeGlobal && cred.SecretRef != nil {
		name := cred.SecretRef.Name
		secret, err := read("spec.credentials.secretRef.name", name, outbound.SecretNotFound(typ, conn.Namespace, name))
		if err != nil {
			return err
		}
		if secret != nil {
			res := outbound.Validate(typ, secret)
			if res.Ready {
				s.global = secret
			}
			s.results = append(s.results, res)
		}
	}
	if o := cred.OAuth2; o != nil {
		sel := o.ClientSecretRef
		secret, err := read("spec.credentials.oauth2.clientSecretRef.name", sel.Name, outbound.ClientSecretNotFound(conn.Namespace, sel))
		if err != nil {
			return err
		}
		if secret != nil {
			s.results = append(s.results, outbound.ValidateClientSecret(sel, secret))
		}
	}
	slices.Sort(s.detailSecrets)
	return nil
}

// readUserSecrets reads the Connection's per-user credential Secrets from
// the cache. Who they belong to, and who may use the Connection, the
// engine's Index says (audience).
func (r *Reconciler) readUserSecrets(ctx context.Context, s *scope) error {
	s.userSecrets = map[string][]*corev1.Secret{}
	if !outbound.IsPerUser(s.conn) {
		return nil
	}
	secrets, err := outbound.ListUserSecrets(ctx, r.Client, s.conn.Namespace, client.MatchingLabels{iamv1alpha1.LabelConnection: s.conn.Name})
	if err != nil {
		return err
	}
	for _, sec := range secrets {
		k, _ := outbound.ParseUserKey(sec.Labels)
		s.userSecrets[k.User] = append(s.userSecrets[k.User], sec)
	}
	return nil
}

// reachability is the Reachable condition and the time of the test it
// reports: Unknown when the connection cannot be tested or its credentials
// are not valid; the last test's verdict otherwise. When that test is of
// other inputs (or there is none), the test controller is asked for one,
// and until it answers the verdict written stays (or, with none, Reachable
// is Unknown).
func (r *Reconciler) reachability(ctx context.Context, s *scope, credsValid bool) (metav1.Condition, *metav1.Time) {
	conn := s.conn
	if c, ok := untestable(conn, s, credsValid); !ok {
		return c, nil
	}
	key := types.NamespacedName{Namespace: conn.Namespace, Name: conn.Name}
	rec, ok := r.Tests.Last(key)
	if !ok || rec.Inputs != testInputs(conn, s.global) {
		r.Tests.Due(ctx, key)
	}
	if !ok {
		if cur := meta.FindStatusCondition(conn.Status.Conditions, iamv1alpha1.ConditionReachable); cur != nil && conn.Status.LastTestTime != nil {
			return status.Condition(cur.Type, cur.Status == metav1.ConditionTrue, cur.Reason, cur.Message), conn.Status.LastTestTime
		}
		c := status.Condition(iamv1alpha1.ConditionReachable, false, iamv1alpha1.ReasonNotTested, "The connection test is under way.")
		c.Status = metav1.ConditionUnknown
		return c, nil
	}
	if rec.At.IsZero() {
		return rec.Reachable, nil
	}
	// The API server keeps whole seconds.
	t := metav1.NewTime(rec.At.Truncate(time.Second))
	return rec.Reachable, &t
}

// untestable is the Reachable condition of a connection that cannot be
// tested (its spec or credentials), with false; true when it can be.
func untestable(conn *iamv1alpha1.Connection, s *scope, credsValid bool) (metav1.Condition, bool) {
	if err := probe.Testable(&conn.Spec); err != nil {
		var se *probe.SpecError
		if errors.As(err, &se) {
			return reachableCondition(se.Result()), false
		}
		return reachableCondition(probe.Result{Reason: probe.ReasonNotTestable, Message: err.Error()}), false
	}
	if !credsValid || s.global == nil {
		return notTested(), false
	}
	if _, err := outbound.BasicFrom(s.global); err != nil {
		return notTested(), false
	}
	return metav1.Condition{}, true
}

// testInputs identifies what a test of conn with its global credential
// tests.
func testInputs(conn *iamv1alpha1.Connection, global *corev1.Secret) string {
	return fmt.Sprintf("%s/%d/%s", conn.UID, conn.Generation, global.ResourceVersion)
}

// ReasonAddressNotAllowed (Reachable): a personal connection's host is an
// address the operator does not test for non-administrators.
const ReasonAddressNotAllowed = "AddressNotAllowed"

// recordReachability records an Event when Reachable changes.
func (r *Reconciler) recordReachability(conn *iamv1alpha1.Connection, before []metav1.Condition, reach metav1.Condition) {
	if r.Recorder == nil || reach.Status == metav1.ConditionUnknown {
		return
	}
	for _, c := range before {
		if c.Type == reach.Type && c.Status == reach.Status && c.Reason == reach.Reason {
			return
		}
	}
	if reach.Status == metav1.ConditionTrue {
		r.Recorder.Eventf(conn, nil, corev1.EventTypeNormal, EventReachable, "Test", "%s", reach.Message)
		return
	}
	r.Recorder.Eventf(conn, nil, corev1.EventTypeWarning, EventUnreachable, "Test", "%s: %s", reach.Reason, reach.Message)
}
