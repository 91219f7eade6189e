package v1alpha1_test

// These tests run against a real kube-apiserver with the generated CRDs
// installed: they prove that every OpenAPI bound and CEL rule rejects the
// object it exists for, with the sentence a person reads in `kubectl apply`,
// and that the rules are not so broad that they reject valid objects.

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"

	iamv1alpha1 "github.com/gatehouse-dev/gatehouse/api/v1alpha1"
	"github.com/gatehouse-dev/gatehouse/internal/crdvalidate"
	"github.com/gatehouse-dev/gatehouse/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Run(m, &env)) }

// createCase is one object that the API server must accept (want == "") or
// reject with a message about field that contains want.
type createCase[T client.Object] struct {
	// mutate turns the valid base object into the object under test.
	mutate func(T)
	// raw, when set, edits the object as JSON before it is sent, for values
	// that the Go types cannot express (an explicit 0 or [] that omitempty
	// would drop); the object is then created as unstructured.
	raw func(map[string]any)
	// field is the path the rejection must name, as in the error's causes.
	field string
	// want is the sentence the rejection must contain; empty means the
	// object must be accepted.
	want string
}

// updateCase is a change to a created valid object that the API server must
// accept (want == "") or reject.
type updateCase[T client.Object] struct {
	mutate func(T)
	field  string
	want   string
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// objectName turns a test-case name into an object name.
func objectName(caseName string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(caseName), "-"), "-")
	if len(n) > 50 {
		n = strings.TrimRight(n[:50], "-")
	}
	return n
}

// runCreateCases creates base() mutated by each case in a namespace of its
// own and checks the outcome, and that the offline judge (internal/
// crdvalidate) gives the API server's verdict.
func runCreateCases[T client.Object](t *testing.T, base func() T, cases map[string]createCase[T]) {
	t.Helper()
	ns := env.Namespace(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := ctxFor(t)
			obj := base()
			obj.SetNamespace(ns)
			obj.SetName(objectName(name))
			if tc.mutate != nil {
				tc.mutate(obj)
			}
			var err error
			var offline *crdvalidate.Result
			if tc.raw != nil {
				u := toUnstructured(t, obj)
				tc.raw(u.Object)
				offline = judgeOffline(t, u)
				err = env.Client.Create(ctx, u)
			} else {
				offline = judgeOffline(t, obj)
				err = env.Client.Create(ctx, obj)
			}
			compareVerdicts(t, err, offline)
			checkOutcome(t, err, tc.field, tc.want)
		})
	}
}

// runUpdateCases creates base() for each case, then applies the case's change
// with an update and checks the outcome.
func runUpdateCases[T client.Object](t *testing.T, base func() T, cases map[string]updateCase[T]) {
	t.Helper()
	ns := env.Namespace(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := ctxFor(t)
			obj := base()
			obj.SetNamespace(ns)
			obj.SetName(objectName(name))
			if err := env.Client.Create(ctx, obj); err != nil {
				t.Fatalf("cannot create the valid base object: %v", err)
			}
			tc.mutate(obj)
			checkOutcome(t, env.Client.Update(ctx, obj), tc.field, tc.want)
		})
	}
}

func toUnstructured(t *testing.T, obj client.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatalf("cannot convert %T: %v", obj, err)
	}
	gvk, err := apiutil.GVKForObject(obj, env.Scheme)
	if err != nil {
		t.Fatalf("cannot find the kind of %T: %v", obj, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u
}

// checkOutcome checks that err is nil when want is empty, else that the API
// server rejected the object as Invalid, with a cause on field whose message
// contains want, and that the error a person reads says it too.
func checkOutcome(t *testing.T, err error, field, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("rejected, want accepted: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("accepted, want rejected: %s: %s", field, want)
	}
	if !apierrors.IsInvalid(err) {
		t.Fatalf("err = %v (reason %q), want an Invalid error", err, apierrors.ReasonForError(err))
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("the message does not say %q:\n%v", want, err)
	}
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil {
		t.Fatalf("the error carries no details: %#v", err)
	}
	var fields []string
	for _, c := range status.Status().Details.Causes {
		if c.Field == field && strings.Contains(c.Message, want) {
			return
		}
		fields = append(fields, c.Field)
	}
	t.Fatalf("no cause on field %s says %q; causes are on %v:\n%v", field, want, fields, err)
}

// Messages of the OpenAPI validation, as kube-apiserver words them.
const (
	msgUnsupported = "Unsupported value"
	msgDuplicate   = "Duplicate value"
	msgRequired    = "Required value"
	msgPattern     = "should match"
)

func atLeast(n int) string { return fmt.Sprintf("should have at least %d items", n) }
func tooMany(got, limit int) string {
	return fmt.Sprintf("Too many: %d: must have at most %d items", got, limit)
}

// ---------------------------------------------------------------- User

func validUser() *iamv1alpha1.User {
	return &iamv1alpha1.User{Spec: iamv1alpha1.UserSpec{
		Login:        "alice",
		DisplayName:  "Alice Admin",
		Email:        "alice@acme.example",
		Profile:      "designer",
		Groups:       []string{"administrators", "data-team"},
		Organization: "acme",
	}}
}

func TestUserValidation(t *testing.T) {
	const directoryRule = "spec.directory names the Directory of an LDAP user: set it when source is LDAP and only then"
	runCreateCases(t, validUser, map[string]createCase[*iamv1alpha1.User]{
		"valid local user": {},
		"inactive user": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) },
		},
		"LDAP user with its directory": {
			mutate: func(u *iamv1alpha1.User) {
				u.Spec.Source, u.Spec.Directory = iamv1alpha1.UserSourceLDAP, "planetexpress"
			},
		},
		"LDAP user without directory": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Source = iamv1alpha1.UserSourceLDAP },
			field:  "spec", want: directoryRule,
		},
		"Local user with a directory": {
			mutate: func(u *iamv1alpha1.User) {
				u.Spec.Source, u.Spec.Directory = iamv1alpha1.UserSourceLocal, "planetexpress"
			},
			field: "spec", want: directoryRule,
		},
		"directory without source (defaults to Local)": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Directory = "planetexpress" },
			field:  "spec", want: directoryRule,
		},
		"unknown source": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Source = "ActiveDirectory" },
			field:  "spec.source", want: msgUnsupported + `: "ActiveDirectory"`,
		},
		"unknown auth method": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.AuthMethod = "Kerberos" },
			field:  "spec.authMethod", want: msgUnsupported + `: "Kerberos"`,
		},
		"SSO auth method": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.AuthMethod = iamv1alpha1.AuthMethodSSO },
		},
		"login with a space": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Login = "alice admin" },
			field:  "spec.login", want: msgPattern,
		},
		"login missing": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Login = "" },
			field:  "spec.login", want: "should be at least 1 chars long",
		},
		"email without at sign": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Email = "alice.acme.example" },
			field:  "spec.email", want: msgPattern,
		},
		"a local group twice": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Groups = []string{"data-team", "data-team"} },
			field:  "spec.groups[1]", want: msgDuplicate,
		},
	})

	runUpdateCases(t, validUser, map[string]updateCase[*iamv1alpha1.User]{
		"login changed": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Login = "alice2" },
			field:  "spec.login", want: "login is immutable: create a new User for a new login",
		},
		"display name changed": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.DisplayName = "Alice A. Admin" },
		},
		"deactivated": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Active = ptr.To(false) },
		},
		"moved to LDAP without directory": {
			mutate: func(u *iamv1alpha1.User) { u.Spec.Source = iamv1alpha1.UserSourceLDAP },
			field:  "spec", want: "spec.directory names the Directory of an LDAP user",
		},
	})
}

