// Package directory syncs Users from an LDAP or Active Directory server: a
// Directory names the server, where its users and groups are and how they
// map, and its syncs keep the Users and their directory groups in step with
// it — safely: an outage, an interrupted read, a wrong filter or an injected
// login never deactivates anyone.
//
// A sync reads the Directory's Secrets, dials, reads the whole directory
// (provisioning All) or looks up each of its Users (OnDemand), drafts the
// writes against the Users in the cache (plan.go, pure), applies the safety
// bound to the draft — no request to the API server before it — then reads
// live the managed fields of only the Users whose write depends on them, and
// writes only what changed by server-side apply with the field manager
// gatehouse-directory, which owns only the fields the directory provides
// (users.go). The User controller then computes the Users' status
// from their directory groups.
package directory

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/ldapdn"
	"github.com/gatehouse-dev/gatehouse/internal/outbound"
)

// Defaults of Options and of a Directory spec without the CRD's defaults.
const (
	DefaultSyncInterval = 15 * time.Minute
	DefaultBackoffBase  = time.Second
	DefaultBackoffMax   = 5 * time.Minute
	DefaultWriters      = 4
)

// secretIndex indexes Directories by the names of the Secrets they read.
const secretIndex = "spec.secretNames"

// Options tune the Directory controller; what every controller shares
// (workers, namespaces) comes in wiring.Deps.
type Options struct {
	// Dialer connects to the directory servers; nil means ldap.DefaultDialer.
	Dialer ldap.Dialer
	// Clock is the controller's time (the real clock when nil).
	Clock clock.PassiveClock
	// BackoffBase and BackoffMax bound the exponential back-off after a
	// failed sync (DefaultBackoffBase, DefaultBackoffMax when 0).
	BackoffBase, BackoffMax time.Duration
	// Writers is how many User writes one sync makes at once
	// (DefaultWriters when 0).
	Writers int
	// MaxUsers and MaxGroups stop a read that returns more entries, to
	// bound the operator's memory; 0 means no bound.
	MaxUsers, MaxGroups int
}

// The Directory sync reads Directories, their Secrets and the namespace's
// License, writes Users (server-side apply creates them) and its status.
//
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=directories,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=directories/status,verbs=get;patch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=licenses,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconciler syncs Directories.
type Reconciler struct {
	// Client reads from the manager's cache and writes.
	Client client.Client
	// APIReader reads Users uncached, for their managed fields.
	APIReader client.Reader
	// Recorder records the Events.
	Recorder events.EventRecorder
	Options

	mu     sync.Mutex
	memory map[types.NamespacedName]*memo
}

// memo is what the controller remembers of a Directory's last sync, to tell
// whether a reconcile needs a sync before the interval is up.
type memo struct {
	// secrets are the resource versions of the Secrets the sync read.
	secrets string
	// pending are the OnDemand Users (uid/generation) not synced yet that
	// the sync saw.
	pending map[string]bool
	// failures is how many syncs in a row failed with a retry: the
	// back-off grows with it.
	failures int
}

// directoriesOfSecret enqueues the Directories that read a Secret.
func (r *Reconciler) directoriesOfSecret(ctx context.Context, o client.Object) []reconcile.Request {
	var list iamv1alpha1.DirectoryList
	if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{secretIndex: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "cannot list the Directories of a Secret", "secret", klog.KObj(o))
		return nil
	}
	out := make([]reconcile.Request, len(list.Items))
	for i, d := range list.Items {
		out[i] = reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&d)}
	}
	return out
}

// directoryOfUser enqueues the Directory an LDAP User names.
func directoryOfUser(_ context.Context, o client.Object) []reconcile.Request {
	u := o.(*iamv1alpha1.User)
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: u.Namespace, Name: u.Spec.Directory}}}
}

