package directory

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Event reasons on a Directory (and on the Users it leaves alone).
const (
	EventSynced           = "Synced"
	EventSyncFailed       = "SyncFailed"
	EventDryRun           = "DryRun"
	EventLoginConflict    = "LoginConflict"
	EventUnknownLogins    = "UnknownLogins"
	EventInsecure         = "InsecureSkipVerify"
	EventNotManaged       = "NotManagedByDirectory"
	EventDeactivationStop = iamv1alpha1.ReasonDeactivationLimit
	EventEmptyDirectory   = iamv1alpha1.ReasonEmptyDirectory
	// EventDeactivatedByDirectory (Warning, on a User and its Directory): the
	// sync deactivated a User an administrator had set active: true on.
	EventDeactivatedByDirectory = "DeactivatedByDirectory"
)

// statusWriter writes Directory.status as iamv1alpha1.FieldManagerDirectory
// (the name the Directory's Users are applied with too).
var statusWriter = status.NewWriter(iamv1alpha1.FieldManagerDirectory, "Directory")

// maxListed bounds the items a condition message lists.
const maxListed = 10

func conditionOf(st *iamv1alpha1.DirectoryStatus, typ string) *metav1.Condition {
	return meta.FindStatusCondition(st.Conditions, typ)
}

// desiredStatus is the Directory's status after a sync.
func (r *Reconciler) desiredStatus(s *scope, out *outcome) iamv1alpha1.DirectoryStatus {
	d := s.dir
	cur := d.Status
	st := iamv1alpha1.DirectoryStatus{
		ObservedGeneration:      cur.ObservedGeneration,
		LastAttemptTime:         &metav1.Time{Time: s.start},
		LastSuccessTime:         cur.LastSuccessTime,
		LastSyncDuration:        &metav1.Duration{Duration: out.duration.Round(time.Millisecond)},
		UsersFound:              cur.UsersFound,
		GroupsFound:             cur.GroupsFound,
		ActiveUsers:             int32(out.active),
		Skipped:                 cur.Skipped,
		SyncNowHandled:          d.Annotations[iamv1alpha1.AnnotationSyncNow],
		AllowMassRemovalHandled: cur.AllowMassRemovalHandled,
		SchemaDefaults:          ldap.QueryFromSpec(&d.Spec).SchemaDefaults(),
	}
	if out.allowed != "" && !d.Spec.DryRun {
		st.AllowMassRemovalHandled = out.allowed
	}
	if out.read {
		st.UsersFound, st.GroupsFound, st.Skipped = int32(out.found), int32(out.groups), int32(out.skipped)
	}
	if out.fail == nil || out.fail.reason == iamv1alpha1.ReasonWriteFailed {
		st.Created, st.Updated = int32(out.created), int32(out.updated)
		st.Deactivated, st.Deleted = int32(out.deactivated), int32(out.deleted)
	}
	if out.fail == nil {
		st.ObservedGeneration = d.Generation
		if out.stop.Reason == "" {
			st.LastSuccessTime = &metav1.Time{Time: s.start}
		}
	}
	if d.Spec.DryRun && out.plan != nil {
		st.Plan = out.plan.summary()
		if out.stop.Reason != "" {
			st.Plan.Blocked = out.stop.Message
		}
		if out.allowed != "" {
			st.Plan.AllowedBy = out.allowed
		}
	}

	ready, synced, degraded := r.conditions(s, out)
	syncing := status.Condition(iamv1alpha1.ConditionSyncing, false, synced.Reason,
		"No sync is running; the Synced condition says how the last one ended.")
	st.Conditions = status.Conditions(cur.Conditions, d.Generation, ready, synced, degraded, insecureCondition(&d.Spec), syncing)
	return st
}

// insecureCondition says whether the bind password or the directory's
// answers can be read or forged on the way.
func insecureCondition(spec *iamv1alpha1.DirectorySpec) metav1.Condition {
	switch {
	case PlaintextBind(spec):
		return status.Condition(iamv1alpha1.ConditionInsecure, true, iamv1alpha1.ReasonPlaintextBind,
			"The bind password travels in clear text: a password bind over ldap:// without StartTLS. Use ldaps:// or set spec.startTLS.")
	case spec.TLS != nil && spec.TLS.InsecureSkipVerify:
		return status.Condition(iamv1alpha1.ConditionInsecure, true, iamv1alpha1.ReasonInsecureSkipVerify,
			"tls.insecureSkipVerify is set: the server's certificate is not verified, so anyone between the operator and the server can read the bind password and forge the directory. Put the server's CA into a Secret, name it in tls.caSecretRef and remove insecureSkipVerify.")
	}
	return status.Condition(iamv1alpha1.ConditionInsecure, false, iamv1alpha1.ReasonTLSVerified,
		"TLS certificates are verified (or the connection does not use TLS).")
}

