// Package history judges the apply history a write leaves on an object:
// its managedFields and kubectl's last-applied-configuration annotation.
// Both are input to the next apply: server-side apply removes the fields a
// manager's entry owns that its new configuration leaves out, and kubectl's
// client-side apply removes the fields of the last-applied record that the
// new manifest leaves out. A history forged by one person (an entry of
// "gitops" owning spec.active, a record holding active) lets another
// person's routine apply change what the first could not.
//
// So a write by a requester who may change only some paths is judged by
// path, never by manager name (clients choose their managers' names):
//   - no entry may gain a path the requester may not change;
//   - a path may leave an entry only when the requester may change it, or
//     its value changed (the API server moves a path to the manager that
//     changed it), which the kind's own judge allows only for paths the
//     requester may change;
//   - the last-applied record may differ from the one before (or from
//     none) only at paths the requester may change.
//
// The API server's own bookkeeping of the request (its manager's entry
// gaining the paths it changed, other entries losing them) passes these
// rules by construction. Package history is pure.
package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// LastApplied is kubectl's annotation of the last client-side apply.
const LastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// bookkeeping are paths any writer's entry may gain: kubectl's own record.
var bookkeeping = []fieldpath.Path{
	fieldpath.MakePathOrDie("metadata", "annotations", LastApplied),
}