// pendingUser passes the creation and spec changes of LDAP Users the
// directory has not synced yet (an administrator's OnDemand User), so that
// they are filled in without waiting for the interval.
func pendingUser() predicate.Funcs {
	pending := func(o client.Object) bool {
		u, ok := o.(*iamv1alpha1.User)
		return ok && u.Spec.Source == iamv1alpha1.UserSourceLDAP && u.Spec.Directory != "" && !synced(u, u.Spec.Directory)
	}
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return pending(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() && pending(e.ObjectNew)
		},
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// annotationChanged passes updates that change one of the annotations.
func annotationChanged(keys ...string) predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		for _, k := range keys {
			if e.ObjectOld.GetAnnotations()[k] != e.ObjectNew.GetAnnotations()[k] {
				return true
			}
		}
		return false
	}}
}

// scope is one reconcile of one Directory.
type scope struct {
	dir *iamv1alpha1.Directory
	// status writes the Directory's status.
	status *status.Write
	key    types.NamespacedName
	start  time.Time
	// password and ca are the Secrets' values; never logged.
	password string
	ca       []byte
	// secrets are the Secrets' resource versions; secretFail why they
	// cannot be used.
	secrets    string
	secretFail *failure
	// users are the namespace's Users, from the cache; not to be changed.
	users []iamv1alpha1.User
	// pending are the Directory's LDAP Users not synced yet.
	pending map[string]bool
}

// Reconcile syncs a Directory when a sync is due, and says when the next one
// is.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var dir iamv1alpha1.Directory
	if err := r.Client.Get(ctx, req.NamespacedName, &dir); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("cannot read Directory %s: %w", req, err)
	}
	if dir.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	// A status someone else wrote is removed, and a sync writes it anew.
	// A sync's failure is its own status (writeStatus): no failed status,
	// no deferred End.
	x, err := statusWriter.Begin(ctx, r.Client, r.Recorder, &dir, nil)
	if err != nil {
		return ctrl.Result{}, err
	}
	s, err := r.newScope(ctx, &dir)
	if err != nil {
		return ctrl.Result{}, err
	}
	s.status = x
	why := r.due(s)
	if x.Skip(why == "") {
		return ctrl.Result{RequeueAfter: r.untilNext(s)}, nil
	}
	if why != dueRetry && why != "" {
		// A person watching sees that a sync runs, and why; a retry
		// keeps the failure it retries in view instead.
		if err := r.markSyncing(ctx, s, why); err != nil {
			return ctrl.Result{}, err
		}
	}

	out := r.sync(ctx, s)
	out.duration = r.Clock.Since(s.start)
	if err := r.writeStatus(ctx, s, out); err != nil {
		return ctrl.Result{}, err
	}
	r.record(s, out)
	failures := r.remember(s, out)

	log := ctrl.LoggerFrom(ctx).WithValues("directory", klog.KObj(&dir))
	switch {
	case out.fail != nil && out.fail.retry:
		// Exponential back-off of our own rather than an error: the
		// controller would log every retry at error level with a stack
		// trace. The cause is logged once, when it appears or changes.
		delay := r.backoff(failures)
		if out.failChanged {
			log.Info("directory sync failed; retrying with back-off", "reason", out.fail.reason, "cause", out.fail.message, "retryIn", delay)
		} else {
			log.V(1).Info("directory sync failed again; retrying with back-off", "reason", out.fail.reason, "attempt", failures, "retryIn", delay)
		}
		return ctrl.Result{RequeueAfter: delay}, nil
	case out.fail != nil:
		log.Info("directory sync failed; waiting for a change of the spec or Secrets", "reason", out.fail.reason, "cause", out.fail.message)
	default:
		log.V(1).Info("directory synced", "why", why, "found", out.found, "created", out.created, "updated", out.updated,
			"deactivated", out.deactivated, "deleted", out.deleted, "stopped", out.stop.Reason, "dryRun", dir.Spec.DryRun, "duration", out.duration)
	}
	return ctrl.Result{RequeueAfter: interval(&dir)}, nil
}

