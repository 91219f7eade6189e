package status

import (
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// sample is a status with a field no comparison names.
type sample struct {
	Count      int32
	Names      []string
	Added      string
	Conditions []metav1.Condition
}

func sampleConditions(s *sample) *[]metav1.Condition { return &s.Conditions }

func TestUnchanged(t *testing.T) {
	old := metav1.NewTime(time.Unix(1000, 0))
	ready := func(msg string, at metav1.Time) metav1.Condition {
		c := Condition(iamv1alpha1.ConditionReady, true, iamv1alpha1.ReasonReconciled, msg)
		c.LastTransitionTime = at
		return c
	}
	cur := sample{Count: 1, Names: []string{}, Conditions: []metav1.Condition{ready("ok", old),
		{Type: "Foreign", Status: metav1.ConditionTrue, Reason: "Theirs"}}}
	for name, tc := range map[string]struct {
		want  sample
		owned []string
		same  bool
	}{
		"the same, nil for an empty list, another transition time": {
			want: sample{Count: 1, Conditions: []metav1.Condition{ready("ok", metav1.Now())}}, same: true},
		"a field no one listed differs": {
			want: sample{Count: 1, Added: "new", Conditions: []metav1.Condition{ready("ok", old)}}},
		"a condition's message differs": {
			want: sample{Count: 1, Conditions: []metav1.Condition{ready("changed", old)}}},
		"an owned condition to remove": {
			want: sample{Count: 1, Conditions: []metav1.Condition{ready("ok", old)}}, owned: []string{"Foreign"}},
	} {
		t.Run(name, func(t *testing.T) {
			before := len(cur.Conditions)
			if got := Unchanged(cur, tc.want, sampleConditions, tc.owned...); got != tc.same {
				t.Errorf("Unchanged = %v, want %v", got, tc.same)
			}
			if len(cur.Conditions) != before || tc.want.Conditions == nil {
				t.Error("Unchanged cleared the caller's conditions")
			}
		})
	}
}

func TestFailed(t *testing.T) {
	old := metav1.NewTime(time.Unix(1000, 0))
	conds := []metav1.Condition{
		{Type: iamv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: iamv1alpha1.ReasonReconciled, LastTransitionTime: old},
		{Type: iamv1alpha1.ConditionLicensed, Status: metav1.ConditionTrue, Reason: "SeatGranted", LastTransitionTime: old},
	}
	err := apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "db", errors.New("no RBAC"))
	got := Failed(conds, 3, err)
	ready := meta.FindStatusCondition(got, iamv1alpha1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != iamv1alpha1.ReasonReconcileFailed ||
		!strings.HasPrefix(ready.Message, "Secrets \"db\" is forbidden") || !strings.HasSuffix(ready.Message, "retries with backoff.") ||
		ready.ObservedGeneration != 3 || ready.LastTransitionTime == old {
		t.Errorf("Ready = %+v", ready)
	}
	if l := meta.FindStatusCondition(got, iamv1alpha1.ConditionLicensed); l == nil || *l != conds[1] || len(got) != 2 {
		t.Errorf("the other conditions changed: %+v", got)
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{"": "", "cannot read x": "Cannot read x.", "Done.": "Done.", " émoi ": "Émoi."} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
