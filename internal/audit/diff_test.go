package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
)

func res(typ, name string, role iamv1alpha1.Role, via string, perms ...iamv1alpha1.Permission) iamv1alpha1.ResourceAccess {
	r := iamv1alpha1.ResourceAccess{Type: iamv1alpha1.ResourceType(typ), Name: name, Role: role, Permissions: perms}
	if via != "" {
		k, n, _ := strings.Cut(via, "/")
		r.Via = []iamv1alpha1.AccessVia{{Kind: iamv1alpha1.ViaKind(k), Name: n}}
	}
	return r
}

func TestDiff(t *testing.T) {
	sales := res("dataset", "sales", "Consumer", "Share/everyone", "viewMetadata")
	salesEditor := res("dataset", "sales", "Editor", "Share/sales-team", "viewMetadata", "modifyMetadata")
	churn := res("project", "churn", "", "ResourceGrant/analysts", "read", "runScenarios")
	churnRead := res("project", "churn", "", "ResourceGrant/analysts", "read")
	for _, tc := range []struct {
		name          string
		before, after iamv1alpha1.UserStatus
		want          string
		seat          bool
	}{
		{name: "no change", before: iamv1alpha1.UserStatus{Seat: "Granted", Resources: []iamv1alpha1.ResourceAccess{sales}},
			after: iamv1alpha1.UserStatus{Seat: "Granted", Resources: []iamv1alpha1.ResourceAccess{sales}}},
		{name: "the issue's example",
			before: iamv1alpha1.UserStatus{Resources: []iamv1alpha1.ResourceAccess{sales, churn}},
			after:  iamv1alpha1.UserStatus{Resources: []iamv1alpha1.ResourceAccess{salesEditor, churnRead}},
			want:   "gained Editor on dataset/sales via share sales-team; lost runScenarios on project/churn"},
		{name: "new resource and a lost one",
			before: iamv1alpha1.UserStatus{Resources: []iamv1alpha1.ResourceAccess{churn}},
			after:  iamv1alpha1.UserStatus{Resources: []iamv1alpha1.ResourceAccess{sales}},
			want:   "gained Consumer on dataset/sales via share everyone; lost read, runScenarios on project/churn"},
		{name: "role lowered",
			before: iamv1alpha1.UserStatus{Resources: []iamv1alpha1.ResourceAccess{salesEditor}},
			after:  iamv1alpha1.UserStatus{Resources: []iamv1alpha1.ResourceAccess{sales}},
			want:   "lost Editor on dataset/sales (now Consumer)"},
		{name: "globals and seat", seat: true,
			before: iamv1alpha1.UserStatus{Seat: "Granted", GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "manageUDM"}},
			after:  iamv1alpha1.UserStatus{Seat: "Pending"},
			want:   "lost global createProjects, manageUDM"},
		{name: "truncated lists compare only what both show",
			before: iamv1alpha1.UserStatus{ResourcesTruncated: true, Resources: []iamv1alpha1.ResourceAccess{sales}},
			after:  iamv1alpha1.UserStatus{ResourcesTruncated: true, Resources: []iamv1alpha1.ResourceAccess{sales, churn}},
			want:   ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Diff(&tc.before, &tc.after)
			if got := c.Message(); got != tc.want {
				t.Errorf("message:\n got %q\nwant %q", got, tc.want)
			}
			if c.SeatChanged() != tc.seat {
				t.Errorf("seat changed = %v, want %v", c.SeatChanged(), tc.seat)
			}
			if c.PermissionsChanged() != (tc.want != "") {
				t.Errorf("PermissionsChanged = %v with message %q", c.PermissionsChanged(), tc.want)
			}
		})
	}
}

func TestMessageIsBounded(t *testing.T) {
	var after iamv1alpha1.UserStatus
	for i := range 200 {
		after.Resources = append(after.Resources, res("dataset", strings.Repeat("x", 20)+string(rune('a'+i%26))+strings.Repeat("y", i), "Owner", "Share/s"))
	}
	c := Diff(&iamv1alpha1.UserStatus{}, &after)
	msg := c.Message()
	if len(msg) > 1024 || !strings.Contains(msg, "more changes (see the audit log)") {
		t.Errorf("message of %d bytes, ends %q", len(msg), msg[max(0, len(msg)-60):])
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(&buf)
	l.PermissionsChanged(context.Background(), Record{Namespace: "demo", User: "alice", Login: "alice"})
	if buf.Len() != 0 {
		t.Fatalf("a no-op wrote %q", buf.String())
	}
	before := iamv1alpha1.UserStatus{Seat: "Granted"}
	after := iamv1alpha1.UserStatus{Seat: "Granted", Resources: []iamv1alpha1.ResourceAccess{res("dataset", "sales", "Editor", "Share/sales-team", "viewMetadata")}}
	l.PermissionsChanged(context.Background(), Record{Namespace: "demo", User: "alice", Login: "alice@acme", Cause: []string{"Share sales-team"}, Change: Diff(&before, &after)})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one line, got %q", buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("not JSON: %v: %s", err, lines[0])
	}
	delete(got, "time")
	want := map[string]any{
		"level": "INFO", "msg": "permissions changed", "audit": "PermissionsChanged",
		"namespace": "demo", "user": "alice", "login": "alice@acme", "cause": []any{"Share sales-team"},
		"added": []any{map[string]any{"resource": "dataset/sales", "role": "Editor", "permissions": []any{"viewMetadata"}, "via": []any{"share sales-team"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audit line (-want +got):\n%s", diff)
	}
}

func BenchmarkDiff(b *testing.B) {
	var before, after iamv1alpha1.UserStatus
	for i := range 1000 {
		r := res("dataset", fmt.Sprintf("d%04d", i), "Editor", "Share/s", "viewMetadata", "modifyMetadata")
		before.Resources = append(before.Resources, r)
		if i%100 == 0 {
			r.Role = "Owner"
		}
		after.Resources = append(after.Resources, r)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := Diff(&before, &after)
		_ = c.Message()
	}
}
