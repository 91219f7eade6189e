package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

func newAccessDiffCommand() *cobra.Command {
	var before, after []string
	var namespace string
	cmd := &cobra.Command{
		Use:   "diff --before DIR --after DIR [-n NS]",
		Short: "Show who gains or loses what between two sets of manifests (e.g. a GitOps change)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(before) == 0 || len(after) == 0 {
				return usageError(errors.New("give both --before and --after"))
			}
			lb, err := loadManifests(before, namespace)
			if err != nil {
				return err
			}
			la, err := loadManifests(after, namespace)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if n := writeDiff(&buf, access.Compute(lb.snap), access.Compute(la.snap)); n == 0 {
				fmt.Fprintln(&buf, "No user gains or loses anything.")
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().StringArrayVar(&before, "before", nil, "manifests before the change (file or directory; repeatable)")
	cmd.Flags().StringArrayVar(&after, "after", nil, "manifests after the change (file or directory; repeatable)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the objects without one")
	return cmd
}

// writeDiff writes, per user whose access changes, what changes; it returns
// the number of such users.
func writeDiff(w io.Writer, before, after *access.Result) int {
	names := map[string]bool{}
	for n := range before.Users {
		names[n] = true
	}
	for n := range after.Users {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	changed := 0
	for _, n := range sorted {
		lines := diffUser(before.Users[n], after.Users[n])
		if len(lines) == 0 {
			continue
		}
		changed++
		login := n
		if u := after.Users[n]; u != nil {
			login = u.Login
		} else if u := before.Users[n]; u != nil {
			login = u.Login
		}
		fmt.Fprintln(w, login)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	return changed
}

func diffUser(b, a *access.UserResult) []string {
	var out []string
	switch {
	case b == nil:
		out = append(out, "new user")
		b = &access.UserResult{}
	case a == nil:
		out = append(out, "user removed")
		a = &access.UserResult{}
	}
	if b.Seat != a.Seat {
		out = append(out, fmt.Sprintf("seat: %s -> %s", orDash(string(b.Seat)), orDash(string(a.Seat))))
	}
	if g := setDiff(b.GlobalPermissions, a.GlobalPermissions); g != "" {
		out = append(out, "global: "+g)
	}
	type key struct {
		t iamv1alpha1.ResourceType
		n string
	}
	all := map[key]bool{}
	for _, r := range b.Resources {
		all[key{r.Type, r.Name}] = true
	}
	for _, r := range a.Resources {
		all[key{r.Type, r.Name}] = true
	}
	keys := make([]key, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].t != keys[j].t {
			return keys[i].t < keys[j].t
		}
		return keys[i].n < keys[j].n
	})
	for _, k := range keys {
		ref := iamv1alpha1.ResourceRef{Type: k.t, Name: k.n}
		rb, ra := b.Find(ref), a.Find(ref)
		switch {
		case rb == nil:
			out = append(out, fmt.Sprintf("%s: + %s %s", ref, roleOrGrants(ra.Role), joinOr(ra.Permissions)))
		case ra == nil:
			out = append(out, fmt.Sprintf("%s: - all access (was %s %s)", ref, roleOrGrants(rb.Role), joinOr(rb.Permissions)))
		default:
			var parts []string
			if rb.Role != ra.Role {
				parts = append(parts, fmt.Sprintf("role %s -> %s", orDash(string(rb.Role)), orDash(string(ra.Role))))
			}
			if d := setDiff(rb.Permissions, ra.Permissions); d != "" {
				parts = append(parts, d)
			}
			if len(parts) > 0 {
				out = append(out, fmt.Sprintf("%s: %s", ref, strings.Join(parts, "; ")))
			}
		}
	}
	return out
}

func roleOrGrants(r iamv1alpha1.Role) string {
	if r == "" {
		return "(grants)"
	}
	return string(r)
}

// setDiff returns "+a +b -c" for two sorted lists, "" when equal.
func setDiff[T ~string](before, after []T) string {
	in := func(xs []T, x T) bool {
		for _, y := range xs {
			if y == x {
				return true
			}
		}
		return false
	}
	var parts []string
	for _, x := range after {
		if !in(before, x) {
			parts = append(parts, "+"+string(x))
		}
	}
	for _, x := range before {
		if !in(after, x) {
			parts = append(parts, "-"+string(x))
		}
	}
	return strings.Join(parts, " ")
}
