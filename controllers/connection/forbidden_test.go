package connection_test

import (
	"fmt"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// TestForbiddenReachesReady: when the API server forbids the operator a
// write (here a ValidatingAdmissionPolicy of the platform team that refuses
// Roles in one namespace, answered 403 Forbidden), the Connection's Ready
// condition says so in the server's words, and the Connection recovers by
// itself once the policy goes.
func TestForbiddenReachesReady(t *testing.T) {
	t.Parallel()
	ns := env.Namespace(t)
	name := "no-roles-" + ns
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{"rbac.authorization.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"roles"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "false",
				Message:    "the platform team's policy allows no Roles in this namespace",
				Reason:     ptr.To(metav1.StatusReasonForbidden),
			}},
		},
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": ns},
			}},
		},
	}
	create(t, policy, binding)
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx(t), binding)
		_ = env.Client.Delete(ctx(t), policy)
	})

	// The API server takes a moment to load a new policy: wait until a
	// dry-run Role is refused.
	eventually(t, "the policy refuses Roles in "+ns, func() (bool, string) {
		probe := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "probe"}}
		err := env.Client.Create(ctx(t), probe, client.DryRunAll)
		return apierrors.IsForbidden(err), fmt.Sprintf("a dry-run Role: %v", err)
	})

	conn := globalConn(ns, "warehouse", iamv1alpha1.ConnectionType("Snowflake"), "warehouse-creds", nil)
	conn.Spec.DetailsReadableBy = groups("readers")
	create(t, seatedLicense(ns, 10), group(ns, "readers", "k8s-readers"), seated(user(ns, "eve", "readers")),
		markedFor("warehouse", secret(ns, "warehouse-creds", basic("svc", "pw-forbidden-1"), nil)), conn)

	c := waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionReady, fls, iamv1alpha1.ReasonReconcileFailed)
	ready := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionReady)
	for _, want := range []string{"forbidden", "the platform team's policy allows no Roles in this namespace", "retries"} {
		if !strings.Contains(ready.Message, want) {
			t.Errorf("Ready's message %q does not say %q", ready.Message, want)
		}
	}
	if strings.Contains(ready.Message, "pw-forbidden-1") {
		t.Errorf("Ready's message carries the credential: %q", ready.Message)
	}

	// The policy goes: the operator's retries project the Role.
	if err := env.Client.Delete(ctx(t), binding); err != nil {
		t.Fatal(err)
	}
	c = waitCondition(t, ns, "warehouse", iamv1alpha1.ConditionSecretAccess, tru, iamv1alpha1.ReasonProjected)
	if r := meta.FindStatusCondition(c.Status.Conditions, iamv1alpha1.ConditionReady); r == nil || r.Reason == iamv1alpha1.ReasonReconcileFailed {
		t.Errorf("Ready once the Role is projected: %+v", r)
	}
}
