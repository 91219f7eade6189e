package crdvalidate_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/gatehouse-dev/gatehouse/config/crd"
	"github.com/gatehouse-dev/gatehouse/internal/crdvalidate"
)

// These tests pin down the package's contract on a few objects; that its
// verdicts are the API server's, case by case, is proven against a real
// kube-apiserver in api/v1alpha1 (validation_test.go).

func newValidator(t testing.TB) *crdvalidate.Validator {
	t.Helper()
	crds, err := crd.Load()
	if err != nil {
		t.Fatal(err)
	}
	return crdvalidate.New(crds)
}

func object(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("bad test YAML: %v\n%s", err, doc)
	}
	if u.GetNamespace() == "" {
		u.SetNamespace("acme")
	}
	return u
}

type cause struct{ Field, Message string }

func TestCreate(t *testing.T) {
	v := newValidator(t)
	tests := map[string]struct {
		reason string
		doc    string
		// want are the causes of the refusal; none means accepted.
		want []cause
		// wantUnknown are the unknown fields reported.
		wantUnknown []string
	}{
		"valid connection": {
			reason: "a complete Connection is accepted",
			doc: `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: lake}
spec:
  type: S3
  credentials: {mode: PerUser, type: KeyPair}
  usableBy: {mode: All}`,
		},
		"usableBy groups without mode": {
			reason: "mode defaults to None, and the CEL rule refuses groups with it",
			doc: `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: lake}
spec:
  type: S3
  credentials: {mode: PerUser, type: KeyPair}
  usableBy: {groups: [analysts]}`,
			want: []cause{{"spec.usableBy", "Invalid value: groups are listed exactly when mode is Groups"}},
		},
		"negative seats": {
			reason: "the OpenAPI minimum",
			doc: `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: License
metadata: {name: default}
spec:
  profiles: [{name: designer, seats: -5}]`,
			want: []cause{{"spec.profiles[0].seats", "Invalid value: -5: spec.profiles[0].seats in body should be greater than or equal to 0"}},
		},
		"name not a DNS subdomain": {
			reason: "the API server's metadata checks run",
			doc: `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Group
metadata: {name: Data_Team}
spec: {}`,
			want: []cause{{"metadata.name", `Invalid value: "Data_Team": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
		},
		"transition rule skipped": {
			reason: "login is immutable (self == oldSelf), a rule that does not run on create",
			doc: `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: alice}
spec: {login: alice}`,
		},
		"unknown field": {
			reason: "pruned and reported, as strict field validation does",
			doc: `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: alice}
spec: {login: alice, logn: alice}`,
			wantUnknown: []string{"spec.logn"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := v.Create(object(t, tc.doc))
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			var got []cause
			for _, e := range res.Errors {
				got = append(got, cause{e.Field, e.ErrorBody()})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: causes (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantUnknown, res.UnknownFields); diff != "" {
				t.Errorf("%s: unknown fields (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCreateDefaults(t *testing.T) {
	v := newValidator(t)
	in := object(t, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: warehouse}
spec:
  type: PostgreSQL
  credentials: {mode: Global, secretRef: {name: warehouse-credentials}}
  usableBy: {}
status: {conditions: []}`)
	before := in.DeepCopy()
	res, err := v.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("refused: %v", res.Err())
	}
	if diff := cmp.Diff(before, in); diff != "" {
		t.Errorf("Create changed its input (-before +after):\n%s", diff)
	}
	mode, _, _ := unstructured.NestedString(res.Object.Object, "spec", "usableBy", "mode")
	if mode != "None" {
		t.Errorf("spec.usableBy.mode = %q, want the default None", mode)
	}
	if _, found := res.Object.Object["status"]; found {
		t.Errorf("status kept; the API server drops it on create (status subresource)")
	}
}

// TestErr: the error reads as the API server's answer.
func TestErr(t *testing.T) {
	v := newValidator(t)
	res, err := v.Create(object(t, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: License
metadata: {name: default}
spec:
  profiles: [{name: designer, seats: -5}]`))
	if err != nil {
		t.Fatal(err)
	}
	err = res.Err()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("Err() = %v, want an Invalid error", err)
	}
	const want = `License.iam.gatehouse.dev "default" is invalid: spec.profiles[0].seats: Invalid value: -5: spec.profiles[0].seats in body should be greater than or equal to 0`
	if err.Error() != want {
		t.Errorf("Err() =\n%s\nwant\n%s", err, want)
	}

	res, err = v.Create(object(t, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: alice}
spec: {logn: alice}`))
	if err != nil {
		t.Fatal(err)
	}
	err = res.Err()
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), `strict decoding error: unknown field "spec.logn"`) {
		t.Errorf("Err() = %v, want a BadRequest naming the unknown field", err)
	}
}

func TestUnknownKind(t *testing.T) {
	v := newValidator(t)
	_, err := v.Create(object(t, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Widget
metadata: {name: w}`))
	if err == nil || !strings.Contains(err.Error(), "no CustomResourceDefinition serves iam.gatehouse.dev/v1alpha1, Kind=Widget") {
		t.Errorf("err = %v, want no CustomResourceDefinition serves the kind", err)
	}
}

// TestConcurrent: the lazily built kinds are safe to share (go test -race).
func TestConcurrent(t *testing.T) {
	v := newValidator(t)
	doc := `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: lake}
spec:
  type: S3
  credentials: {mode: PerUser, type: KeyPair}
  usableBy: {groups: [analysts]}`
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := v.Create(object(t, doc))
			if err == nil && len(res.Errors) != 1 {
				err = errors.New(res.Errors.ToAggregate().Error())
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	v := newValidator(b)
	obj := object(b, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: warehouse}
spec:
  type: PostgreSQL
  credentials: {mode: Global, secretRef: {name: warehouse-credentials}}
  usableBy: {mode: Groups, groups: [data-team]}`)
	for b.Loop() {
		if _, err := v.Create(obj); err != nil {
			b.Fatal(err)
		}
	}
}
