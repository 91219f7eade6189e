package status

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// Unchanged reports whether the written status cur already says what want
// (a status this controller would write) says: the whole structs compared
// with the API's semantics (equality.Semantic: a nil and an empty list are
// the same), except their conditions, compared by ConditionsEqual
// (ignoring order, transition times and other managers' types, except the
// owned ones). conds returns the conditions field of a status. A field added
// to the status is compared without anyone listing it here. The caller
// leaves out of both, beforehand, the fields it does not own.
func Unchanged[T any](cur, want T, conds func(*T) *[]metav1.Condition, owned ...string) bool {
	if !ConditionsEqual(*conds(&cur), *conds(&want), owned...) {
		return false
	}
	// cur and want are copies: clearing their conditions clears nothing of
	// the caller's.
	*conds(&cur), *conds(&want) = nil, nil
	return equality.Semantic.DeepEqual(cur, want)
}

// Retried reports whether err is one a reconcile requeues silently rather
// than reports in a condition: a conflict (the cache is behind a write) or
// an object gone since it was read.
func Retried(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsNotFound(err)
}

// Failed returns conds with Ready False (ReconcileFailed) and err as a
// sentence, the other conditions as they are, transition times kept as
// Conditions keeps them.
func Failed(conds []metav1.Condition, generation int64, err error) []metav1.Condition {
	ready := Condition(iamv1alpha1.ConditionReady, false, iamv1alpha1.ReasonReconcileFailed,
		Sentence(err.Error())+" The operator retries with backoff.")
	out := make([]metav1.Condition, 0, len(conds)+1)
	for _, c := range conds {
		if c.Type != iamv1alpha1.ConditionReady {
			out = append(out, c)
		}
	}
	return append(Conditions(conds, generation, ready), out...)
}

// Sentence is s with a capital first letter and a full stop.
func Sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return words.FullStop(string(unicode.ToUpper(r)) + s[n:])
}