// ---------------------------------------------------------------- Share

func validShare() *iamv1alpha1.Share {
	return &iamv1alpha1.Share{Spec: iamv1alpha1.ShareSpec{
		Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceDataset, Name: "sales"},
		Grantees: []iamv1alpha1.Grantee{
			{Kind: iamv1alpha1.GranteeUser, Name: "bob", Role: iamv1alpha1.RoleOwner},
			{Kind: iamv1alpha1.GranteeGroup, Name: "analysts", Role: iamv1alpha1.RoleEditor, CanUseData: true, AllowSharing: true},
			{Kind: iamv1alpha1.GranteeOrganization, Name: "acme", Role: iamv1alpha1.RoleConsumer},
		},
		Note: "Quarterly sales.",
	}}
}

func userGrantees(n int) []iamv1alpha1.Grantee {
	gs := make([]iamv1alpha1.Grantee, n)
	for i := range gs {
		gs[i] = iamv1alpha1.Grantee{Kind: iamv1alpha1.GranteeUser, Name: fmt.Sprintf("user-%03d", i), Role: iamv1alpha1.RoleConsumer}
	}
	return gs
}

func TestShareValidation(t *testing.T) {
	const envRule = "environments have no Editor role: share an environment as Consumer or Owner"
	runCreateCases(t, validShare, map[string]createCase[*iamv1alpha1.Share]{
		"valid": {},
		"100 grantees": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Grantees = userGrantees(100) },
		},
		"101 grantees": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Grantees = userGrantees(101) },
			field:  "spec.grantees", want: tooMany(101, 100),
		},
		"no grantees": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Grantees = []iamv1alpha1.Grantee{} },
			field:  "spec.grantees", want: atLeast(1),
		},
		"note of 500 characters": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Note = strings.Repeat("n", 500) },
		},
		"note of 501 characters": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Note = strings.Repeat("n", 501) },
			field:  "spec.note", want: "may not be more than 500",
		},
		"environment with an Editor": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Resource.Type = iamv1alpha1.ResourceEnvironment },
			field:  "spec", want: envRule,
		},
		"environment with Owner and Consumer": {
			mutate: func(s *iamv1alpha1.Share) {
				s.Spec.Resource.Type = iamv1alpha1.ResourceEnvironment
				s.Spec.Grantees[1].Role = iamv1alpha1.RoleConsumer
			},
		},
		"project with an Editor": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Resource.Type = iamv1alpha1.ResourceProject },
		},
		"same user twice": {
			mutate: func(s *iamv1alpha1.Share) {
				s.Spec.Grantees = append(s.Spec.Grantees, iamv1alpha1.Grantee{Kind: iamv1alpha1.GranteeUser, Name: "bob", Role: iamv1alpha1.RoleConsumer})
			},
			field: "spec.grantees[3]", want: msgDuplicate,
		},
		"a user and a group of the same name": {
			mutate: func(s *iamv1alpha1.Share) {
				s.Spec.Grantees = append(s.Spec.Grantees, iamv1alpha1.Grantee{Kind: iamv1alpha1.GranteeGroup, Name: "bob", Role: iamv1alpha1.RoleConsumer})
			},
		},
		"unknown role": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Grantees[0].Role = "User" },
			field:  "spec.grantees[0].role", want: msgUnsupported + `: "User"`,
		},
		"unknown grantee kind": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Grantees[2].Kind = "Team" },
			field:  "spec.grantees[2].kind", want: msgUnsupported + `: "Team"`,
		},
		"unknown resource type": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Resource.Type = "notebook" },
			field:  "spec.resource.type", want: msgUnsupported + `: "notebook"`,
		},
		"resource without name": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Resource.Name = "" },
			field:  "spec.resource.name", want: "should be at least 1 chars long",
		},
	})

	runUpdateCases(t, validShare, map[string]updateCase[*iamv1alpha1.Share]{
		"resource name changed": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Resource.Name = "sales-2026" },
			field:  "spec.resource", want: "resource is immutable: create a new Share for another resource",
		},
		"resource type changed": {
			mutate: func(s *iamv1alpha1.Share) { s.Spec.Resource.Type = iamv1alpha1.ResourceConnection },
			field:  "spec.resource", want: "resource is immutable: create a new Share for another resource",
		},
		"grantees and note changed": {
			mutate: func(s *iamv1alpha1.Share) {
				s.Spec.Grantees = s.Spec.Grantees[:1]
				s.Spec.Note = "Only bob now."
			},
		},
	})
}

