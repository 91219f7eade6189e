package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/access"
)

// whoCanRow is one user who holds the permission, as -o json prints it.
type whoCanRow struct {
	Login string                  `json:"login"`
	Name  string                  `json:"name"`
	Role  iamv1alpha1.Role        `json:"role,omitempty"`
	Via   []iamv1alpha1.AccessVia `json:"via"`
}

func newWhoCanCommand() *cobra.Command {
	var mf manifestFlags
	var output string
	cmd := &cobra.Command{
		Use:   "who-can PERMISSION TYPE/NAME [-f FILE_OR_DIR...] [-n NS]",
		Short: "List the users holding a permission on a resource, and how",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return usageError(fmt.Errorf("unknown output format %q: use table or json", output))
			}
			ref, err := parseRef(args[1])
			if err != nil {
				return err
			}
			perm := iamv1alpha1.Permission(args[0])
			if _, err := access.ParsePermissions(ref.Type, []iamv1alpha1.Permission{perm}); err != nil {
				return usageError(err)
			}
			l, err := mf.load()
			if err != nil {
				return err
			}
			res := access.Compute(l.snap)
			rows := []whoCanRow{}
			for _, u := range usersByLogin(res) {
				ra := u.Find(ref)
				if ra == nil || !hasPermission(ra.Permissions, perm) {
					continue
				}
				rows = append(rows, whoCanRow{Login: u.Login, Name: u.Name, Role: ra.Role, Via: ra.Via})
			}
			var buf bytes.Buffer
			if output == "json" {
				enc := json.NewEncoder(&buf)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"permission": perm, "resource": ref.String(), "users": rows}); err != nil {
					return fmt.Errorf("cannot encode JSON: %w", err)
				}
			} else if len(rows) == 0 {
				fmt.Fprintf(&buf, "Nobody can %s on %s.\n", perm, ref)
			} else {
				tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USER\tROLE\tVIA")
				for _, r := range rows {
					vias := make([]string, len(r.Via))
					for i, v := range r.Via {
						vias[i] = describeVia(v, r.Login)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Login, orDash(string(r.Role)), strings.Join(vias, "; "))
				}
				_ = tw.Flush() // into a bytes.Buffer, which cannot fail
			}
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func hasPermission(perms []iamv1alpha1.Permission, p iamv1alpha1.Permission) bool {
	for _, q := range perms {
		if q == p {
			return true
		}
	}
	return false
}

// through says how a contribution reaches a user, from its subject.
func through(subject, login string) string {
	switch {
	case subject == "user":
		return login + " directly"
	case subject == "":
		return "every user"
	case strings.HasPrefix(subject, "group/"):
		return "group " + strings.TrimPrefix(subject, "group/")
	case strings.HasPrefix(subject, "organization/"):
		return "organization " + strings.TrimPrefix(subject, "organization/")
	}
	return subject
}

// describeVia puts one contribution in words.
func describeVia(v iamv1alpha1.AccessVia, login string) string {
	switch v.Kind {
	case iamv1alpha1.ViaShare:
		return fmt.Sprintf("Share %s gives %s to %s", v.Name, v.Role, through(v.Subject, login))
	case iamv1alpha1.ViaResourceGrant:
		return fmt.Sprintf("ResourceGrant %s gives %s to %s", v.Name, joinList(v.Permissions), through(v.Subject, login))
	case iamv1alpha1.ViaConnection:
		return fmt.Sprintf("Connection %s's usableBy admits %s to %s it", v.Name, through(v.Subject, login), joinList(v.Permissions))
	case iamv1alpha1.ViaAdmin:
		return fmt.Sprintf("admin through group %s gives Owner", v.Name)
	}
	return fmt.Sprintf("%s %s", v.Kind, v.Name)
}