// markSyncing writes, before a sync, the status as it is with Syncing True
// saying why the sync runs, and without the plan of an earlier dry run
// once dryRun is off.
func (r *Reconciler) markSyncing(ctx context.Context, s *scope, why string) error {
	st := *s.dir.Status.DeepCopy()
	if !s.dir.Spec.DryRun {
		st.Plan = nil
	}
	msg := fmt.Sprintf("A sync started (%s): it reads the directory and then writes the Users; the other conditions are those of the last sync until it ends.", why)
	if s.dir.Spec.DryRun {
		msg = fmt.Sprintf("A dry-run sync started (%s): it reads the directory and plans; nothing is written.", why)
	}
	syncing := status.Condition(iamv1alpha1.ConditionSyncing, true, iamv1alpha1.ReasonSyncInProgress, msg)
	keep := make([]metav1.Condition, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		if c.Type != iamv1alpha1.ConditionSyncing {
			keep = append(keep, c)
		}
	}
	st.Conditions = append(keep, status.Conditions(s.dir.Status.Conditions, s.dir.Generation, syncing)...)
	if _, err := s.status.Apply(ctx, &st, false); err != nil {
		return err
	}
	// The status the sync's own is computed from: Syncing's transition
	// time then moves when it ends.
	s.dir.Status = st
	return nil
}

// removalWords count the removals of a sync in the words of the
// Directory's spec.onRemoval: "deactivated: 2", "deleted: 2", never
// "removed".
func removalWords(spec *iamv1alpha1.DirectorySpec, w writes) string {
	switch spec.OnRemoval {
	case iamv1alpha1.RemovalDelete:
		return fmt.Sprintf("deleted: %d", w.deleted)
	case iamv1alpha1.RemovalKeep:
		return "none removed (spec.onRemoval: Keep)"
	}
	return fmt.Sprintf("deactivated: %d", w.deactivated)
}

// conditions are Ready, Synced and Degraded after a sync.
func (r *Reconciler) conditions(s *scope, out *outcome) (ready, synced, degraded metav1.Condition) {
	switch {
	case out.fail != nil:
		msg := strings.TrimRight(out.fail.message, ".") + "."
		if out.fail.retry {
			msg += " No User was " + removedWord(&s.dir.Spec) + "; the sync is retried with back-off."
		} else {
			msg += " No User was changed."
		}
		ready = status.Condition(iamv1alpha1.ConditionReady, false, out.fail.reason, msg)
		synced = status.Condition(iamv1alpha1.ConditionSynced, false, out.fail.reason, msg)
		degraded = status.Condition(iamv1alpha1.ConditionDegraded, true, out.fail.reason, msg)
		return ready, synced, degraded
	case out.stop.Reason != "":
		msg := out.stop.Message
		if s.dir.Spec.DryRun {
			msg = "Dry run: " + msg + " " + dryRunPlan(out)
		}
		ready = status.Condition(iamv1alpha1.ConditionReady, false, out.stop.Reason, msg)
		synced = status.Condition(iamv1alpha1.ConditionSynced, false, out.stop.Reason, msg)
		degraded = status.Condition(iamv1alpha1.ConditionDegraded, true, out.stop.Reason, msg)
		return ready, synced, degraded
	}
	p := out.plan
	msg := fmt.Sprintf("Read %s and %s; Users created: %d, updated: %d, %s.", words.Count(out.found, "user", "users"), words.Count(out.groups, "group", "groups"),
		out.created, out.updated, removalWords(&s.dir.Spec, out.writes))
	if out.onDemand == 0 {
		msg = onDemandNobody(s.dir.Name)
	}
	if s.dir.Spec.DryRun {
		msg = fmt.Sprintf("Dry run: read %s and %s. %s", words.Count(out.found, "user", "users"), words.Count(out.groups, "group", "groups"), dryRunPlan(out))
		synced = status.Condition(iamv1alpha1.ConditionSynced, true, iamv1alpha1.ReasonDryRun, msg)
	} else {
		if out.allowed != "" {
			msg += fmt.Sprintf(" The safety bound was lifted once by %s=%s.", iamv1alpha1.AnnotationAllowMassRemoval, out.allowed)
		}
		synced = status.Condition(iamv1alpha1.ConditionSynced, true, iamv1alpha1.ReasonSyncSucceeded, msg)
	}
	if out.skipped > 0 {
		synced.Message += fmt.Sprintf(" %s skipped (no login, white space in it, or a login two entries share).", words.Count(out.skipped, "entry was", "entries were"))
	}
	if p.Truncated > 0 {
		synced.Message += fmt.Sprintf(" %s in more directory groups than a User can list (%d); %s cut.", words.Count(p.Truncated, "user is", "users are"), maxDirectoryGroups, words.Plural(p.Truncated, "its list was", "their lists were"))
	}
	if len(out.overridden) > 0 {
		synced.Message += fmt.Sprintf(" %s deactivated although an administrator had set spec.active: true (an Event on each says why): %s.",
			words.Count(len(out.overridden), "User was", "Users were"), list(out.overridden))
	}
	ready = status.Condition(iamv1alpha1.ConditionReady, true, iamv1alpha1.ReasonReconciled, synced.Message)
	return ready, synced, r.degraded(s, out)
}