// ---------------------------------------------------------------- ResourceGrant

func validGrant() *iamv1alpha1.ResourceGrant {
	return &iamv1alpha1.ResourceGrant{Spec: iamv1alpha1.ResourceGrantSpec{
		Resource: iamv1alpha1.ResourceRef{Type: iamv1alpha1.ResourceProject, Name: "churn"},
		Subjects: []iamv1alpha1.Subject{
			{Kind: iamv1alpha1.SubjectGroup, Name: "data-team"},
			{Kind: iamv1alpha1.SubjectUser, Name: "erin"},
		},
		Permissions: []iamv1alpha1.Permission{"writeProjectContent", "executeApp"},
	}}
}

func TestResourceGrantValidation(t *testing.T) {
	runCreateCases(t, validGrant, map[string]createCase[*iamv1alpha1.ResourceGrant]{
		"valid": {},
		"no subjects": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Subjects = []iamv1alpha1.Subject{} },
			field:  "spec.subjects", want: atLeast(1),
		},
		"no permissions": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Permissions = []iamv1alpha1.Permission{} },
			field:  "spec.permissions", want: atLeast(1),
		},
		"permissions omitted": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Permissions = nil },
			field:  "spec.permissions", want: msgRequired,
		},
		"permission with a dash": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Permissions = []iamv1alpha1.Permission{"write-project"} },
			field:  "spec.permissions[0]", want: msgPattern + " '^[a-z][A-Za-z]*$'",
		},
		"permission starting upper case": {
			mutate: func(g *iamv1alpha1.ResourceGrant) {
				g.Spec.Permissions = []iamv1alpha1.Permission{"WriteProjectContent"}
			},
			field: "spec.permissions[0]", want: msgPattern,
		},
		"permission of 65 characters": {
			mutate: func(g *iamv1alpha1.ResourceGrant) {
				g.Spec.Permissions = []iamv1alpha1.Permission{iamv1alpha1.Permission("p" + strings.Repeat("x", 64))}
			},
			field: "spec.permissions[0]", want: "may not be more than 64",
		},
		"a permission twice": {
			mutate: func(g *iamv1alpha1.ResourceGrant) {
				g.Spec.Permissions = []iamv1alpha1.Permission{"readProjectContent", "readProjectContent"}
			},
			field: "spec.permissions[1]", want: msgDuplicate,
		},
		"a subject twice": {
			mutate: func(g *iamv1alpha1.ResourceGrant) {
				g.Spec.Subjects = append(g.Spec.Subjects, iamv1alpha1.Subject{Kind: iamv1alpha1.SubjectUser, Name: "erin"})
			},
			field: "spec.subjects[2]", want: msgDuplicate,
		},
		"an organization subject": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Subjects[0].Kind = "Organization" },
			field:  "spec.subjects[0].kind", want: msgUnsupported + `: "Organization"`,
		},
		"unknown resource type": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Resource.Type = "Project" },
			field:  "spec.resource.type", want: msgUnsupported + `: "Project"`,
		},
		"101 subjects": {
			mutate: func(g *iamv1alpha1.ResourceGrant) {
				g.Spec.Subjects = make([]iamv1alpha1.Subject, 101)
				for i := range g.Spec.Subjects {
					g.Spec.Subjects[i] = iamv1alpha1.Subject{Kind: iamv1alpha1.SubjectUser, Name: fmt.Sprintf("user-%03d", i)}
				}
			},
			field: "spec.subjects", want: tooMany(101, 100),
		},
	})

	runUpdateCases(t, validGrant, map[string]updateCase[*iamv1alpha1.ResourceGrant]{
		"resource changed": {
			mutate: func(g *iamv1alpha1.ResourceGrant) { g.Spec.Resource.Name = "churn-v2" },
			field:  "spec.resource", want: "resource is immutable: create a new ResourceGrant for another resource",
		},
		"permissions and subjects changed": {
			mutate: func(g *iamv1alpha1.ResourceGrant) {
				g.Spec.Permissions = []iamv1alpha1.Permission{"readProjectContent"}
				g.Spec.Subjects = g.Spec.Subjects[1:]
			},
		},
	})
}

// ---------------------------------------------------------------- Connection

