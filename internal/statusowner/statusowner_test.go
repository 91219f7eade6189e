package statusowner

import (
	"maps"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func entry(manager string, op metav1.ManagedFieldsOperationType, sub, fields string) metav1.ManagedFieldsEntry {
	return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, Subresource: sub, FieldsType: "FieldsV1",
		FieldsV1: metav1.NewFieldsV1(fields)}
}

func TestMarkAndFields(t *testing.T) {
	const (
		apply  = metav1.ManagedFieldsOperationApply
		update = metav1.ManagedFieldsOperationUpdate
	)
	for name, tc := range map[string]struct {
		entries      []metav1.ManagedFieldsEntry
		scope        []string
		wantFields   []string
		wantManagers []string
	}{
		"only the operator": {entries: []metav1.ManagedFieldsEntry{
			entry("gatehouse-user", apply, "status", `{"f:status":{"f:seat":{},"f:groups":{}}}`),
			entry("gatehouse-connection", apply, "status", `{"f:status":{"f:credentials":{}}}`),
			entry("kubectl", update, "", `{"f:spec":{"f:groups":{}}}`),
		}},
		"a merge patch of the status": {entries: []metav1.ManagedFieldsEntry{
			entry("gatehouse-user", apply, "status", `{"f:status":{"f:seat":{}}}`),
			entry("kubectl-patch", update, "status", `{"f:status":{"f:globalPermissions":{},"f:seat":{}}}`),
		}, wantFields: []string{"globalPermissions", "seat"}, wantManagers: []string{"kubectl-patch"}},
		"an operator name with Update is not the operator": {entries: []metav1.ManagedFieldsEntry{
			entry("gatehouse-user", update, "status", `{"f:status":{"f:resources":{}}}`),
		}, wantFields: []string{"resources"}, wantManagers: []string{"gatehouse-user"}},
		"two forgers, scoped to credentials": {entries: []metav1.ManagedFieldsEntry{
			entry("a", apply, "status", `{"f:status":{"f:credentials":{"k:{\"connection\":\"lake\"}":{}}}}`),
			entry("b", update, "status", `{"f:status":{"f:seat":{}}}`),
		}, scope: []string{"credentials"}, wantFields: []string{"credentials"}, wantManagers: []string{"a", "b"}},
		"a kubectl edit of the status (nested, with its own members)": {entries: []metav1.ManagedFieldsEntry{
			entry("kubectl-edit", update, "status", `{"f:status":{".":{},"f:conditions":{".":{},"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}},"f:seat":{}}}`),
		}, wantFields: []string{"conditions", "seat"}, wantManagers: []string{"kubectl-edit"}},
		"out of scope": {entries: []metav1.ManagedFieldsEntry{
			entry("b", update, "status", `{"f:status":{"f:seat":{}}}`),
		}, scope: []string{"credentials"}},
		"spec writes are not status": {entries: []metav1.ManagedFieldsEntry{
			entry("mallory", apply, "", `{"f:spec":{"f:groups":{}}}`),
		}},
		"garbage fields": {entries: []metav1.ManagedFieldsEntry{
			entry("x", update, "status", `not json`),
		}},
	} {
		t.Run(name, func(t *testing.T) {
			u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "carol", UID: types.UID(name), ResourceVersion: "7", ManagedFields: tc.entries,
				Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}"}}}
			out, err := CacheTransform(u)
			if err != nil {
				t.Fatal(err)
			}
			u = out.(*iamv1alpha1.User)
			if u.ManagedFields != nil || u.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
				t.Errorf("managedFields or last-applied kept: %+v", u.ObjectMeta)
			}
			fields, managers := Fields(u, tc.scope...)
			if !slices.Equal(fields, tc.wantFields) || !slices.Equal(managers, tc.wantManagers) {
				t.Errorf("Fields = %v by %v, want %v by %v", fields, managers, tc.wantFields, tc.wantManagers)
			}
			// Transforming again keeps the record; another version drops it.
			again := u.DeepCopy()
			Mark(again)
			if f, _ := Fields(again, tc.scope...); !slices.Equal(f, tc.wantFields) {
				t.Errorf("a second transform changed the record: %v", f)
			}
			again.ResourceVersion = "8"
			Mark(again)
			if f, _ := Fields(again); f != nil {
				t.Errorf("a record of another resourceVersion was believed: %v", f)
			}
			if all, _ := Fields(u); Written().Update(event.UpdateEvent{ObjectOld: u, ObjectNew: u}) != (len(all) > 0) {
				t.Errorf("Written() disagrees with Fields %v", all)
			}
		})
	}
}

// The cached object carries nothing of the record: its annotations are
// the API server's (kubectl's last-applied configuration aside), so an
// annotation someone sets is never mistaken for a record, and an object
// from the cache written back would plant nothing.
func TestNothingPlantedInTheObject(t *testing.T) {
	u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "carol", UID: "u-1", ResourceVersion: "7",
		Annotations: map[string]string{"team": "data", "cache.iam.gatehouse.dev/foreign-status": `{"rv":"7","fields":["seat"],"managers":["x"]}`},
		ManagedFields: []metav1.ManagedFieldsEntry{
			entry("kubectl-patch", metav1.ManagedFieldsOperationUpdate, "status", `{"f:status":{"f:seat":{}}}`)}}}
	Mark(u)
	if f, _ := Fields(u); !slices.Equal(f, []string{"seat"}) {
		t.Fatalf("Fields = %v, want [seat]", f)
	}
	want := map[string]string{"team": "data", "cache.iam.gatehouse.dev/foreign-status": `{"rv":"7","fields":["seat"],"managers":["x"]}`}
	if !maps.Equal(u.Annotations, want) {
		t.Errorf("the transform changed the annotations to %v, want them as written %v", u.Annotations, want)
	}
	// Another object (another UID) of the same name and version has no record.
	other := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Name: "carol", UID: "u-2", ResourceVersion: "7",
		ManagedFields: []metav1.ManagedFieldsEntry{entry("gatehouse-user", metav1.ManagedFieldsOperationApply, "status", `{"f:status":{"f:seat":{}}}`)}}}
	Mark(other)
	if f, m := Fields(other); f != nil {
		t.Errorf("another object's record was believed: %v by %v", f, m)
	}
	// The repair: a later version the operator alone wrote forgets the record.
	u.ResourceVersion = "8"
	u.ManagedFields = []metav1.ManagedFieldsEntry{entry("gatehouse-user", metav1.ManagedFieldsOperationApply, "status", `{"f:status":{"f:seat":{}}}`)}
	Mark(u)
	if _, ok := records.Load(u.UID); ok {
		t.Error("the record of a repaired object was kept")
	}
}