// backoff is the wait before the retry after failures failed syncs in a
// row: BackoffBase doubled for each failure after the first, at most
// BackoffMax.
func (r *Reconciler) backoff(failures int) time.Duration {
	d := r.BackoffBase
	for i := 1; i < failures && d < r.BackoffMax; i++ {
		d *= 2
	}
	return min(d, r.BackoffMax)
}

// newScope reads what a reconcile needs from the cache: the Secrets and the
// namespace's Users.
func (r *Reconciler) newScope(ctx context.Context, dir *iamv1alpha1.Directory) (*scope, error) {
	s := &scope{dir: dir, key: client.ObjectKeyFromObject(dir), start: r.Clock.Now(), pending: map[string]bool{}}
	var versions []string
	if ref := dir.Spec.BindPasswordSecretRef; ref != nil {
		v, rv, f := r.secretValue(ctx, dir, ref, "bindPasswordSecretRef")
		s.password, s.secretFail = string(v), f
		versions = append(versions, ref.Name+"@"+rv)
		if f == nil && PlaintextBind(&dir.Spec) && !dir.Spec.AllowPlaintextBind {
			// Nothing is sent: the password would travel in clear text.
			s.password, s.secretFail = "", &failure{reason: iamv1alpha1.ReasonPlaintextBind, message: plaintextMessage}
		}
	}
	if t := dir.Spec.TLS; t != nil && t.CASecretRef != nil {
		v, rv, f := r.secretValue(ctx, dir, t.CASecretRef, "tls.caSecretRef")
		s.ca = v
		if s.secretFail == nil {
			s.secretFail = f
		}
		versions = append(versions, t.CASecretRef.Name+"@"+rv)
	}
	s.secrets = strings.Join(versions, ",")

	var users iamv1alpha1.UserList
	if err := r.Client.List(ctx, &users, client.InNamespace(dir.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("cannot list the Users of namespace %s: %w", dir.Namespace, err)
	}
	s.users = users.Items
	for i := range s.users {
		u := &s.users[i]
		if managedBy(u, dir.Name) && !synced(u, dir.Name) {
			s.pending[fmt.Sprintf("%s/%d", u.UID, u.Generation)] = true
		}
	}
	return s, nil
}

// PlaintextBind reports whether a Directory binds with a password over
// ldap:// without StartTLS: the password travels in clear text.
func PlaintextBind(spec *iamv1alpha1.DirectorySpec) bool {
	return spec.BindPasswordSecretRef != nil && strings.HasPrefix(spec.URL, "ldap://") && !spec.StartTLS
}

const plaintextMessage = "A password bind over ldap:// without StartTLS would send the bind password in clear text to anyone on the path, so nothing was sent; " +
	"use ldaps:// or set spec.startTLS, or accept the risk with spec.allowPlaintextBind: true."

// secretValue reads one key of a Secret of the Directory's namespace
// (outbound.Resolve: once its owner marked it for this Directory). The
// failure names the Secret and the key, never the value.
func (r *Reconciler) secretValue(ctx context.Context, dir *iamv1alpha1.Directory, ref *iamv1alpha1.SecretKeySelector, field string) ([]byte, string, *failure) {
	ns := dir.Namespace
	sec, res, err := outbound.Resolve(ctx, r.APIReader, outbound.Ref{
		Namespace: ns, Name: ref.Name, Field: "spec." + field + ".name",
		Kind: outbound.ForDirectory, Object: dir.Name,
		NotFound: outbound.Result{Reason: iamv1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf(
			"Secret %s (spec.%s) does not exist in namespace %s; create it with the key %q.", ref.Name, field, ns, ref.Key)},
	})
	var readErr *outbound.ReadError
	switch {
	case errors.As(err, &readErr):
		return nil, "", &failure{reason: iamv1alpha1.ReasonSyncFailed, retry: true, message: fmt.Sprintf(
			"cannot read Secret %s (spec.%s): %v", ref.Name, field, readErr.Err)}
	case err != nil:
		return nil, "", &failure{reason: iamv1alpha1.ReasonSyncFailed, retry: true, message: err.Error()}
	case sec == nil:
		return nil, "", &failure{reason: res.Reason, message: res.Message}
	}
	v, ok := outbound.Value(sec, ref.Key)
	if !ok {
		return nil, sec.ResourceVersion, &failure{reason: iamv1alpha1.ReasonMissingKey, message: fmt.Sprintf(
			"Secret %s (spec.%s) has no non-empty key %q; add it, or set spec.%s.key to the key that holds the value.", ref.Name, field, ref.Key, field)}
	}
	return []byte(v), sec.ResourceVersion, nil
}

// dueRetry is why a sync after a failed one is due.
const dueRetry = "the last sync failed"

// due says why a sync is due now, or "" when it is not.
func (r *Reconciler) due(s *scope) string {
	d, st := s.dir, &s.dir.Status
	if st.ObservedGeneration != d.Generation {
		return "spec changed"
	}
	if v := d.Annotations[iamv1alpha1.AnnotationSyncNow]; v != "" && v != st.SyncNowHandled {
		return "annotation " + iamv1alpha1.AnnotationSyncNow
	}
	synced := conditionOf(st, iamv1alpha1.ConditionSynced)
	stopped := synced != nil && (synced.Reason == iamv1alpha1.ReasonDeactivationLimit || synced.Reason == iamv1alpha1.ReasonEmptyDirectory)
	// A dry run the bound stops (or would stop) plans again with a new
	// annotation value, to say what the sync would do with it.
	dryBound := d.Spec.DryRun && st.Plan != nil && (st.Plan.Blocked != "" || st.Plan.AllowedBy != "")
	if v := d.Annotations[iamv1alpha1.AnnotationAllowMassRemoval]; v != "" && v != st.AllowMassRemovalHandled &&
		(stopped || (dryBound && v != st.Plan.AllowedBy)) {
		return "annotation " + iamv1alpha1.AnnotationAllowMassRemoval
	}
	if synced == nil || (synced.Status != "True" && !stopped) {
		return dueRetry
	}
	r.mu.Lock()
	m := r.memory[s.key]
	r.mu.Unlock()
	if m != nil && m.secrets != s.secrets {
		return "a Secret changed"
	}
	for k := range s.pending {
		if m == nil || !m.pending[k] {
			return "a User to fill in"
		}
	}
	if st.LastAttemptTime == nil || !s.start.Before(st.LastAttemptTime.Add(interval(d))) {
		return "interval"
	}
	return ""
}

// untilNext is the time until the next scheduled sync.
func (r *Reconciler) untilNext(s *scope) time.Duration {
	if t := s.dir.Status.LastAttemptTime; t != nil {
		return max(time.Second, t.Add(interval(s.dir)).Sub(s.start))
	}
	return interval(s.dir)
}

func interval(d *iamv1alpha1.Directory) time.Duration {
	if d.Spec.SyncInterval.Duration > 0 {
		return d.Spec.SyncInterval.Duration
	}
	return DefaultSyncInterval
}

// remember keeps what the next reconcile compares with, and returns how
// many syncs in a row failed with a retry (0 after one that did not).
func (r *Reconciler) remember(s *scope, out *outcome) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	failures := 0
	if out.fail != nil && out.fail.retry {
		failures = 1
		if m := r.memory[s.key]; m != nil {
			failures = m.failures + 1
		}
	}
	r.memory[s.key] = &memo{secrets: s.secrets, pending: s.pending, failures: failures}
	return failures
}