func validConnection() *iamv1alpha1.Connection {
	return &iamv1alpha1.Connection{Spec: iamv1alpha1.ConnectionSpec{
		Type:       iamv1alpha1.ConnectionPostgreSQL,
		Parameters: map[string]string{"host": "warehouse.acme.example", "port": "5432"},
		Credentials: iamv1alpha1.ConnectionCredentials{
			Mode:      iamv1alpha1.CredentialModeGlobal,
			SecretRef: &iamv1alpha1.LocalSecretReference{Name: "warehouse-credentials"},
		},
		UsableBy:          &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: []string{"data-team"}},
		DetailsReadableBy: &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceNone},
	}}
}

func perUser(typ iamv1alpha1.CredentialType) func(*iamv1alpha1.Connection) {
	return func(c *iamv1alpha1.Connection) {
		c.Spec.Credentials = iamv1alpha1.ConnectionCredentials{Mode: iamv1alpha1.CredentialModePerUser, Type: typ}
	}
}

func oauth2Client(tokenURL string) *iamv1alpha1.OAuth2Client {
	return &iamv1alpha1.OAuth2Client{
		TokenURL:        tokenURL,
		ClientID:        "gatehouse",
		ClientSecretRef: iamv1alpha1.SecretKeySelector{Name: "snowflake-oauth", Key: "clientSecret"},
	}
}

func TestConnectionValidation(t *testing.T) {
	const (
		audienceRule = "groups are listed exactly when mode is Groups"
		oauth2Rule   = "oauth2 (token endpoint and client) is needed exactly when type is OAuth2"
	)
	runCreateCases(t, validConnection, map[string]createCase[*iamv1alpha1.Connection]{
		"valid global": {},
		"global KeyPair": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.Credentials.Type = iamv1alpha1.CredentialKeyPair },
		},
		"global without secretRef": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.Credentials.SecretRef = nil },
			field:  "spec.credentials", want: "mode Global needs secretRef, the Secret that holds the service account's credentials",
		},
		"per-user KeyPair": {mutate: perUser(iamv1alpha1.CredentialKeyPair)},
		"per-user without type": {
			mutate: perUser(""),
			field:  "spec.credentials", want: "mode PerUser needs type (Basic, KeyPair or OAuth2)",
		},
		"per-user with a secretRef": {
			mutate: func(c *iamv1alpha1.Connection) {
				perUser(iamv1alpha1.CredentialBasic)(c)
				c.Spec.Credentials.SecretRef = &iamv1alpha1.LocalSecretReference{Name: "warehouse-credentials"}
			},
			field: "spec.credentials", want: "mode PerUser has no global credential: remove secretRef",
		},
		"per-user OAuth2 with its client": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.Type = "Snowflake"
				perUser(iamv1alpha1.CredentialOAuth2)(c)
				c.Spec.Credentials.OAuth2 = oauth2Client("https://acme.snowflakecomputing.com/oauth/token-request")
			},
		},
		"OAuth2 without its client": {
			mutate: perUser(iamv1alpha1.CredentialOAuth2),
			field:  "spec.credentials", want: oauth2Rule,
		},
		"an OAuth2 client with type Basic": {
			mutate: func(c *iamv1alpha1.Connection) {
				perUser(iamv1alpha1.CredentialBasic)(c)
				c.Spec.Credentials.OAuth2 = oauth2Client("https://idp.acme.example/token")
			},
			field: "spec.credentials", want: oauth2Rule,
		},
		"an OAuth2 client on a global connection without type": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.Credentials.OAuth2 = oauth2Client("https://idp.acme.example/token")
			},
			field: "spec.credentials", want: oauth2Rule,
		},
		"OAuth2 token endpoint over http": {
			mutate: func(c *iamv1alpha1.Connection) {
				perUser(iamv1alpha1.CredentialOAuth2)(c)
				c.Spec.Credentials.OAuth2 = oauth2Client("http://idp.acme.example/token")
			},
			field: "spec.credentials.oauth2.tokenURL", want: "tokenURL must be an https:// URL",
		},
		"OAuth2 token endpoint not a URL": {
			mutate: func(c *iamv1alpha1.Connection) {
				perUser(iamv1alpha1.CredentialOAuth2)(c)
				c.Spec.Credentials.OAuth2 = oauth2Client("https://idp acme example/token")
			},
			field: "spec.credentials.oauth2.tokenURL", want: "tokenURL must be an https:// URL",
		},
		"unknown credential type": {
			mutate: perUser("Kerberos"),
			field:  "spec.credentials.type", want: msgUnsupported + `: "Kerberos"`,
		},
		"unknown credential mode": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.Credentials.Mode = "Shared" },
			field:  "spec.credentials.mode", want: msgUnsupported + `: "Shared"`,
		},
		"unknown connection type": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.Type = "MongoDB" },
			field:  "spec.type", want: msgUnsupported + `: "MongoDB"`,
		},
		"usable by groups, none listed": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.UsableBy.Groups = nil },
			field:  "spec.usableBy", want: audienceRule,
		},
		"usable by groups, empty list": {
			raw: func(o map[string]any) {
				_ = unstructured.SetNestedSlice(o, []any{}, "spec", "usableBy", "groups")
			},
			field: "spec.usableBy", want: audienceRule,
		},
		"usable by all, with groups": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.UsableBy.Mode = iamv1alpha1.AudienceAll },
			field:  "spec.usableBy", want: audienceRule,
		},
		"usable by all": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.UsableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceAll}
			},
		},
		"usable by nobody (mode defaults to None)": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.UsableBy = &iamv1alpha1.Audience{} },
		},
		"usable by nobody, with groups": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.UsableBy = &iamv1alpha1.Audience{Groups: []string{"data-team"}}
			},
			field: "spec.usableBy", want: audienceRule,
		},
		"details readable by groups, none listed": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups}
			},
			field: "spec.detailsReadableBy", want: audienceRule,
		},
		"details readable by groups": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.DetailsReadableBy = &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceGroups, Groups: []string{"administrators"}}
			},
		},
		"unknown audience mode": {
			mutate: func(c *iamv1alpha1.Connection) { c.Spec.DetailsReadableBy.Mode = "Everyone" },
			field:  "spec.detailsReadableBy.mode", want: msgUnsupported + `: "Everyone"`,
		},
		"65 parameters": {
			mutate: func(c *iamv1alpha1.Connection) {
				c.Spec.Parameters = map[string]string{}
				for i := range 65 {
					c.Spec.Parameters[fmt.Sprintf("p%02d", i)] = "v"
				}
			},
			field: "spec.parameters", want: "Too many: 65: must have at most 64 items",
		},
	})

	runUpdateCases(t, validConnection, map[string]updateCase[*iamv1alpha1.Connection]{
		"switched to per-user, secretRef kept": {
			mutate: perUserKeepingSecret,
			field:  "spec.credentials", want: "mode PerUser has no global credential",
		},
		"switched to per-user": {
			mutate: perUser(iamv1alpha1.CredentialBasic),
		},
	})
}

