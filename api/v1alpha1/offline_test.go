package v1alpha1_test

// The offline twin of the API server: every object these tests create is
// also judged by internal/crdvalidate, which `gatehouse access -f` uses to
// refuse what the API server refuses. Its verdict must be the server's
// (both accept, or both refuse with the same causes) and, when accepted,
// the object it defaults must be the one the server stores.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/gatehouse-dev/gatehouse/config/crd"
	"github.com/gatehouse-dev/gatehouse/internal/crdvalidate"
)

var offlineValidator = sync.OnceValues(func() (*crdvalidate.Validator, error) {
	crds, err := crd.Load()
	if err != nil {
		return nil, err
	}
	return crdvalidate.New(crds), nil
})

// judgeOffline judges obj, about to be created, as the API server would: it
// is encoded as the client sends it (JSON, with its kind).
func judgeOffline(t *testing.T, obj client.Object) *crdvalidate.Result {
	t.Helper()
	v, err := offlineValidator()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("cannot encode %T: %v", obj, err)
	}
	u := &unstructured.Unstructured{}
	if err := utiljson.Unmarshal(data, &u.Object); err != nil {
		t.Fatalf("cannot decode %T: %v", obj, err)
	}
	if u.GetKind() == "" {
		gvk, err := apiutil.GVKForObject(obj, env.Scheme)
		if err != nil {
			t.Fatalf("cannot find the kind of %T: %v", obj, err)
		}
		u.SetGroupVersionKind(gvk)
	}
	res, err := v.Create(u)
	if err != nil {
		t.Fatalf("offline: cannot judge %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	if len(res.UnknownFields) > 0 {
		// The client sends without strict field validation: the server
		// would drop them with a warning, and the tests have none.
		t.Fatalf("offline: unknown fields %v in %s %s", res.UnknownFields, u.GetKind(), u.GetName())
	}
	return res
}

// knownExceptions are server causes that cannot be reproduced offline, with
// the reason. Keep it empty unless a check truly needs the cluster.
var knownExceptions = map[string]string{}

// compareVerdicts checks that the offline verdict res is the API server's
// answer err to the same create; when both accepted, that the defaulted
// object is the stored one.
func compareVerdicts(t *testing.T, err error, res *crdvalidate.Result) {
	t.Helper()
	offlineErr := res.Err()
	switch {
	case err == nil && offlineErr == nil:
		compareStored(t, res)
		return
	case err == nil:
		t.Errorf("offline refuses what the API server accepts: %v", offlineErr)
		return
	case offlineErr == nil:
		if apierrors.IsInvalid(err) {
			for _, c := range causes(err) {
				if reason, ok := knownExceptions[c.Message]; ok {
					t.Logf("known exception, not checked offline (%s): %s", reason, c)
					return
				}
			}
		}
		t.Errorf("offline accepts what the API server refuses: %v", err)
		return
	}
	if !apierrors.IsInvalid(err) {
		t.Errorf("the API server refuses with %q (reason %q), not as Invalid; offline: %v", err, apierrors.ReasonForError(err), offlineErr)
		return
	}
	if diff := cmp.Diff(causes(err), causes(offlineErr)); diff != "" {
		t.Errorf("causes of the refusal (-API server +offline):\n%s", diff)
	}
}

type cause struct{ Type, Field, Message string }

func (c cause) String() string { return fmt.Sprintf("%s: %s (%s)", c.Field, c.Message, c.Type) }

// causes returns the causes of an API status error, sorted: the API server
// does not promise an order (CEL rules run in map order).
func causes(err error) []cause {
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		return []cause{{Message: "no details: " + err.Error()}}
	}
	var out []cause
	for _, c := range status.Status().Details.Causes {
		out = append(out, cause{string(c.Type), c.Field, c.Message})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// compareStored checks that the object the API server stored is the one the
// offline judge defaulted, apart from metadata the server fills in.
func compareStored(t *testing.T, res *crdvalidate.Result) {
	t.Helper()
	stored := &unstructured.Unstructured{}
	stored.SetGroupVersionKind(res.Object.GroupVersionKind())
	if err := env.Client.Get(ctxFor(t), client.ObjectKeyFromObject(res.Object), stored); err != nil {
		t.Errorf("cannot read back %s %s: %v", res.Object.GetKind(), res.Object.GetName(), err)
		return
	}
	withoutMeta := func(u *unstructured.Unstructured) map[string]any {
		m := u.DeepCopy().Object
		delete(m, "metadata")
		return m
	}
	if diff := cmp.Diff(withoutMeta(stored), withoutMeta(res.Object)); diff != "" {
		t.Errorf("%s %s after defaulting (-API server +offline):\n%s", res.Object.GetKind(), res.Object.GetName(), diff)
	}
	for _, f := range [][]string{{"metadata", "labels"}, {"metadata", "annotations"}} {
		want, _, _ := unstructured.NestedFieldNoCopy(stored.Object, f...)
		got, _, _ := unstructured.NestedFieldNoCopy(res.Object.Object, f...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s %s (-API server +offline):\n%s", res.Object.GetKind(), res.Object.GetName(), strings.Join(f, "."), diff)
		}
	}
}