// degraded is the Degraded condition of a sync that read the directory and
// was not stopped.
func (r *Reconciler) degraded(s *scope, out *outcome) metav1.Condition {
	p := out.plan
	var problems []string
	reason := ""
	if len(p.Conflicts) > 0 {
		reason = iamv1alpha1.ReasonLoginConflict
		problems = append(problems, fmt.Sprintf("%s to Users the directory does not manage, which were left alone: %s. Delete those Users to let the directory create them, or set their spec.source to LDAP and spec.directory to %s to hand them over.",
			words.Count(len(p.Conflicts), "directory login belongs", "directory logins belong"), list(p.Conflicts), s.dir.Name))
	}
	if len(p.Unknown) > 0 {
		if reason == "" {
			reason = iamv1alpha1.ReasonUnknownLogins
		}
		problems = append(problems, fmt.Sprintf("%s of this directory %s not found in it and %s not filled in: %s. Check %s spec.login against the directory's %s.",
			words.Count(len(p.Unknown), "User", "Users"), words.Plural(len(p.Unknown), "was", "were"), words.Plural(len(p.Unknown), "was", "were"), list(p.Unknown), words.Plural(len(p.Unknown), "its", "their"), strings.Join(loginAttributes(&s.dir.Spec), ", ")))
	}
	switch {
	case reason != "":
		return status.Condition(iamv1alpha1.ConditionDegraded, true, reason, strings.Join(problems, " "))
	case s.dir.Spec.DryRun && !p.empty():
		// Not in step: a dry run wrote nothing.
		return status.Condition(iamv1alpha1.ConditionDegraded, false, iamv1alpha1.ReasonDryRun,
			"Dry run: the Users are not brought in step with the directory. "+dryRunPlan(out))
	}
	return status.Condition(iamv1alpha1.ConditionDegraded, false, iamv1alpha1.ReasonInStep, "Every User of the directory is in step with it.")
}

// onDemandNobody is the Synced message of an OnDemand sync with no User to
// fill in: what OnDemand does, and the two ways on.
func onDemandNobody(dir string) string {
	return fmt.Sprintf("Provisioning is OnDemand and no User names this Directory yet, so no entry was read and no User created: "+
		"OnDemand fills in only the Users an administrator creates with spec.source LDAP and spec.directory %s (one per person to let in). "+
		"Create those Users, or set spec.provisioning to All to create a User for every entry the users filter matches.", dir)
}

// removedWord is what spec.onRemoval does, as a past participle.
func removedWord(spec *iamv1alpha1.DirectorySpec) string {
	if spec.OnRemoval == iamv1alpha1.RemovalDelete {
		return "deleted"
	}
	return "deactivated"
}

// dryRunPlan says what the sync a dry run planned would do.
func dryRunPlan(out *outcome) string {
	sum := out.plan.summary()
	msg := fmt.Sprintf("A sync would create %d, update %d, deactivate %d and delete %d of the Users (status.plan); nothing was written. Set dryRun to false to sync.",
		sum.Create, sum.Update, sum.Deactivate, sum.Delete)
	if out.allowed != "" {
		msg = fmt.Sprintf("The safety bound would stop it, but %s=%s lets the next sync through, which would create %d, update %d, deactivate %d and delete %d of the Users (status.plan); nothing was written, and the annotation was not used up. Set dryRun to false to sync.",
			iamv1alpha1.AnnotationAllowMassRemoval, out.allowed, sum.Create, sum.Update, sum.Deactivate, sum.Delete)
	}
	return msg
}

