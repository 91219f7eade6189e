// Package access is `gatehouse access`: every user's effective access, and
// `gatehouse access diff`: who gains or loses what between two sets of
// manifests.
package access

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// accessOutput is the JSON and YAML shape of `gatehouse access`.
type accessOutput struct {
	Users []accessUser `json:"users"`
}

// accessUser is one user of accessOutput.
type accessUser struct {
	Login  string                 `json:"login"`
	Name   string                 `json:"name"`
	Status iamv1alpha1.UserStatus `json:"status"`
}

// NewCommand returns the `gatehouse access` command.
func NewCommand() *cobra.Command {
	var o options
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
			return o.run(cmd.OutOrStdout())
		},
	}
	o.mf.Register(cmd)
	cmd.Flags().StringVar(&o.login, "user", "", "show only the user with this login")
	cmd.Flags().StringVar(&o.resource, "resource", "", "show only this resource (TYPE/NAME) and the users who reach it")
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table, json or yaml")
	cmd.AddCommand(newAccessDiffCommand())
	return cmd
}

// options are the flags of `gatehouse access`.
type options struct {
	mf                      input.ManifestFlags
	login, resource, output string
}

// run reads the namespace, computes everyone's access and writes the users
// and resources the flags select to w in the chosen format.
func (o *options) run(w io.Writer) error {
	if o.output != "table" && o.output != "json" && o.output != "yaml" {
		return cli.UsageError(fmt.Errorf("unknown output format %q: use table, json or yaml", o.output))
	}
	var ref *iamv1alpha1.ResourceRef
	if o.resource != "" {
		r, err := input.ParseRef(o.resource)
		if err != nil {
			return err
		}
		ref = &r
	}
	l, err := o.mf.Load()
	if err != nil {
		return err
	}
	users, out, err := selectUsers(access.Compute(l.Snap), o.login, ref)
	if err != nil {
		return err
	}
	switch o.output {
	case "json", "yaml":
		return writeStream(w, o.output, out.Users)
	}
	var buf bytes.Buffer
	writeAccessTable(&buf, users, out, l.Namespace)
	_, err = w.Write(buf.Bytes())
	return err
}

// writeStream writes users as accessOutput in JSON (indented) or YAML, one
// user at a time, so that what a large world prints is never held whole in
// memory, and a writer that refuses more (--max-output-bytes) stops it at
// the first user past its limit. The bytes are those of encoding the whole
// accessOutput at once.
func writeStream(w io.Writer, format string, users []accessUser) error {
	var head, sep, tail string
	switch {
	case format == "json" && len(users) == 0:
		head = "{\n  \"users\": []\n}\n"
	case format == "json":
		head, sep, tail = "{\n  \"users\": [\n    ", ",\n    ", "\n  ]\n}\n"
	case len(users) == 0:
		head = "users: []\n"
	default:
		head = "users:\n"
	}
	if _, err := w.Write([]byte(head)); err != nil { // JSON and YAML: data, not escaped
		return err
	}
	for i, u := range users {
		var b []byte
		var err error
		if format == "json" {
			b, err = json.MarshalIndent(u, "    ", "  ")
		} else {
			b, err = yaml.Marshal([]accessUser{u})
		}
		if err != nil {
			return fmt.Errorf("cannot encode user %s: %w", u.Login, err)
		}
		if i > 0 {
			b = append([]byte(sep), b...)
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if len(users) > 0 {
		_, err := w.Write([]byte(tail))
		return err
	}
	return nil
}

// selectUsers returns the users of res sorted by login, or only the one
// with login when given, and their output: each user's status with every
// resource, or only ref when given (then without the users who do not
// reach it, unless one login was asked for).
func selectUsers(res *access.Result, login string, ref *iamv1alpha1.ResourceRef) ([]*access.UserResult, accessOutput, error) {
	users := access.UsersByLogin(res)
	if login != "" {
		u, err := input.FindUser(res, login)
		if err != nil {
			return nil, accessOutput{}, err
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
	return users, out, nil
}

// writeAccessTable prints a summary line per user, then each user's
// resources.
func writeAccessTable(w io.Writer, users []*access.UserResult, out accessOutput, ns string) {
	profile := map[string]string{}
	for _, u := range users {
		profile[u.Name] = u.Profile
	}
	cli.Fprintf(w, "Namespace %s: %s\n\n", ns, words.Count(len(out.Users), "user", "users"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	cli.Fprintf(tw, "USER\tPROFILE\tSEAT\tGROUPS\tRESOURCES\tGLOBAL PERMISSIONS\n")
	for _, u := range out.Users {
		cli.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", u.Login, cli.OrDash(profile[u.Name]), u.Status.Seat, cli.JoinOr(u.Status.Groups), len(u.Status.Resources), cli.JoinOr(u.Status.GlobalPermissions))
	}
	_ = tw.Flush() // into a bytes.Buffer, which cannot fail
	for _, u := range out.Users {
		if len(u.Status.Resources) == 0 {
			continue
		}
		cli.Fprintf(w, "\n%s\n", u.Login)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		cli.Fprintf(tw, "  TYPE/NAME\tROLE\tPERMISSIONS\n")
		for _, r := range u.Status.Resources {
			role := cli.OrDash(string(r.Role))
			if r.CappedBy != nil && r.CappedBy.RoleBefore != "" {
				role += " (capped from " + string(r.CappedBy.RoleBefore) + ")"
			}
			cli.Fprintf(tw, "  %s/%s\t%s\t%s\n", r.Type, r.Name, role, cli.JoinOr(r.Permissions))
		}
		_ = tw.Flush() // into a bytes.Buffer, which cannot fail
	}
}
