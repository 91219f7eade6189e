package outbound

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

// secretReader serves the Secrets it holds, or err, and records the reads
// and whether the context's logger was a discarding one.
type secretReader struct {
	secrets map[string]*corev1.Secret
	err     error
	reads   []string
	loud    bool
}

func (r *secretReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	r.reads = append(r.reads, key.String())
	if logr.FromContextOrDiscard(ctx).GetSink() != nil {
		r.loud = true
	}
	if r.err != nil {
		return r.err
	}
	s, ok := r.secrets[key.String()]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, key.Name)
	}
	s.DeepCopyInto(obj.(*corev1.Secret))
	return nil
}

func (r *secretReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("not listed")
}

const resolveValue = "Sup3rSecretValue"

func markedSecret(name, marker string, typ corev1.SecretType) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: name, ResourceVersion: "7"}, Type: typ,
		Data: map[string][]byte{"password": []byte(resolveValue)}}
	if marker != "" {
		s.Labels = map[string]string{iamv1alpha1.LabelCredentialFor: marker}
	}
	return s
}

func TestResolve(t *testing.T) {
	notFound := Result{Reason: ReasonSecretNotFound, Message: "create it"}
	world := map[string]*corev1.Secret{
		"demo/good":       markedSecret("good", "directory.corp", corev1.SecretTypeOpaque),
		"demo/unmarked":   markedSecret("unmarked", "", corev1.SecretTypeOpaque),
		"demo/elsewhere":  markedSecret("elsewhere", "directory.other", corev1.SecretTypeOpaque),
		"demo/sa-token":   markedSecret("sa-token", "directory.corp", corev1.SecretTypeServiceAccountToken),
		"other/good":      markedSecret("good", "directory.corp", corev1.SecretTypeOpaque),
		"demo/other-good": markedSecret("other-good", "directory.corp", corev1.SecretTypeOpaque),
	}
	tests := map[string]struct {
		name       string
		readErr    error
		wantSecret bool
		wantReason string
		wantReads  int
		wantErr    bool
	}{
		"marked":                {name: "good", wantSecret: true, wantReason: ReasonValid, wantReads: 1},
		"absent":                {name: "absent", wantReason: ReasonSecretNotFound, wantReads: 1},
		"not marked":            {name: "unmarked", wantReason: iamv1alpha1.ReasonSecretNotMarked, wantReads: 1},
		"marked for another":    {name: "elsewhere", wantReason: iamv1alpha1.ReasonSecretNotMarked, wantReads: 1},
		"type never used":       {name: "sa-token", wantReason: iamv1alpha1.ReasonSecretTypeNotAllowed, wantReads: 1},
		"another namespace":     {name: "other/good", wantReason: iamv1alpha1.ReasonInvalidSpec},
		"a path":                {name: "../other-good", wantReason: iamv1alpha1.ReasonInvalidSpec},
		"the API server failed": {name: "good", readErr: errors.New("connection refused"), wantErr: true, wantReads: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := &secretReader{secrets: world, err: tc.readErr}
			ctx := logr.NewContext(context.Background(), funcr.New(func(_, _ string) {}, funcr.Options{}))
			ref := Ref{Namespace: "demo", Name: tc.name, Field: "spec.bindPasswordSecretRef.name", Kind: ForDirectory, Object: "corp", NotFound: notFound}
			sec, res, err := Resolve(ctx, r, ref)
			if (err != nil) != tc.wantErr || (sec != nil) != tc.wantSecret || res.Reason != tc.wantReason || len(r.reads) != tc.wantReads {
				t.Fatalf("Resolve() = secret %v, %+v, %v after reads %v; want secret %v, reason %q, error %v, %d reads",
					sec != nil, res, err, r.reads, tc.wantSecret, tc.wantReason, tc.wantErr, tc.wantReads)
			}
			if r.loud {
				t.Error("Resolve read the Secret with the caller's logger: client-go would log its data at -v=8")
			}
			if tc.wantReason == ReasonSecretNotFound && res != notFound {
				t.Errorf("Resolve() = %+v, want ref.NotFound", res)
			}
			var readErr *ReadError
			if tc.wantErr && (!errors.As(err, &readErr) || !strings.Contains(err.Error(), "Secret demo/good")) {
				t.Errorf("the error %v is not a *ReadError naming Secret demo/good", err)
			}
			out := fmt.Sprintf("%s %s %v", res.Message, res.Reason, err)
			if strings.Contains(out, resolveValue) {
				t.Errorf("Resolve() shows the value: %s", out)
			}
		})
	}
}

func TestResolveInvalidNameMessage(t *testing.T) {
	_, res, _ := Resolve(context.Background(), &secretReader{}, Ref{Namespace: "demo", Name: "other/x",
		Field: "spec.credentials.secretRef.name", Kind: ForConnection, Object: "warehouse"})
	want := `spec.credentials.secretRef.name "other/x" is not the name of a Secret (lower-case letters, digits, '-' and '.'). ` +
		"Secrets are read in the Connection's own namespace demo only: a reference cannot name another namespace."
	if res.Message != want {
		t.Errorf("got %s\nwant %s", res.Message, want)
	}
}

func TestValue(t *testing.T) {
	s := markedSecret("good", "directory.corp", corev1.SecretTypeOpaque)
	s.Data["empty"] = nil
	tests := map[string]struct {
		key  string
		want Secret
		ok   bool
	}{
		"there":  {key: "password", want: resolveValue, ok: true},
		"empty":  {key: "empty"},
		"absent": {key: "nope"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got, ok := Value(s, tc.key); got != tc.want || ok != tc.ok {
				t.Errorf("Value(%q) = value of %d bytes, %v; want %d bytes, %v", tc.key, len(got), ok, len(tc.want), tc.ok)
			}
		})
	}
}
