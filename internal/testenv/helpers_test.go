package testenv

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// fatalTB records Fatalf instead of failing the test that runs it.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runUpdate runs Update with a client whose first Updates fail with errs,
// and returns how many Updates it made and its Fatalf message.
func runUpdate(t *testing.T, errs ...error) (calls int, fatal string) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns"}}
	c := fake.NewClientBuilder().WithObjects(cm.DeepCopy()).WithInterceptorFuncs(interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			calls++
			if calls <= len(errs) {
				return errs[calls-1]
			}
			return c.Update(ctx, obj, opts...)
		},
	}).Build()
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Update(tb, c, cm, func(cm *corev1.ConfigMap) { cm.Data = map[string]string{"k": "v"} })
	}()
	<-done
	return calls, tb.fatal
}

func TestUpdateRetriesConflictsOnly(t *testing.T) {
	gr := schema.GroupResource{Resource: "configmaps"}
	conflict := apierrors.NewConflict(gr, "cm", fmt.Errorf("the object has been modified"))
	tests := map[string]struct {
		errs      []error
		wantCalls int
		wantFatal bool
	}{
		"no error":             {wantCalls: 1},
		"two conflicts":        {errs: []error{conflict, conflict}, wantCalls: 3},
		"forbidden":            {errs: []error{apierrors.NewForbidden(gr, "cm", fmt.Errorf("denied"))}, wantCalls: 1, wantFatal: true},
		"conflict, then error": {errs: []error{conflict, apierrors.NewBadRequest("no")}, wantCalls: 2, wantFatal: true},
		"conflicts forever": {errs: func() []error {
			var e []error
			for range updateBackoff.Steps + 5 {
				e = append(e, conflict)
			}
			return e
		}(), wantCalls: updateBackoff.Steps, wantFatal: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			calls, fatal := runUpdate(t, tc.errs...)
			if calls != tc.wantCalls || (fatal != "") != tc.wantFatal {
				t.Errorf("Update made %d writes and failed with %q; want %d writes, failure %v", calls, fatal, tc.wantCalls, tc.wantFatal)
			}
		})
	}
}
