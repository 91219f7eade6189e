// Package fieldmanagers_test holds the operator's status field managers to
// what is stored: the API server keeps the name of every manager in each
// object's managedFields, so a name is state, not code. A status writer
// whose name the cache does not know has its own writes repaired as
// foreign; a name changed without a migration has every object written by
// the previous release repaired at upgrade.
package fieldmanagers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/controllers"
	"github.com/gatehouse-dev/gatehouse/controllers/internal/status"
	"github.com/gatehouse-dev/gatehouse/internal/statusowner"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/builders"
	"github.com/gatehouse-dev/gatehouse/internal/testenv/operator"
)

// previousRelease are the status field managers of the release before the
// one status writer, by kind, as literals on purpose: they are what the
// API server has stored in the objects' managedFields.
var previousRelease = map[string]string{
	"User":          "gatehouse-user",
	"Group":         "gatehouse-group",
	"License":       "gatehouse-license",
	"Share":         "gatehouse-share",
	"ResourceGrant": "gatehouse-resourcegrant",
	"Connection":    "gatehouse-connection",
	"Directory":     "gatehouse-directory",
}

// credentialsManager wrote User.status.credentials in the previous release.
const credentialsManager = "gatehouse-connection"

// TestEveryStatusKindHasARegisteredWriter walks the Gatehouse kinds that
// have a status and the writers the controllers made (importing package
// controllers imports every controller): each kind has a writer, and each
// writer's field manager is registered with statusowner.
func TestEveryStatusKindHasARegisteredWriter(t *testing.T) {
	_ = controllers.Setup // every controller package, as the operator links them
	byKind := map[string][]string{}
	for _, w := range status.Writers() {
		byKind[w.Kind()] = append(byKind[w.Kind()], w.Manager())
		if !statusowner.Registered(w.Manager()) {
			t.Errorf("the %s writer's field manager %q is not registered with statusowner", w.Kind(), w.Manager())
		}
	}
	kinds := statusKinds(t)
	if len(kinds) < len(previousRelease) {
		t.Fatalf("found the kinds %v with a status, want at least %d", kinds, len(previousRelease))
	}
	for _, kind := range kinds {
		if len(byKind[kind]) == 0 {
			t.Errorf("kind %s has a status but no status.Writer writes it (writers: %v)", kind, byKind)
		}
	}
}

// statusKinds are the kinds of the Gatehouse API whose struct has a
// Status field.
func statusKinds(t *testing.T) []string {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := iamv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var out []string
	for kind, typ := range scheme.KnownTypes(iamv1alpha1.GroupVersion) {
		if typ.Kind() != reflect.Struct || strings.HasSuffix(kind, "List") {
			continue
		}
		if _, ok := typ.FieldByName("Status"); ok {
			out = append(out, kind)
		}
	}
	slices.Sort(out)
	return out
}

// TestPreviousReleaseNamesKept: the operator writes each kind's status
// under the name the previous release stored.
func TestPreviousReleaseNamesKept(t *testing.T) {
	_ = controllers.Setup
	for kind, name := range previousRelease {
		found := false
		for _, w := range status.Writers() {
			found = found || (w.Kind() == kind && w.Manager() == name)
		}
		if !found {
			t.Errorf("no writer of %s status writes as %q, the name the previous release stored: keep it, or migrate the objects written under it", kind, name)
		}
	}
	if !statusowner.Registered(credentialsManager) {
		t.Errorf("%q, the previous release's writer of User.status.credentials, is not registered", credentialsManager)
	}
}

// TestUpgrade writes the status of every kind as the previous release did
// (server-side apply under its field managers), before any operator runs,
// then starts the operator: no field is repaired as foreign (no
// StatusRepaired Event, no repair counted) and every status converges. A
// Group written under a name the operator never registered is the
// control: it is repaired, so the repair is live in this run.
func TestUpgrade(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatalf("cannot start the test control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("cannot stop the test control plane: %v", err)
		}
	})
	ns := env.Namespace(t)
	objs := previousObjects(ns)
	env.Create(t, objs...)
	for _, o := range objs {
		writeStatus(t, env, o)
	}
	control := builders.Group(ns, "control")
	env.Create(t, control)
	apply(t, env, control, "gatehouse-unknown", map[string]any{"members": 7, "conditions": []any{previousReady(1)}})

	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		time.Sleep(200 * time.Millisecond) // the manager sees the end before the API server goes
	}()
	op := &operator.Operator{Options: controllers.Options{MaxConcurrentReconciles: 2}}
	if err := op.Start(ctx, env); err != nil {
		t.Fatalf("cannot start the operator: %v", err)
	}

	for _, o := range objs {
		converged(t, env, o)
	}
	// The control's repair Event arrives, so the absence of the others'
	// is not an Event pipeline that never ran.
	testenv.Eventually(t, time.Minute, "the control Group's StatusRepaired Event", func() (bool, string) {
		got := repairEvents(t, env, ns)
		return slices.Contains(got, "Group/control"), fmt.Sprintf("%v", got)
	})
	if got := repairEvents(t, env, ns); !slices.Equal(got, []string{"Group/control"}) {
		t.Errorf("StatusRepaired Events on %v, want on Group/control only: the previous release's fields were repaired as foreign", got)
	}
	repairs := repairCounts(t)
	for kind := range previousRelease {
		want := 0.0
		if kind == "Group" {
			want = 1 // the control
		}
		if repairs[kind] != want {
			t.Errorf("%v %s status repairs counted, want %v", repairs[kind], kind, want)
		}
	}
}

