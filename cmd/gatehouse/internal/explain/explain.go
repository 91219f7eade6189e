// Package explain is `gatehouse explain`: in words, why a user holds what it
// holds on a resource.
package explain

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/cli"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/input"
	"github.com/gatehouse-dev/gatehouse/cmd/gatehouse/internal/whocan"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/words"
)

// NewCommand returns the `gatehouse explain` command.
func NewCommand() *cobra.Command {
	var mf input.ManifestFlags
	cmd := &cobra.Command{
		Use:   "explain LOGIN TYPE/NAME [-f FILE|DIR|-]... [-n NS]",
		Short: "Explain, in words, why a user holds what it holds on a resource",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := input.ParseRef(args[1])
			if err != nil {
				return err
			}
			l, err := mf.Load()
			if err != nil {
				return err
			}
			u, err := input.FindUser(access.Compute(l.Snap), args[0])
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			explain(&buf, u, ref, l)
			_, err = cmd.OutOrStdout().Write(buf.Bytes())
			return err
		},
	}
	mf.Register(cmd)
	return cmd
}

// explain writes every contribution to a user's access and every cap on it.
func explain(buf *bytes.Buffer, u *access.UserResult, ref iamv1alpha1.ResourceRef, l *input.Loaded) {
	login := u.Login
	if len(u.Groups) > 0 {
		fmt.Fprintf(buf, "%s is in %s %s.\n", login, words.Plural(len(u.Groups), "group", "groups"), words.List(u.Groups))
	}
	if len(u.UnknownGroups) > 0 {
		fmt.Fprintf(buf, "%s lists %s that %s not exist: %s.\n", login, words.Plural(len(u.UnknownGroups), "a group", "groups"),
			words.Plural(len(u.UnknownGroups), "does", "do"), words.List(u.UnknownGroups))
	}
	if u.Seat != iamv1alpha1.SeatGranted {
		fmt.Fprintf(buf, "%s holds no seat (%s, %s): %s\nA user without a seat has no permissions at all, so %s can do nothing on %s.\n",
			login, u.Seat, u.SeatReason, u.SeatMessage, login, ref)
		return
	}
	fmt.Fprintf(buf, "%s\n", u.SeatMessage)
	ra := u.Find(ref)
	if ra == nil {
		fmt.Fprintf(buf, "%s has no access to %s: no Share or ResourceGrant names %s, its groups or its organization, and no Connection admits it.\n", login, ref, login)
		return
	}
	var role string
	if ra.Role != "" {
		role = fmt.Sprintf("is %s on %s and holds", ra.Role, ref)
	} else {
		role = fmt.Sprintf("has no role on %s (no Share reaches %s, only %s) and holds", ref, login, words.List(roleless(ra.Via)))
	}
	fmt.Fprintf(buf, "%s %s %s.\n", login, role, cli.JoinList(ra.Permissions))
	fmt.Fprintln(buf, "Because:")
	for _, v := range ra.Via {
		fmt.Fprintf(buf, "  - %s.\n", whocan.DescribeVia(v, login))
	}
	if ra.Role != "" && len(ra.Via) > 1 {
		fmt.Fprintln(buf, "Shares combine: the most permissive role wins, and permissions add up.")
	}
	if c := ra.CappedBy; c != nil {
		fmt.Fprintf(buf, "The profile %s caps every role at %s", c.Profile, c.MaxRole)
		if c.RoleBefore != "" {
			fmt.Fprintf(buf, ": the role was %s and is now %s", c.RoleBefore, ra.Role)
		}
		if len(c.Removed) > 0 {
			fmt.Fprintf(buf, "; it removed %s", cli.JoinList(c.Removed))
		}
		fmt.Fprintln(buf, ". Sharing never overrides the profile.")
	}
	if ref.Type == iamv1alpha1.ResourceConnection {
		explainConnection(buf, u, ref, ra, l)
	}
}

// roleless names what gives permissions without a role: ResourceGrants
// and a Connection's usableBy.
func roleless(vias []iamv1alpha1.AccessVia) []string {
	var out []string
	for _, v := range vias {
		var s string
		switch v.Kind {
		case iamv1alpha1.ViaResourceGrant:
			s = "ResourceGrant " + v.Name
		case iamv1alpha1.ViaConnection:
			s = "Connection " + v.Name + "'s usableBy"
		default:
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// explainConnection says what usableBy and, for a PerUser Connection, the
// user's own credential mean for using it.
func explainConnection(buf *bytes.Buffer, u *access.UserResult, ref iamv1alpha1.ResourceRef, ra *iamv1alpha1.ResourceAccess, l *input.Loaded) {
	login := u.Login
	conn := l.Connection(ref.Name)
	switch {
	case conn == nil && !whocan.HasPermission(ra.Permissions, "use"):
		fmt.Fprintf(buf, "No Connection %s exists in the %s, so nobody but administrators can use it.\n", ref.Name, source(l))
	case conn == nil:
	case !whocan.HasPermission(ra.Permissions, "use"):
		fmt.Fprintf(buf, "Connection %s's usableBy does not admit %s, so %s cannot use it whatever a Share or grant says.\n", ref.Name, login, login)
	case conn.Spec.Credentials.Mode == iamv1alpha1.CredentialModePerUser:
		st, known := l.CredentialOf(conn, u.Name)
		switch {
		case !known:
			fmt.Fprintf(buf, "Connection %s takes each user's own credential (mode PerUser), and the operator has not yet said whether %s has one (User %s's status.credentials).\n", ref.Name, login, u.Name)
		case st.Ready:
			fmt.Fprintf(buf, "Connection %s takes each user's own credential (mode PerUser), and %s's is ready.\n", ref.Name, login)
		default:
			fmt.Fprintf(buf, "But Connection %s takes each user's own credential (mode PerUser), and %s has no valid one, so %s cannot use it yet: %s\n", ref.Name, login, login, st.Message)
		}
	}
}

// source names where the namespace was read from.
func source(l *input.Loaded) string {
	if l.FromCluster {
		return "cluster"
	}
	return "manifests"
}
