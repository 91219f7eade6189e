package admission

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestJudgeResponses pins what a judge's answers become once
// controller-runtime's typed validator sends them: the responses the raw
// handlers made (a denial is 403 with its sentence, a failure to decide
// 503, warnings on an allowed request), and the collectors' cleanup
// admitted before the rule runs.
func TestJudgeResponses(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := iamv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(&iamv1alpha1.Group{TypeMeta: metav1.TypeMeta{APIVersion: iamv1alpha1.GroupVersion.String(), Kind: "Group"},
		ObjectMeta: metav1.ObjectMeta{Name: "ops", Namespace: "team"}})
	if err != nil {
		t.Fatal(err)
	}
	request := func(op admissionv1.Operation, username string) admission.Request {
		r := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{Operation: op, Namespace: "team", Name: "ops",
			UserInfo: authenticationv1.UserInfo{Username: username}}}
		switch op {
		case admissionv1.Create:
			r.Object.Raw = raw
		case admissionv1.Update:
			r.Object.Raw, r.OldObject.Raw = raw, raw
		case admissionv1.Delete:
			r.OldObject.Raw = raw
		}
		return r
	}
	for name, tc := range map[string]struct {
		rule judge[*iamv1alpha1.Group]
		req  admission.Request
		want admission.Response
	}{
		"a denial": {
			rule: func(context.Context, admission.Request, *iamv1alpha1.Group, *iamv1alpha1.Group) (admission.Warnings, error) {
				return nil, deny("%s cannot: %q; ask one.", "bob", "x")
			},
			req:  request(admissionv1.Update, "bob"),
			want: admission.Denied(`bob cannot: "x"; ask one.`),
		},
		"a failure to decide": {
			rule: func(context.Context, admission.Request, *iamv1alpha1.Group, *iamv1alpha1.Group) (admission.Warnings, error) {
				return nil, unavailable(errors.New("gatehouse is starting"))
			},
			req:  request(admissionv1.Create, "bob"),
			want: errored(errors.New("gatehouse is starting")),
		},
		"warnings": {
			rule: func(context.Context, admission.Request, *iamv1alpha1.Group, *iamv1alpha1.Group) (admission.Warnings, error) {
				return admission.Warnings{"a", "b"}, nil
			},
			req:  request(admissionv1.Delete, "bob"),
			want: admission.Allowed("").WithWarnings("a", "b"),
		},
		"before and after, the request's user": {
			rule: func(_ context.Context, req admission.Request, before, after *iamv1alpha1.Group) (admission.Warnings, error) {
				if before != nil || after == nil || after.Name != "ops" || req.UserInfo.Username != "bob" {
					return nil, deny("before %v, after %v, user %s", before, after, req.UserInfo.Username)
				}
				return nil, nil
			},
			req:  request(admissionv1.Create, "bob"),
			want: admission.Allowed(""),
		},
		"the garbage collector deletes, and the rule is not asked": {
			rule: func(context.Context, admission.Request, *iamv1alpha1.Group, *iamv1alpha1.Group) (admission.Warnings, error) {
				return nil, deny("asked")
			},
			req:  request(admissionv1.Delete, "system:serviceaccount:kube-system:generic-garbage-collector"),
			want: admission.Allowed(""),
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := admission.WithValidator[*iamv1alpha1.Group](scheme, tc.rule).Handle(context.Background(), tc.req)
			if diff := cmp.Diff(tc.want.AdmissionResponse, got.AdmissionResponse); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCollectorKeepsWhatItNeeds: the garbage collector's and namespace
// controller's updates that only remove finalizers or owner references, or
// turn an owner reference's blockOwnerDeletion off, pass every rule;
// anything more does not.
func TestCollectorKeepsWhatItNeeds(t *testing.T) {
	owner := `{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u1","controller":true,"blockOwnerDeletion":true}`
	unblocked := `{"apiVersion":"v1","kind":"ConfigMap","name":"o","uid":"u1","controller":true,"blockOwnerDeletion":false}`
	obj := func(owners, finalizers, note string) []byte {
		return []byte(`{"metadata":{"name":"s","ownerReferences":[` + owners + `],"finalizers":[` + finalizers + `]},"spec":{"note":"` + note + `"}}`)
	}
	for name, tc := range map[string]struct {
		before, after []byte
		want          bool
	}{
		"a finalizer removed":        {obj(owner, `"a","b"`, ""), obj(owner, `"a"`, ""), true},
		"an owner reference removed": {obj(owner, "", ""), obj("", "", ""), true},
		"blockOwnerDeletion off":     {obj(owner, "", ""), obj(unblocked, "", ""), true},
		"an owner reference added":   {obj("", "", ""), obj(owner, "", ""), false},
		"another owner, same name":   {obj(owner, "", ""), obj(strings.Replace(owner, "u1", "u2", 1), "", ""), false},
		"the spec changed besides":   {obj(owner, `"a"`, ""), obj(owner, "", "x"), false},
		"a finalizer added":          {obj(owner, "", ""), obj(owner, `"a"`, ""), false},
	} {
		if got := onlyRemovesFinalizersOrOwners(tc.before, tc.after); got != tc.want {
			t.Errorf("%s: %t, want %t", name, got, tc.want)
		}
	}
}
