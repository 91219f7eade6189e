// Package whocan is `gatehouse who-can`: the users holding a permission on a
// resource, and how.
package whocan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// NewCommand returns the `gatehouse who-can` command.
func NewCommand() *cobra.Command {
	var mf input.ManifestFlags
	var output string
	cmd := &cobra.Command{
		Use:   "who-can PERMISSION TYPE/NAME [-f FILE|DIR|-]... [-n NS]",
		Short: "List the users holding a permission on a resource, and how",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return cli.UsageError(fmt.Errorf("unknown output format %q: use table or json", output))
			}
			ref, err := input.ParseRef(args[1])
			if err != nil {
				return err
			}
			perm := iamv1alpha1.Permission(args[0])
			if _, err := access.ParsePermissions(ref.Type, []iamv1alpha1.Permission{perm}); err != nil {
				return cli.UsageError(err)
			}
			l, err := mf.Load()
			if err != nil {
				return err
			}
			rows, blocked := access.WhoCan(&l.Snap, access.Compute(l.Snap), perm, ref, l.CredentialOf)
			var buf bytes.Buffer
			if output == "json" {
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				out := map[string]any{"permission": perm, "resource": ref.String(), "users": rows}
				if blocked != nil {
					out["admittedWithoutCredential"] = blocked
				}
				if err := enc.Encode(out); err != nil {
					return fmt.Errorf("cannot encode JSON: %w", err)
				}
			} else {
				writeWhoCan(&buf, perm, ref, rows, blocked)
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	mf.Register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// writeWhoCan writes who-can's table: the users who can, then those a
// PerUser Connection admits who lack a valid credential of their own.
func writeWhoCan(buf *bytes.Buffer, perm iamv1alpha1.Permission, ref iamv1alpha1.ResourceRef, rows, blocked []access.Holder) {
	if len(rows) == 0 {
		cli.Fprintf(buf, "Nobody can %s on %s.\n", perm, ref)
	} else {
		tw := tabwriter.NewWriter(buf, 0, 4, 2, ' ', 0)
		cli.Fprintf(tw, "USER\tROLE\tVIA\n")
		for _, r := range rows {
			cli.Fprintf(tw, "%s\t%s\t%s\n", r.Login, cli.OrDash(string(r.Role)), describeVias(r.Via, r.Login))
		}
		_ = tw.Flush() // into a bytes.Buffer, which cannot fail
	}
	if len(blocked) == 0 {
		return
	}
	admitted := words.Count(len(blocked), "user", "users")
	if len(rows) > 0 {
		admitted = words.Count(len(blocked), "more user", "more users")
	}
	cli.Fprintf(buf, "\nConnection %s takes each user's own credential (mode PerUser). Its usableBy admits %s, who cannot use it until %s a valid credential (kubectl gatehouse credentials set %s):\n",
		ref.Name, admitted, words.Plural(len(blocked), "that user sets", "each sets"), ref.Name)
	tw := tabwriter.NewWriter(buf, 0, 4, 2, ' ', 0)
	cli.Fprintf(tw, "USER\tCREDENTIAL\tWHY\n")
	for _, r := range blocked {
		why := r.Credential.Message
		if !*r.Known {
			why = "The operator has not written this user's status.credentials yet."
		}
		cli.Fprintf(tw, "%s\t%s\t%s\n", r.Login, describeCredential(*r.Credential, *r.Known), why)
	}
	_ = tw.Flush() // into a bytes.Buffer, which cannot fail
}

// describeVias puts a user's contributions in words, joined by "; ".
func describeVias(vias []iamv1alpha1.AccessVia, login string) string {
	out := make([]string, len(vias))
	for i, v := range vias {
		out[i] = access.DescribeVia(v, login)
	}
	return strings.Join(out, "; ")
}

// describeCredential puts a credential's state in a few words for a table.
func describeCredential(st iamv1alpha1.CredentialStatus, known bool) string {
	switch {
	case !known:
		return "not yet checked by the operator"
	case st.Ready:
		return "own credential ready"
	case st.Reason == iamv1alpha1.CredentialMissing:
		return "no credential"
	}
	return "credential invalid"
}