// Judge returns "" when the history after holds, against before's, is one
// a requester who may change exactly the paths allowed (and what lies
// under them) may leave; else a sentence naming the first path it may
// not claim. before and after are the object's two versions.
func Judge(before, after metav1.Object, allowed []fieldpath.Path) string {
	// The values are read only when a path leaves an entry.
	contents := sync.OnceValues(func() ([2]map[string]any, error) {
		b, err := content(before)
		if err != nil {
			return [2]map[string]any{}, err
		}
		a, err := content(after)
		return [2]map[string]any{b, a}, err
	})
	unchanged := func(p fieldpath.Path) bool {
		c, err := contents()
		return err != nil || sameValue(c[0], c[1], p) // unreadable: judged unchanged, so refused
	}
	may := func(p fieldpath.Path) bool {
		return under(p, allowed) || under(p, bookkeeping) || prefixOf(p, allowed) || prefixOf(p, bookkeeping)
	}
	old, err := entries(before.GetManagedFields())
	if err != nil {
		return fmt.Sprintf("its managedFields before the change cannot be read: %v", err)
	}
	now, err := entries(after.GetManagedFields())
	if err != nil {
		return fmt.Sprintf("managedFields cannot be read: %v", err)
	}
	for _, key := range slices.Sorted(maps.Keys(now)) {
		set := now[key]
		gained := set
		if prev, ok := old[key]; ok {
			gained = set.Difference(prev)
		}
		if p, bad := first(gained, func(p fieldpath.Path) bool { return !may(p) }); bad {
			return fmt.Sprintf("managedFields would record %s as %s, which this requester cannot change: the next apply by that manager would then change it", key, p)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(old)) {
		set := old[key]
		lost := set
		if cur, ok := now[key]; ok {
			lost = set.Difference(cur)
		}
		if p, bad := first(lost, func(p fieldpath.Path) bool { return !may(p) && unchanged(p) }); bad {
			return fmt.Sprintf("managedFields would no longer record %s as %s, which this requester cannot change: the next apply by that manager would then leave it alone", key, p)
		}
	}
	if why := judgeLastApplied(before.GetAnnotations()[LastApplied], after.GetAnnotations()[LastApplied], allowed); why != "" {
		return why
	}
	return ""
}

// content is o as JSON fields.
func content(o metav1.Object) (map[string]any, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(data, &m)
}

// entries are the managedFields entries by what names them.
func entries(mf []metav1.ManagedFieldsEntry) (map[string]*fieldpath.Set, error) {
	out := make(map[string]*fieldpath.Set, len(mf))
	for _, e := range mf {
		key := fmt.Sprintf("manager %q (%s", e.Manager, e.Operation)
		if e.Subresource != "" {
			key += ", subresource " + e.Subresource
		}
		key += ", " + e.APIVersion + ")"
		s := &fieldpath.Set{}
		if raw := e.FieldsV1.GetRawBytes(); len(raw) > 0 {
			if err := s.FromJSON(bytes.NewReader(raw)); err != nil {
				return nil, fmt.Errorf("the entry of %s: %w", key, err)
			}
		}
		if prev, ok := out[key]; ok {
			s = s.Union(prev)
		}
		out[key] = s
	}
	return out, nil
}

// first returns the first path of s (in s's order) that bad says is bad.
func first(s *fieldpath.Set, bad func(fieldpath.Path) bool) (string, bool) {
	var found string
	s.Iterate(func(p fieldpath.Path) {
		if found == "" && bad(p) {
			found = p.String()
		}
	})
	return found, found != ""
}

// under reports whether p is one of paths or lies under one.
func under(p fieldpath.Path, paths []fieldpath.Path) bool {
	for _, a := range paths {
		if len(p) >= len(a) && p[:len(a)].Equals(a) {
			return true
		}
	}
	return false
}

// prefixOf reports whether p is a proper prefix of one of paths: a map
// that holds an allowed field (its entry records the map too).
func prefixOf(p fieldpath.Path, paths []fieldpath.Path) bool {
	for _, a := range paths {
		if len(p) < len(a) && a[:len(p)].Equals(p) {
			return true
		}
	}
	return false
}

// sameValue reports whether the value at p is the same in both contents:
// followed through map fields; from the first list element on, the whole
// list is compared (a conservative answer: any change in it counts).
func sameValue(before, after map[string]any, p fieldpath.Path) bool {
	var b, a any = before, after
	for _, e := range p {
		if e.FieldName == nil {
			break
		}
		bm, _ := b.(map[string]any)
		am, _ := a.(map[string]any)
		b, a = bm[*e.FieldName], am[*e.FieldName]
	}
	return reflect.DeepEqual(b, a)
}

// judgeLastApplied judges kubectl's record: it may differ from the one
// before (or from none) only at the allowed paths.
func judgeLastApplied(before, after string, allowed []fieldpath.Path) string {
	if before == after {
		return ""
	}
	b, err := parseRecord(before)
	if err != nil {
		b = map[string]any{} // an unreadable record before: judged against none
	}
	a, err := parseRecord(after)
	if err != nil {
		return fmt.Sprintf("annotation %s is not the JSON of an object: %v", LastApplied, err)
	}
	for _, p := range allowed {
		erase(b, p)
		erase(a, p)
	}
	for _, m := range []map[string]any{a, b} {
		// What names the object is not what a later apply removes.
		for _, k := range []string{"apiVersion", "kind"} {
			delete(m, k)
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			delete(md, "name")
			delete(md, "namespace")
			if len(md) == 0 {
				delete(m, "metadata")
			}
		}
	}
	if !reflect.DeepEqual(b, a) {
		return fmt.Sprintf("annotation %s would record fields this requester cannot change (%s): the next client-side apply would then change them", LastApplied, differing(b, a))
	}
	return ""
}

func parseRecord(s string) (map[string]any, error) {
	if s == "" {
		return map[string]any{}, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// erase removes the field at p (map fields only) from m, and the maps it
// leaves empty.
func erase(m map[string]any, p fieldpath.Path) {
	if len(p) == 0 || p[0].FieldName == nil {
		return
	}
	k := *p[0].FieldName
	if len(p) == 1 {
		delete(m, k)
		return
	}
	if sub, ok := m[k].(map[string]any); ok {
		erase(sub, p[1:])
		if len(sub) == 0 {
			delete(m, k)
		}
	}
}

// differing names the top-level and second-level fields that differ.
func differing(b, a map[string]any) string {
	var out []string
	keys := map[string]bool{}
	for k := range b {
		keys[k] = true
	}
	for k := range a {
		keys[k] = true
	}
	for k := range keys {
		if reflect.DeepEqual(b[k], a[k]) {
			continue
		}
		bs, bok := b[k].(map[string]any)
		as, aok := a[k].(map[string]any)
		if (!bok && b[k] != nil) || (!aok && a[k] != nil) {
			out = append(out, k) // not a map on one side
			continue
		}
		for kk := range keysOf(bs, as) {
			if !reflect.DeepEqual(bs[kk], as[kk]) {
				out = append(out, k+"."+kk)
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func keysOf(ms ...map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			out[k] = true
		}
	}
	return out
}

// Paths makes field paths of lists of field names from the object's root
// (access's way of naming what a requester may change).
func Paths(names [][]string) []fieldpath.Path {
	out := make([]fieldpath.Path, len(names))
	for i, p := range names {
		elems := make([]any, len(p))
		for j, f := range p {
			elems[j] = f
		}
		out[i] = fieldpath.MakePathOrDie(elems...)
	}
	return out
}

// Same reports whether two versions of an object carry the same apply
// history: the same managedFields entries but for their times (which the
// API server moves on a write that changes nothing else), and the same
// last-applied record.
func Same(before, after metav1.Object) bool {
	if before.GetAnnotations()[LastApplied] != after.GetAnnotations()[LastApplied] {
		return false
	}
	b, a := before.GetManagedFields(), after.GetManagedFields()
	if len(b) != len(a) {
		return false
	}
	for i := range b {
		x, y := b[i], a[i]
		if x.Manager != y.Manager || x.Operation != y.Operation || x.APIVersion != y.APIVersion || x.Subresource != y.Subresource ||
			x.FieldsType != y.FieldsType || !bytes.Equal(x.FieldsV1.GetRawBytes(), y.FieldsV1.GetRawBytes()) {
			return false
		}
	}
	return true
}