func perUserKeepingSecret(c *iamv1alpha1.Connection) {
	c.Spec.Credentials.Mode = iamv1alpha1.CredentialModePerUser
	c.Spec.Credentials.Type = iamv1alpha1.CredentialBasic
}

// ---------------------------------------------------------------- Directory

func validDirectory() *iamv1alpha1.Directory {
	return &iamv1alpha1.Directory{Spec: iamv1alpha1.DirectorySpec{
		URL:                   "ldaps://ldap.acme.example:636",
		BindDN:                "cn=gatehouse,ou=services,dc=acme,dc=example",
		BindPasswordSecretRef: &iamv1alpha1.SecretKeySelector{Name: "ldap-bind", Key: "password"},
		Users:                 iamv1alpha1.DirectoryUsers{BaseDN: "ou=people,dc=acme,dc=example"},
		Groups:                &iamv1alpha1.DirectoryGroups{BaseDN: "ou=groups,dc=acme,dc=example"},
	}}
}

func TestDirectoryValidation(t *testing.T) {
	runCreateCases(t, validDirectory, map[string]createCase[*iamv1alpha1.Directory]{
		"valid": {},
		"ldap with startTLS": {
			mutate: func(d *iamv1alpha1.Directory) {
				d.Spec.URL, d.Spec.StartTLS = "ldap://ldap.acme.example:389", true
			},
		},
		"anonymous bind": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.BindDN, d.Spec.BindPasswordSecretRef = "", nil },
		},
		"http url": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.URL = "http://ldap.acme.example" },
			field:  "spec.url", want: "url must start with ldap:// or ldaps://, e.g. ldaps://ldap.example.com:636",
		},
		"url without scheme": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.URL = "ldap.acme.example:636" },
			field:  "spec.url", want: "url must start with ldap:// or ldaps://",
		},
		"url that does not parse": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.URL = "ldaps://ldap acme example" },
			field:  "spec.url", want: "url must be a valid URL",
		},
		"ldaps with startTLS": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.StartTLS = true },
			field:  "spec", want: "startTLS upgrades an ldap:// connection; an ldaps:// url is already TLS: drop startTLS or use ldap://",
		},
		"bindDN without password": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.BindPasswordSecretRef = nil },
			field:  "spec", want: "bindDN needs bindPasswordSecretRef, the Secret key that holds its password",
		},
		"schema ActiveDirectory": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Schema = iamv1alpha1.SchemaActiveDirectory },
		},
		"unknown schema": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Schema = "OpenLDAP" },
			field:  "spec.schema", want: `Unsupported value: "OpenLDAP"`,
		},
		"users filter without parentheses": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Users.Filter = "objectClass=person" },
			field:  "spec.users.filter", want: "filter must be an LDAP filter in parentheses, such as (objectClass=person)",
		},
		"groups filter without parentheses": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Groups.Filter = "objectClass=groupOfNames" },
			field:  "spec.groups.filter", want: "filter must be an LDAP filter in parentheses, such as (objectClass=groupOfNames)",
		},
		"compound users filter": {
			mutate: func(d *iamv1alpha1.Directory) {
				d.Spec.Users.Filter = "(&(objectClass=person)(memberOf=cn=staff,ou=groups,dc=acme,dc=example))"
			},
		},
		"page size 0": {
			raw:   func(o map[string]any) { _ = unstructured.SetNestedField(o, int64(0), "spec", "pageSize") },
			field: "spec.pageSize", want: "should be greater than or equal to 1",
		},
		"page size 10000": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.PageSize = 10000 },
		},
		"page size 10001": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.PageSize = 10001 },
			field:  "spec.pageSize", want: "should be less than or equal to 10000",
		},
		"maxDeactivationPercent 100": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.MaxDeactivationPercent = ptr.To[int32](100) },
		},
		"maxDeactivationPercent 0 from a Go client": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.MaxDeactivationPercent = ptr.To[int32](0) },
		},
		"sync interval 59s": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.SyncInterval = metav1.Duration{Duration: 59 * time.Second} },
			field:  "spec.syncInterval", want: "syncInterval must be at least 1m",
		},
		"timeout 11m": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Timeout = metav1.Duration{Duration: 11 * time.Minute} },
			field:  "spec.timeout", want: "timeout must be between 1s and 10m",
		},
		"maxDeactivationPercent 101": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.MaxDeactivationPercent = ptr.To[int32](101) },
			field:  "spec.maxDeactivationPercent", want: "should be less than or equal to 100",
		},
		"maxDeactivationPercent -1": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.MaxDeactivationPercent = ptr.To[int32](-1) },
			field:  "spec.maxDeactivationPercent", want: "should be greater than or equal to 0",
		},
		"no login attributes": {
			raw: func(o map[string]any) {
				_ = unstructured.SetNestedSlice(o, []any{}, "spec", "users", "loginAttributes")
			},
			field: "spec.users.loginAttributes", want: atLeast(1),
		},
		"maxNestingDepth 65": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Groups.MaxNestingDepth = 65 },
			field:  "spec.groups.maxNestingDepth", want: "should be less than or equal to 64",
		},
		"unknown provisioning": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Provisioning = "Lazy" },
			field:  "spec.provisioning", want: msgUnsupported + `: "Lazy"`,
		},
		"unknown removal policy": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.OnRemoval = "Archive" },
			field:  "spec.onRemoval", want: msgUnsupported + `: "Archive"`,
		},
		"unknown member attribute": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Groups.MemberAttribute = "members" },
			field:  "spec.groups.memberAttribute", want: msgUnsupported + `: "members"`,
		},
		"unknown search scope": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Users.Scope = "Subtree" },
			field:  "spec.users.scope", want: msgUnsupported + `: "Subtree"`,
		},
		"users without baseDN": {
			mutate: func(d *iamv1alpha1.Directory) { d.Spec.Users.BaseDN = "" },
			field:  "spec.users.baseDN", want: "should be at least 1 chars long",
		},
	})
}