// previousObjects are one object of every kind, related so that each has
// something to say: carol holds a seat, is in analysts, is shared sales,
// granted churn, and may use the PerUser Connection scratch.
func previousObjects(ns string) []client.Object {
	carol := builders.User(ns, "carol", "full", "analysts")
	return []client.Object{
		builders.License(ns, builders.Profile("full", 5)),
		builders.Group(ns, "analysts"),
		carol,
		builders.Share(ns, "sales", "dataset/sales", builders.To(iamv1alpha1.GranteeUser, "carol", iamv1alpha1.RoleConsumer)),
		builders.Grant(ns, "churn", "project/churn", []iamv1alpha1.Subject{{Kind: "User", Name: "carol"}}, "writeProjectContent"),
		&iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "scratch"}, Spec: iamv1alpha1.ConnectionSpec{
			Type:        iamv1alpha1.ConnectionPostgreSQL,
			Parameters:  map[string]string{"host": "db.example.com"},
			Credentials: iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModePerUser, Type: iamv1alpha1.CredentialBasic},
			UsableBy:    &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll},
		}},
		// OnDemand with no User naming it: a sync reads no entry.
		&iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "corp"}, Spec: iamv1alpha1.DirectorySpec{
			URL: "ldap://127.0.0.1:1", AllowPlaintextBind: true, Provisioning: iamv1alpha1.ProvisioningOnDemand,
			Users: iamv1alpha1.DirectoryUsers{BaseDN: "dc=example,dc=org"},
		}},
	}
}

// oldMessage marks what the previous release wrote: the operator never
// writes it, so a status without it was written anew.
const oldMessage = "Written by the previous release."

func previousReady(generation int64) map[string]any {
	return map[string]any{"type": "Ready", "status": "True", "reason": "Reconciled", "message": oldMessage,
		"observedGeneration": generation, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
}

// writeStatus writes obj's status as the previous release did: its own
// fields under its kind's manager, and carol's credentials under the
// Connection controller's.
func writeStatus(t *testing.T, env *testenv.Env, obj client.Object) {
	t.Helper()
	kind := kindOf(t, env, obj)
	fields := map[string]any{"observedGeneration": 1, "conditions": []any{previousReady(1)}}
	switch kind {
	case "User":
		fields["seat"], fields["groups"] = "Granted", []string{"analysts"}
	case "Group":
		fields["members"] = 1
	case "Share", "ResourceGrant":
		fields["users"] = 1
	case "Connection":
		fields["usersMissing"] = 1
	}
	apply(t, env, obj, previousRelease[kind], fields)
	if kind == "User" {
		apply(t, env, obj, credentialsManager, map[string]any{"credentials": []any{
			map[string]any{"connection": "scratch", "ready": false, "reason": "Missing", "message": oldMessage}}})
	}
}

// apply applies fields to obj's status by server-side apply with force as
// manager.
func apply(t *testing.T, env *testenv.Env, obj client.Object, manager string, fields map[string]any) {
	t.Helper()
	gvk, err := env.Client.GroupVersionKindFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{
		"apiVersion": gvk.GroupVersion().String(), "kind": gvk.Kind,
		"metadata": map[string]any{"name": obj.GetName(), "namespace": obj.GetNamespace()},
		"status":   fields,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Status().Patch(testenv.Context(t, time.Minute), obj, client.RawPatch(types.ApplyPatchType, body),
		client.FieldOwner(manager), client.ForceOwnership); err != nil {
		t.Fatalf("cannot write the status of %s %s as %s: %v", gvk.Kind, obj.GetName(), manager, err)
	}
}

func kindOf(t *testing.T, env *testenv.Env, obj client.Object) string {
	t.Helper()
	gvk, err := env.Client.GroupVersionKindFor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return gvk.Kind
}

// converged waits until the operator has written obj's status: its Ready
// condition observes the object's generation and nothing of the previous
// release's words is left (carol's credentials included).
func converged(t *testing.T, env *testenv.Env, obj client.Object) {
	t.Helper()
	kind := kindOf(t, env, obj)
	testenv.Eventually(t, time.Minute, kind+" "+obj.GetName()+" written by the operator", func() (bool, string) {
		if err := env.Client.Get(testenv.Context(t, time.Minute), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err.Error()
		}
		st := reflect.ValueOf(obj).Elem().FieldByName("Status")
		b, err := json.Marshal(st.Interface())
		if err != nil {
			return false, err.Error()
		}
		conds := st.FieldByName("Conditions").Interface().([]metav1.Condition)
		ready := meta.FindStatusCondition(conds, iamv1alpha1.ConditionReady)
		return ready != nil && ready.ObservedGeneration == obj.GetGeneration() && !strings.Contains(string(b), oldMessage), string(b)
	})
}

// repairEvents are the objects of ns with a StatusRepaired Event, as
// "Kind/name", sorted.
func repairEvents(t *testing.T, env *testenv.Env, ns string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := env.Client.List(testenv.Context(t, time.Minute), &list, client.InNamespace(ns)); err != nil {
		t.Fatalf("cannot list Events: %v", err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Reason == iamv1alpha1.EventStatusRepaired {
			if o := e.Regarding.Kind + "/" + e.Regarding.Name; !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	slices.Sort(out)
	return out
}

// repairCounts reads gatehouse_status_repairs_total by kind (this test
// binary runs one operator, in one namespace).
func repairCounts(t *testing.T) map[string]float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatalf("cannot gather metrics: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "gatehouse_status_repairs_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" {
					out[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}
