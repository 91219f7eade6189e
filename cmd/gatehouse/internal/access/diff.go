package access

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/manifest"
)

func newAccessDiffCommand() *cobra.Command {
	var before, after []string
	var beforeRev, repo, namespace string
	var bounds input.Bounds
	cmd := &cobra.Command{
		Use:   "diff (--before FILE|DIR|- | --before-rev REV [--repo DIR]) --after FILE|DIR|- [-n NS]",
		Short: "Show who gains or loses what between two sets of manifests (e.g. a GitOps change)",
		Long: `diff computes everyone's access from the --before manifests and from the
--after ones, read as access -f reads them (a kustomization directory is built
with kustomize; - is standard input, for one side), and prints per user what
changes.

--before-rev REV takes the before side from git: the --after paths as they are
at revision REV of the git repository of the working directory, or of the
checkout --repo names (the whole repository is read at REV, so kustomize bases
outside the paths are too), e.g. the review of a GitOps change before it is
merged, run at the top of the checkout:

  gatehouse access diff --before-rev origin/main --after overlays/prod

The files of REV are read as git stores them: no filter, attribute or hook
runs, and a git repository committed in the checkout is refused, not used.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDiffSides(before, after, beforeRev); err != nil {
				return err
			}
			if err := checkRevisionFlags(beforeRev, repo); err != nil {
				return err
			}
			if beforeRev != "" {
				// The after side is read in the checkout the before side
				// is read from, unless --root says otherwise.
				top, err := input.RepositoryTop(repo)
				if err != nil {
					return err
				}
				bounds.DefaultRoot(top)
			}
			warn := input.WarnWith(bounds.Warn)
			docs, err := bounds.Read(after)
			if err != nil {
				return err
			}
			la, err := input.LoadDocuments(docs, namespace, warn)
			if err != nil {
				return err
			}
			if beforeRev != "" {
				docs, err = input.ReadAtRevision(input.Revision{Rev: beforeRev, Repo: repo, Bounds: &bounds}, after)
			} else {
				docs, err = bounds.Read(before)
			}
			if err != nil {
				return err
			}
			lb, err := input.LoadDocuments(docs, namespace, warn)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if n := writeDiff(&buf, access.Compute(lb.Snap), access.Compute(la.Snap)); n == 0 {
				cli.Fprintf(&buf, "No user gains or loses anything.\n")
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().StringArrayVar(&before, "before", nil, "manifests before the change: "+input.FilenameUsage)
	cmd.Flags().StringVar(&beforeRev, "before-rev", "", "git revision (commit, branch, tag) at which to read the --after paths for the before side, instead of --before")
	cmd.Flags().StringVar(&repo, "repo", "", "a directory of the checkout of the git repository --before-rev reads, e.g. its top (default: the working directory's)")
	cmd.Flags().StringArrayVar(&after, "after", nil, "manifests after the change: "+input.FilenameUsage)
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the objects without one")
	bounds.Register(cmd)
	return cmd
}

// checkDiffSides checks that the flags give each side once, and standard
// input to one side at most.
func checkDiffSides(before, after []string, beforeRev string) error {
	switch {
	case len(after) == 0:
		return cli.UsageError(errors.New("give the manifests after the change with --after, and the before side with --before or --before-rev"))
	case beforeRev != "" && len(before) > 0:
		return cli.UsageError(errors.New("give the before side with --before or with --before-rev, not both"))
	case beforeRev == "" && len(before) == 0:
		return cli.UsageError(errors.New("give the manifests before the change with --before, or a git revision to read the --after paths at with --before-rev"))
	case beforeRev != "" && slices.Contains(after, manifest.Stdin):
		return cli.UsageError(errors.New("--before-rev reads the --after paths at a git revision, and standard input (-) has none: give --after files or directories of a git repository, or the before side with --before"))
	case slices.Contains(before, manifest.Stdin) && slices.Contains(after, manifest.Stdin):
		return cli.UsageError(errors.New("standard input (-) can be read only once: give it to --before or to --after, not both"))
	}
	return nil
}

// checkRevisionFlags checks the flags that go with --before-rev.
func checkRevisionFlags(beforeRev, repo string) error {
	if repo != "" && beforeRev == "" {
		return cli.UsageError(errors.New("--repo names the git repository of --before-rev: give --before-rev too, or leave out --repo"))
	}
	return nil
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
		cli.Fprintf(w, "%s\n", login)
		for _, l := range lines {
			cli.Fprintf(w, "  %s\n", l)
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
		out = append(out, fmt.Sprintf("seat: %s -> %s", cli.OrDash(string(b.Seat)), cli.OrDash(string(a.Seat))))
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
			out = append(out, fmt.Sprintf("%s: + %s %s", ref, roleOrGrants(ra.Role), cli.JoinOr(ra.Permissions)))
		case ra == nil:
			out = append(out, fmt.Sprintf("%s: - all access (was %s %s)", ref, roleOrGrants(rb.Role), cli.JoinOr(rb.Permissions)))
		default:
			var parts []string
			if rb.Role != ra.Role {
				parts = append(parts, fmt.Sprintf("role %s -> %s", cli.OrDash(string(rb.Role)), cli.OrDash(string(ra.Role))))
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