func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	delete(r.memory, key)
	r.mu.Unlock()
	forgetMetrics(key.Namespace, key.Name)
}

// failure is why a sync failed, for the conditions.
type failure struct {
	reason  string
	message string
	// retry: a transient failure, retried with exponential back-off; else
	// the spec or a Secret must change (their watches bring the next sync).
	retry bool
}

// outcome is what a sync did.
type outcome struct {
	fail *failure
	// failChanged: the failure is not the one the status already showed
	// (set by record).
	failChanged bool
	stop        bound
	// lifted is the bound the allow-mass-removal annotation lifted.
	lifted bound
	plan   *plan
	read   bool // the directory was read
	// onDemand is how many Users of the directory an OnDemand sync looked
	// up (-1 when provisioning is All).
	onDemand int
	found    int
	groups   int
	skipped  int
	writes
	// active is how many Users of the directory are active after the
	// sync: those in the cache, plus the writes' changes.
	active   int
	allowed  string // the allow-mass-removal value the sync used (or, dry, would use)
	duration time.Duration
	status   *iamv1alpha1.DirectoryStatus // as written
}

// sync reads the directory and writes the Users. It never writes the
// Directory.
func (r *Reconciler) sync(ctx context.Context, s *scope) *outcome {
	out := &outcome{active: activeUsers(s), onDemand: -1}
	if s.secretFail != nil {
		out.fail = s.secretFail
		return out
	}
	spec := &s.dir.Spec
	conn, err := r.Dialer.Dial(ctx, ldap.ConfigFromSpec(spec, s.password, s.ca))
	if err != nil {
		out.fail = ldapFailure(err)
		return out
	}
	defer func() { _ = conn.Close() }()

	in := planInput{Directory: s.dir, Users: s.users}
	var licenses iamv1alpha1.LicenseList
	if err := r.Client.List(ctx, &licenses, client.InNamespace(s.dir.Namespace)); err != nil {
		out.fail = &failure{reason: iamv1alpha1.ReasonSyncFailed, retry: true, message: fmt.Sprintf("cannot list the Licenses: %v", err)}
		return out
	}
	license := access.LicenseInForce(licenses.Items)
	if f := r.read(ctx, conn, s, newProfileChooser(spec, license), &in, out); f != nil {
		out.fail = f
		return out
	}
	out.read = true
	// The plan and the bound come from the cache alone: a stop costs no
	// request to the API server, however many Users it would remove.
	p := draftPlan(in)
	out.plan = p
	if b := checkBound(s.dir, p); b.Reason != "" {
		if v := s.dir.Annotations[iamv1alpha1.AnnotationAllowMassRemoval]; v != "" && v != s.dir.Status.AllowMassRemovalHandled {
			out.allowed, out.lifted = v, b
		} else {
			out.stop = b
			if !spec.DryRun {
				return out
			}
		}
	}
	// Past the bound (or planning dry): read live only the Users whose
	// write depends on their managed fields.
	if err := p.resolve(ctx, ownershipReader(r.APIReader), r.Writers, !spec.DryRun); err != nil {
		out.fail = &failure{reason: iamv1alpha1.ReasonSyncFailed, retry: true, message: err.Error()}
		return out
	}
	if spec.DryRun || p.empty() {
		return out
	}
	w := &writer{client: r.Client, recorder: r.Recorder, dir: s.dir, parallel: r.Writers, count: func(op string) {
		userWrites.WithLabelValues(s.dir.Namespace, s.dir.Name, op).Inc()
	}}
	var err2 error
	out.writes, err2 = w.write(ctx, p)
	out.active += out.activeDelta
	if err2 != nil {
		out.fail = &failure{reason: iamv1alpha1.ReasonWriteFailed, retry: true, message: fmt.Sprintf(
			"The directory was read, but some Users could not be written (the next sync retries): %s", firstLine(err2))}
	}
	return out
}