// ---------------------------------------------------------------- License

func validLicense() *iamv1alpha1.License {
	return &iamv1alpha1.License{Spec: iamv1alpha1.LicenseSpec{
		Profiles: []iamv1alpha1.Profile{
			{Name: "designer", Seats: 3, MaxRole: iamv1alpha1.RoleOwner},
			{Name: "reader", Seats: 2, MaxRole: iamv1alpha1.RoleConsumer, GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
		},
	}}
}

func TestLicenseValidation(t *testing.T) {
	runCreateCases(t, validLicense, map[string]createCase[*iamv1alpha1.License]{
		"valid": {},
		"expiring": {
			mutate: func(l *iamv1alpha1.License) {
				l.Spec.ExpiresAt = &metav1.Time{Time: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
			},
		},
		"zero seats": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles[1].Seats = 0 },
		},
		"no profiles": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles = []iamv1alpha1.Profile{} },
			field:  "spec.profiles", want: atLeast(1),
		},
		"profiles omitted": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles = nil },
			field:  "spec.profiles", want: msgRequired,
		},
		"negative seats": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Seats = -1 },
			field:  "spec.profiles[0].seats", want: "should be greater than or equal to 0",
		},
		"two profiles of the same name": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles[1].Name = "designer" },
			field:  "spec.profiles[1]", want: msgDuplicate,
		},
		"profile name in upper case": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Name = "Designer" },
			field:  "spec.profiles[0].name", want: msgPattern,
		},
		"profile name ending in a dash": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles[0].Name = "designer-" },
			field:  "spec.profiles[0].name", want: msgPattern,
		},
		"unknown maxRole": {
			mutate: func(l *iamv1alpha1.License) { l.Spec.Profiles[0].MaxRole = "Admin" },
			field:  "spec.profiles[0].maxRole", want: msgUnsupported + `: "Admin"`,
		},
		"unknown global permission": {
			mutate: func(l *iamv1alpha1.License) {
				l.Spec.Profiles[0].GlobalPermissions = []iamv1alpha1.GlobalPermission{"createProjects", "root"}
			},
			field: "spec.profiles[0].globalPermissions[1]", want: msgUnsupported + `: "root"`,
		},
		"33 profiles": {
			mutate: func(l *iamv1alpha1.License) {
				l.Spec.Profiles = make([]iamv1alpha1.Profile, 33)
				for i := range l.Spec.Profiles {
					l.Spec.Profiles[i] = iamv1alpha1.Profile{Name: fmt.Sprintf("p%02d", i), Seats: 1}
				}
			},
			field: "spec.profiles", want: tooMany(33, 32),
		},
	})
}

// ---------------------------------------------------------------- Group

func validGroup() *iamv1alpha1.Group {
	return &iamv1alpha1.Group{Spec: iamv1alpha1.GroupSpec{
		DisplayName:       "Data team",
		GlobalPermissions: []iamv1alpha1.GlobalPermission{"createProjects", "createCodeEnvs"},
		LDAPGroups:        []string{"cn=ship_crew,ou=people,dc=planetexpress,dc=com"},
		KubernetesGroup:   "gatehouse:data-team",
	}}
}