// loginAttributes are the login attributes a sync reads: the spec's, the
// schema preset's or the default.
func loginAttributes(spec *iamv1alpha1.DirectorySpec) []string {
	return ldap.QueryFromSpec(spec).Defaulted().Users.LoginAttributes
}

// list joins the first maxListed items.
func list(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:maxListed], "; "), len(items)-maxListed)
}

// writeStatus applies the Directory's status.
func (r *Reconciler) writeStatus(ctx context.Context, s *scope, out *outcome) error {
	st := r.desiredStatus(s, out)
	out.status = &st
	_, err := s.status.Apply(ctx, &st, false)
	return err
}

// record updates the metrics and records the Events of a sync: one for
// each sync that changed something or failed, and one when a problem
// (conflicts, unknown logins, insecure TLS) first appears or changes.
func (r *Reconciler) record(s *scope, out *outcome) {
	d := s.dir
	syncDuration.WithLabelValues(d.Namespace, d.Name).Observe(out.duration.Seconds())
	changed := func(typ string) (*metav1.Condition, bool) {
		now := meta.FindStatusCondition(out.status.Conditions, typ)
		before := conditionOf(&d.Status, typ)
		return now, now != nil && (before == nil || before.Status != now.Status || before.Reason != now.Reason || before.Message != now.Message)
	}
	switch {
	case out.fail != nil:
		// One Event per distinct failure: a retry that fails the same way
		// (the message is stable: ldapFailure) records none.
		syncErrors.WithLabelValues(d.Namespace, d.Name, out.fail.reason).Inc()
		if _, ok := changed(iamv1alpha1.ConditionSynced); ok {
			out.failChanged = true
			r.Recorder.Eventf(d, nil, corev1.EventTypeWarning, EventSyncFailed, "Sync", "%s", out.fail.message)
		}
	case out.stop.Reason != "" && !d.Spec.DryRun:
		syncErrors.WithLabelValues(d.Namespace, d.Name, out.stop.Reason).Inc()
		r.Recorder.Eventf(d, nil, corev1.EventTypeWarning, out.stop.Reason, "Sync", "%s", out.stop.Message)
	case d.Spec.DryRun:
		if c, ok := changed(iamv1alpha1.ConditionSynced); ok {
			r.Recorder.Eventf(d, nil, corev1.EventTypeNormal, EventDryRun, "Sync", "%s", c.Message)
		}
	case out.created+out.updated+out.removed() > 0:
		r.Recorder.Eventf(d, nil, corev1.EventTypeNormal, EventSynced, "Sync",
			"Users created: %d, updated: %d, %s (%s in the directory).", out.created, out.updated, removalWords(&d.Spec, out.writes), words.Count(out.found, "user", "users"))
	}
	if len(out.overridden) > 0 {
		r.Recorder.Eventf(d, nil, corev1.EventTypeWarning, EventDeactivatedByDirectory, "Sync",
			"%s deactivated although an administrator had set spec.active: true; the directory has no entry for them and decides whether its Users are active: %s.",
			words.Count(len(out.overridden), "User was", "Users were"), list(out.overridden))
	}
	if c, ok := changed(iamv1alpha1.ConditionDegraded); ok && c.Status == metav1.ConditionTrue &&
		(c.Reason == iamv1alpha1.ReasonLoginConflict || c.Reason == iamv1alpha1.ReasonUnknownLogins) {
		reason := EventLoginConflict
		if c.Reason == iamv1alpha1.ReasonUnknownLogins {
			reason = EventUnknownLogins
		}
		r.Recorder.Eventf(d, nil, corev1.EventTypeWarning, reason, "Sync", "%s", c.Message)
		for _, name := range out.plan.ConflictUsers {
			for i := range s.users {
				if u := &s.users[i]; u.Name == name {
					r.Recorder.Eventf(u, d, corev1.EventTypeWarning, EventNotManaged, "Sync",
						"Directory %s has an entry with the login %q, but this User is %s; it was left alone.", d.Name, u.Spec.Login, describeOwner(u))
				}
			}
		}
	}
	if c, ok := changed(iamv1alpha1.ConditionInsecure); ok && c.Status == metav1.ConditionTrue {
		r.Recorder.Eventf(d, nil, corev1.EventTypeWarning, EventInsecure, "Sync", "%s", c.Message)
	}
}