// read fills in.Entries (and in.NotFound) from the directory.
func (r *Reconciler) read(ctx context.Context, conn ldap.Conn, s *scope, profiles profileChooser, in *planInput, out *outcome) *failure {
	q := ldap.QueryFromSpec(&s.dir.Spec)
	q.MaxUsers, q.MaxGroups = r.MaxUsers, r.MaxGroups
	in.Entries = map[string]entry{}
	add := func(key string, u *ldap.User) {
		e, why := toEntry(u, profiles)
		if why != "" {
			out.skipped++
			return
		}
		in.Entries[strings.ToLower(key)] = e
	}
	if s.dir.Spec.Provisioning != iamv1alpha1.ProvisioningOnDemand {
		snap, err := ldap.Read(ctx, conn, q)
		if err != nil {
			return ldapFailure(err)
		}
		for i := range snap.Users {
			add(snap.Users[i].Login, &snap.Users[i])
		}
		out.skipped += len(snap.Skipped)
		out.found, out.groups = len(in.Entries), len(snap.Groups)
		usersSeen.WithLabelValues(s.dir.Namespace, s.dir.Name).Set(float64(out.found))
		groupsSeen.WithLabelValues(s.dir.Namespace, s.dir.Name).Set(float64(out.groups))
		return nil
	}
	groups, f := lookupEach(ctx, conn, q, s, in, add)
	if f != nil {
		return f
	}
	out.onDemand = 0
	for i := range s.users {
		if managedBy(&s.users[i], s.dir.Name) {
			out.onDemand++
		}
	}
	out.found, out.groups = len(in.Entries), groups
	usersSeen.WithLabelValues(s.dir.Namespace, s.dir.Name).Set(float64(out.found))
	groupsSeen.WithLabelValues(s.dir.Namespace, s.dir.Name).Set(float64(out.groups))
	return nil
}