func TestGroupValidation(t *testing.T) {
	runCreateCases(t, validGroup, map[string]createCase[*iamv1alpha1.Group]{
		"valid": {},
		"administrators": {
			mutate: func(g *iamv1alpha1.Group) {
				g.Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{iamv1alpha1.GlobalAdmin}
			},
		},
		"unknown global permission": {
			mutate: func(g *iamv1alpha1.Group) { g.Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{"superuser"} },
			field:  "spec.globalPermissions[0]", want: msgUnsupported + `: "superuser"`,
		},
		"a global permission twice": {
			mutate: func(g *iamv1alpha1.Group) {
				g.Spec.GlobalPermissions = []iamv1alpha1.GlobalPermission{"createProjects", "createProjects"}
			},
			field: "spec.globalPermissions[1]", want: msgDuplicate,
		},
		"an empty directory group": {
			mutate: func(g *iamv1alpha1.Group) { g.Spec.LDAPGroups = []string{""} },
			field:  "spec.ldapGroups[0]", want: "should be at least 1 chars long",
		},
		"description of 1025 characters": {
			mutate: func(g *iamv1alpha1.Group) { g.Spec.Description = strings.Repeat("d", 1025) },
			field:  "spec.description", want: "may not be more than 1024",
		},
	})
}

// ---------------------------------------------------------------- defaults

// TestDefaults checks what the API server fills in on create, both for an
// object sent by a Go client (typed) and one written as YAML (unstructured,
// as kubectl sends it).
func TestDefaults(t *testing.T) {
	ns := env.Namespace(t)
	ctx := ctxFor(t)

	wantUser := iamv1alpha1.UserSpec{Login: "alice", Active: ptr.To(true), Source: iamv1alpha1.UserSourceLocal}
	wantLicense := iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "designer", Seats: 3, MaxRole: iamv1alpha1.RoleOwner}}}
	wantConnection := iamv1alpha1.ConnectionSpec{
		Type: iamv1alpha1.ConnectionPostgreSQL,
		Credentials: iamv1alpha1.ConnectionCredentials{
			Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: "warehouse-credentials"},
		},
		UsableBy: &iamv1alpha1.Audience{Mode: iamv1alpha1.AudienceNone},
	}
	wantDirectory := iamv1alpha1.DirectorySpec{
		URL: "ldaps://ldap.acme.example",
		// The fields a schema preset supplies have no CRD default: the
		// operator fills them in (internal/ldap's presets and defaults),
		// so that a preset is not masked by a default nobody chose.
		Users: iamv1alpha1.DirectoryUsers{
			BaseDN: "ou=people,dc=acme,dc=example",
			Scope:  iamv1alpha1.ScopeSub,
		},
		Groups: &iamv1alpha1.DirectoryGroups{
			BaseDN:          "ou=groups,dc=acme,dc=example",
			Scope:           iamv1alpha1.ScopeSub,
			MaxNestingDepth: 10,
		},
		Provisioning:           iamv1alpha1.ProvisioningOnDemand,
		SyncInterval:           metav1.Duration{Duration: 15 * time.Minute},
		Timeout:                metav1.Duration{Duration: 30 * time.Second},
		PageSize:               500,
		OnRemoval:              iamv1alpha1.RemovalDeactivate,
		MaxDeactivationPercent: ptr.To[int32](20),
	}

	t.Run("typed", func(t *testing.T) {
		u := &iamv1alpha1.User{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typed-alice"}, Spec: iamv1alpha1.UserSpec{Login: "alice"}}
		l := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typed"},
			Spec: iamv1alpha1.LicenseSpec{Profiles: []iamv1alpha1.Profile{{Name: "designer", Seats: 3}}}}
		c := &iamv1alpha1.Connection{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typed"}, Spec: iamv1alpha1.ConnectionSpec{
			Type: iamv1alpha1.ConnectionPostgreSQL,
			Credentials: iamv1alpha1.ConnectionCredentials{
				Mode: iamv1alpha1.CredentialModeGlobal, SecretRef: &iamv1alpha1.LocalSecretReference{Name: "warehouse-credentials"},
			},
			UsableBy: &iamv1alpha1.Audience{},
		}}
		d := &iamv1alpha1.Directory{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typed"}, Spec: iamv1alpha1.DirectorySpec{
			URL:    "ldaps://ldap.acme.example",
			Users:  iamv1alpha1.DirectoryUsers{BaseDN: "ou=people,dc=acme,dc=example"},
			Groups: &iamv1alpha1.DirectoryGroups{BaseDN: "ou=groups,dc=acme,dc=example"},
		}}
		var offline []*crdvalidate.Result
		for _, obj := range []client.Object{u, l, c, d} {
			offline = append(offline, judgeOffline(t, obj))
			if err := env.Client.Create(ctx, obj); err != nil {
				t.Fatalf("cannot create %T: %v", obj, err)
			}
		}
		for _, res := range offline {
			compareVerdicts(t, nil, res)
		}
		// Create decodes the server's answer into the object: the defaults
		// are what the API server stored.
		diffSpec(t, "User", wantUser, u.Spec)
		diffSpec(t, "License", wantLicense, l.Spec)
		diffSpec(t, "Connection", wantConnection, c.Spec)
		diffSpec(t, "Directory", wantDirectory, d.Spec)
	})

	t.Run("yaml", func(t *testing.T) {
		for _, doc := range []string{`
apiVersion: iam.gatehouse.dev/v1alpha1
kind: User
metadata: {name: yaml-alice}
spec: {login: alice}`, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: License
metadata: {name: yaml}
spec:
  profiles: [{name: designer, seats: 3}]`, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Connection
metadata: {name: yaml}
spec:
  type: PostgreSQL
  credentials: {mode: Global, secretRef: {name: warehouse-credentials}}
  usableBy: {}`, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Directory
metadata: {name: yaml}
spec:
  url: ldaps://ldap.acme.example
  users: {baseDN: "ou=people,dc=acme,dc=example"}
  groups: {baseDN: "ou=groups,dc=acme,dc=example"}`,
		} {
			createYAML(t, ns, doc)
		}
		u, l, c, d := &iamv1alpha1.User{}, &iamv1alpha1.License{}, &iamv1alpha1.Connection{}, &iamv1alpha1.Directory{}
		get(t, ns, "yaml-alice", u)
		get(t, ns, "yaml", l)
		get(t, ns, "yaml", c)
		get(t, ns, "yaml", d)
		diffSpec(t, "User", wantUser, u.Spec)
		diffSpec(t, "License", wantLicense, l.Spec)
		diffSpec(t, "Connection", wantConnection, c.Spec)
		diffSpec(t, "Directory", wantDirectory, d.Spec)
	})

	// An explicit 0 is a valid bound ("never deactivate anyone") and must
	// not be replaced by the default.
	t.Run("yaml maxDeactivationPercent 0 kept", func(t *testing.T) {
		createYAML(t, ns, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: Directory
metadata: {name: never-deactivate}
spec:
  url: ldap://ldap.acme.example
  users: {baseDN: "ou=people,dc=acme,dc=example"}
  maxDeactivationPercent: 0`)
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(iamv1alpha1.GroupVersion.String())
		u.SetKind("Directory")
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "never-deactivate"}, u); err != nil {
			t.Fatal(err)
		}
		got, found, err := unstructured.NestedInt64(u.Object, "spec", "maxDeactivationPercent")
		if err != nil || !found || got != 0 {
			t.Fatalf("spec.maxDeactivationPercent = %d (found %t, %v), want 0 as written", got, found, err)
		}
	})
}

