package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// manifestFlags are the flags of the commands that read a namespace: from
// manifests (-f), or else from the cluster.
type manifestFlags struct {
	files      []string
	namespace  string
	kubeconfig string
	context    string
	// stdin is the command's standard input, read for -f -.
	stdin func() io.Reader
}

// filenameUsage is the help of -f and of diff's --before and --after.
const filenameUsage = "manifest file, directory (recursive; one holding a kustomization is built with kustomize, as kubectl apply -k does) or - for standard input; repeatable"

func (m *manifestFlags) register(cmd *cobra.Command) {
	m.stdin = cmd.InOrStdin
	cmd.Flags().StringArrayVarP(&m.files, "filename", "f", nil, filenameUsage+". Without -f, the namespace is read from the cluster")
	cmd.Flags().StringVarP(&m.namespace, "namespace", "n", "", `the namespace: of manifests without one (default "default"; required when they hold several), or in the cluster (default: the kubeconfig context's)`)
	cmd.Flags().StringVar(&m.kubeconfig, "kubeconfig", "", "the kubeconfig of the cluster to read (default: KUBECONFIG, ~/.kube/config)")
	cmd.Flags().StringVar(&m.context, "context", "", "the kubeconfig context to use")
}

// accessOutput is the JSON and YAML shape of `gatehouse access`.
type accessOutput struct {
	Users []accessUser `json:"users"`
}

type accessUser struct {
	Login  string                 `json:"login"`
	Name   string                 `json:"name"`
	Status iamv1alpha1.UserStatus `json:"status"`
}

func newAccessCommand() *cobra.Command {
	var mf manifestFlags
	var login, resource, output string
	cmd := &cobra.Command{
		Use:   "access [-f FILE|DIR|-]... [-n NS] [--user LOGIN] [--resource TYPE/NAME] [-o table|json|yaml]",
		Short: "Show every user's effective access, computed from manifests",
		Long: `access reads the manifests one would apply and prints, per user, the seat, the
global permissions and every resource the user can reach with its role and
permissions: what the operator writes into User.status.

-f takes files and directories (read recursively, multi-document YAML or JSON;
objects of other API groups are ignored), as kubectl apply -f reads them. A
directory holding a kustomization is built with kustomize, as kubectl apply -k
builds it: bases, overlays, patches, name prefixes, namespace and generators
apply. A directory that holds kustomizations further down is refused: give the
one to build. -f - reads standard input, e.g.

  helm template my-release chart/ | gatehouse access -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" && output != "yaml" {
				return usageError(fmt.Errorf("unknown output format %q: use table, json or yaml", output))
			}
			var ref *iamv1alpha1.ResourceRef
			if resource != "" {
				r, err := parseRef(resource)
				if err != nil {
					return err
				}
				ref = &r
			}
			l, err := mf.load()
			if err != nil {
				return err
			}
			res := access.Compute(l.snap)
			users := usersByLogin(res)
			if login != "" {
				u, err := findUser(res, login)
				if err != nil {
					return err
				}
				users = []*access.UserResult{u}
			}
			out := accessOutput{Users: []accessUser{}}
			for _, u := range users {
				st := u.Status()
				st.Resources, st.ResourcesTruncated = u.Resources, false // the CLI gives the full answer
				if ref != nil {
					st.Resources = nil
					if ra := u.Find(*ref); ra != nil {
						st.Resources = []iamv1alpha1.ResourceAccess{*ra}
					} else if login == "" {
						continue
					}
					st.ResourceCount = int32(len(st.Resources))
				}
				out.Users = append(out.Users, accessUser{Login: u.Login, Name: u.Name, Status: st})
			}
			var buf bytes.Buffer
			switch output {
			case "json":
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("cannot encode JSON: %w", err)
				}
			case "yaml":
				b, err := yaml.Marshal(out)
				if err != nil {
					return fmt.Errorf("cannot encode YAML: %w", err)
				}
				buf.Write(b)
			default:
				writeAccessTable(&buf, users, out, l.namespace)
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&login, "user", "", "show only the user with this login")
	cmd.Flags().StringVar(&resource, "resource", "", "show only this resource (TYPE/NAME) and the users who reach it")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or yaml")
	cmd.AddCommand(newAccessDiffCommand())
	return cmd
}

// joinOr joins names with ", ", or returns "-" for none.
func joinOr[T ~string](xs []T) string {
	if len(xs) == 0 {
		return "-"
	}
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

// writeAccessTable prints a summary line per user, then each user's
// resources.
func writeAccessTable(w io.Writer, users []*access.UserResult, out accessOutput, ns string) {
	profile := map[string]string{}
	for _, u := range users {
		profile[u.Name] = u.Profile
	}
	fmt.Fprintf(w, "Namespace %s: %s\n\n", ns, words.Count(len(out.Users), "user", "users"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tPROFILE\tSEAT\tGROUPS\tRESOURCES\tGLOBAL PERMISSIONS")
	for _, u := range out.Users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", u.Login, orDash(profile[u.Name]), u.Status.Seat, joinOr(u.Status.Groups), len(u.Status.Resources), joinOr(u.Status.GlobalPermissions))
	}
	_ = tw.Flush() // into a bytes.Buffer, which cannot fail
	for _, u := range out.Users {
		if len(u.Status.Resources) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s\n", u.Login)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TYPE/NAME\tROLE\tPERMISSIONS")
		for _, r := range u.Status.Resources {
			role := orDash(string(r.Role))
			if r.CappedBy != nil && r.CappedBy.RoleBefore != "" {
				role += " (capped from " + string(r.CappedBy.RoleBefore) + ")"
			}
			fmt.Fprintf(tw, "  %s/%s\t%s\t%s\n", r.Type, r.Name, role, joinOr(r.Permissions))
		}
		_ = tw.Flush() // into a bytes.Buffer, which cannot fail
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