// lookupEach is read in OnDemand mode: one lookup per User of the directory
// (the login is escaped by ldap.Lookup, so no login can match another
// entry), add called for each one found, in.NotFound filled in for the
// others. It returns how many distinct groups the users found are in.
func lookupEach(ctx context.Context, conn ldap.Conn, q ldap.Query, s *scope, in *planInput, add func(string, *ldap.User)) (int, *failure) {
	in.NotFound = map[string]string{}
	groups := map[string]bool{}
	for i := range s.users {
		u := &s.users[i]
		if !managedBy(u, s.dir.Name) {
			continue
		}
		found, err := ldap.Lookup(ctx, conn, q, u.Spec.Login)
		switch {
		case errors.Is(err, ldap.ErrNotFound):
			in.NotFound[strings.ToLower(u.Spec.Login)] = notFound
			continue
		case ldap.ReasonOf(err) == ldap.ReasonAmbiguous:
			in.NotFound[strings.ToLower(u.Spec.Login)] = err.Error()
			continue
		case err != nil:
			return 0, ldapFailure(err)
		}
		add(u.Spec.Login, found)
		for _, g := range found.Groups {
			groups[ldapdn.Normalize(g.DN)] = true
		}
	}
	return len(groups), nil
}

// activeUsers counts the active Users of the directory in the cache.
func activeUsers(s *scope) int {
	n := 0
	for i := range s.users {
		if u := &s.users[i]; managedBy(u, s.dir.Name) && u.Spec.IsActive() {
			n++
		}
	}
	return n
}

// ldapFailure turns an error of internal/ldap into a failure whose reason is
// the ldap Reason and whose message is the server's reason in words, made
// stable (stableMessage).
func ldapFailure(err error) *failure {
	reason := string(ldap.ReasonOf(err))
	if reason == "" {
		reason = iamv1alpha1.ReasonSyncFailed
	}
	return &failure{reason: reason, message: stableMessage(err.Error()), retry: ldap.ReasonOf(err) != ldap.ReasonInvalidConfig}
}

// localAddr is the local end of a connection in a Go network error
// ("read tcp 127.0.0.1:50123->10.0.0.5:636: ..."): its port changes with
// every connection.
var localAddr = regexp.MustCompile(`\b(tcp[46]?|udp[46]?) \S+->`)

// stableMessage drops from a failure's text what changes from one attempt
// to the next (the local port of a connection), so that a failure that
// repeats reads the same: one condition, one Event.
func stableMessage(msg string) string {
	return localAddr.ReplaceAllString(msg, "$1 ")
}

// firstLine is the first of the joined errors, with how many more there
// were.
func firstLine(err error) string {
	lines := strings.Split(err.Error(), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return fmt.Sprintf("%s (and %d more)", lines[0], len(lines)-1)
}