func diffSpec(t *testing.T, kind string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s spec after defaulting (-want +got):\n%s", kind, diff)
	}
}

// createYAML creates the object of a YAML document as kubectl sends it, and
// checks that the offline judge defaults it as the API server did.
func createYAML(t *testing.T, ns, doc string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatalf("bad test YAML: %v\n%s", err, doc)
	}
	u.SetNamespace(ns)
	offline := judgeOffline(t, u)
	if err := env.Client.Create(ctxFor(t), u); err != nil {
		t.Fatalf("cannot create %s %s: %v", u.GetKind(), u.GetName(), err)
	}
	compareVerdicts(t, nil, offline)
}

func get(t *testing.T, ns, name string, obj client.Object) {
	t.Helper()
	if err := env.Client.Get(ctxFor(t), client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		t.Fatalf("cannot get %T %s/%s: %v", obj, ns, name, err)
	}
}

// TestLicenseGlobalPermissionsOmittedVersusEmpty checks the distinction the
// License API rests on: an omitted globalPermissions means every global
// permission, an empty list means none. Both must survive the round trip,
// whether written by a Go client or as YAML.
func TestLicenseGlobalPermissionsOmittedVersusEmpty(t *testing.T) {
	ns := env.Namespace(t)
	ctx := ctxFor(t)

	check := func(t *testing.T, name string) {
		t.Helper()
		l := &iamv1alpha1.License{}
		get(t, ns, name, l)
		if got := l.Spec.Profiles[0].GlobalPermissions; got != nil {
			t.Errorf("profile %q with globalPermissions omitted reads back as %#v, want nil (all permissions)", l.Spec.Profiles[0].Name, got)
		}
		if got := l.Spec.Profiles[1].GlobalPermissions; got == nil || len(got) != 0 {
			t.Errorf("profile %q with globalPermissions: [] reads back as %#v, want an empty non-nil list (no permission)", l.Spec.Profiles[1].Name, got)
		}

		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(iamv1alpha1.GroupVersion.WithKind("License"))
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
			t.Fatal(err)
		}
		profiles, _, _ := unstructured.NestedSlice(u.Object, "spec", "profiles")
		if len(profiles) != 2 {
			t.Fatalf("stored profiles = %v, want 2", profiles)
		}
		if v, ok := profiles[0].(map[string]any)["globalPermissions"]; ok {
			t.Errorf("stored profile all has globalPermissions = %#v, want the field absent", v)
		}
		if v, ok := profiles[1].(map[string]any)["globalPermissions"]; !ok || v == nil || len(v.([]any)) != 0 {
			t.Errorf("stored profile none has globalPermissions = %#v (present %t), want []", v, ok)
		}
	}

	t.Run("typed", func(t *testing.T) {
		l := &iamv1alpha1.License{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "typed"}, Spec: iamv1alpha1.LicenseSpec{
			Profiles: []iamv1alpha1.Profile{
				{Name: "all", Seats: 1},
				{Name: "none", Seats: 1, GlobalPermissions: []iamv1alpha1.GlobalPermission{}},
			},
		}}
		if err := env.Client.Create(ctx, l); err != nil {
			t.Fatalf("cannot create: %v", err)
		}
		check(t, "typed")

		// A read-modify-write by a Go client keeps the distinction.
		l.Spec.Profiles[0].Seats = 2
		if err := env.Client.Update(ctx, l); err != nil {
			t.Fatalf("cannot update: %v", err)
		}
		check(t, "typed")
	})

	t.Run("yaml", func(t *testing.T) {
		createYAML(t, ns, `
apiVersion: iam.gatehouse.dev/v1alpha1
kind: License
metadata: {name: yaml}
spec:
  profiles:
  - {name: all, seats: 1}
  - {name: none, seats: 1, globalPermissions: []}`)
		check(t, "yaml")
	})
}
