package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SearchScope is the scope of an LDAP search below its base DN.
// +kubebuilder:validation:Enum=Base;One;Sub
type SearchScope string

// The LDAP search scopes.
const (
	ScopeBase SearchScope = "Base"
	ScopeOne  SearchScope = "One"
	ScopeSub  SearchScope = "Sub"
)

// MemberAttribute is the attribute of a group entry that lists its members.
// +kubebuilder:validation:Enum=member;uniqueMember;memberUid
type MemberAttribute string

// The member attributes of the common LDAP schemas.
const (
	// MemberAttributeMember: RFC 4519 groupOfNames and Active Directory; the
	// values are member DNs.
	MemberAttributeMember MemberAttribute = "member"
	// MemberAttributeUniqueMember: RFC 4519 groupOfUniqueNames; member DNs.
	MemberAttributeUniqueMember MemberAttribute = "uniqueMember"
	// MemberAttributeMemberUID: RFC 2307 posixGroup; the values are logins.
	MemberAttributeMemberUID MemberAttribute = "memberUid"
)

// NestedGroups says how memberships of nested groups are resolved.
// +kubebuilder:validation:Enum=None;Recursive;ActiveDirectory
type NestedGroups string

// The nested-group modes.
const (
	// NestedNone: only direct members count.
	NestedNone NestedGroups = "None"
	// NestedRecursive: member groups are expanded by the operator, with cycle
	// detection and maxNestingDepth.
	NestedRecursive NestedGroups = "Recursive"
	// NestedActiveDirectory: the memberships the in-chain matching rule
	// 1.2.840.113556.1.4.1941 gives, without a depth limit. The operator
	// expands the groups it read from their member values and asks the
	// server's in-chain rule only about groups that reach entries outside
	// the group search (docs/directory.md, "Cost of nested groups").
	NestedActiveDirectory NestedGroups = "ActiveDirectory"
)

// DirectorySchema is a preset of the users and groups fields for one kind
// of directory.
// +kubebuilder:validation:Enum=ActiveDirectory;RFC2307;RFC4519
type DirectorySchema string

// The schema presets. The values each supplies are listed in
// docs/directory.md and, for a Directory, in status.schemaDefaults.
const (
	// SchemaActiveDirectory: enabled person accounts only (no computers,
	// no disabled accounts, no built-in accounts), logins from
	// sAMAccountName in lower case, groups of objectClass group with
	// member, nested by the in-chain rule, primaryGroupID resolved.
	SchemaActiveDirectory DirectorySchema = "ActiveDirectory"
	// SchemaRFC2307: posixAccount users with uid, posixGroup groups with
	// memberUid.
	SchemaRFC2307 DirectorySchema = "RFC2307"
	// SchemaRFC4519: inetOrgPerson users with uid, groupOfNames and
	// groupOfUniqueNames groups with member.
	SchemaRFC4519 DirectorySchema = "RFC4519"
)

// Provisioning says which directory entries become Users.
// +kubebuilder:validation:Enum=All;OnDemand
type Provisioning string

// The provisioning modes.
const (
	// ProvisioningAll: every entry the users filter matches becomes a User.
	ProvisioningAll Provisioning = "All"
	// ProvisioningOnDemand: only Users an administrator created with
	// source LDAP are filled in (the DSS behaviour).
	ProvisioningOnDemand Provisioning = "OnDemand"
)

// RemovalPolicy says what happens to a User whose entry left the directory.
// +kubebuilder:validation:Enum=Deactivate;Delete;Keep
type RemovalPolicy string

// The removal policies.
const (
	RemovalDeactivate RemovalPolicy = "Deactivate"
	RemovalDelete     RemovalPolicy = "Delete"
	RemovalKeep       RemovalPolicy = "Keep"
)

// DirectoryTLS configures how the server's certificate is verified.
type DirectoryTLS struct {
	// caSecretRef selects a PEM CA bundle in a Secret. Omitted means the
	// system roots.
	// +optional
	CASecretRef *SecretKeySelector `json:"caSecretRef,omitempty"`

	// serverName overrides the name the certificate is verified against.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServerName string `json:"serverName,omitempty"`

	// insecureSkipVerify turns certificate verification off. Never use it in
	// production: the Directory reports an Insecure condition as long as it
	// is set.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// DirectoryUsers says where the users are and how their attributes map.
type DirectoryUsers struct {
	// baseDN is where the user search starts.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	BaseDN string `json:"baseDN"`

	// filter is the LDAP filter users match. Omitted means the schema
	// preset's filter, or (objectClass=person) without a schema.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.startsWith('(') && self.endsWith(')')",message="filter must be an LDAP filter in parentheses, such as (objectClass=person)"
	Filter string `json:"filter,omitempty"`

	// scope of the search below baseDN.
	// +optional
	// +kubebuilder:default=Sub
	Scope SearchScope `json:"scope,omitempty"`

	// loginAttributes are the attributes that hold the login; the first
	// non-empty one wins (uid, sAMAccountName, userPrincipalName, mail,
	// ...). Omitted means the schema preset's (sAMAccountName for
	// ActiveDirectory), or uid.
	// +optional
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=8
	LoginAttributes []string `json:"loginAttributes,omitempty"`

	// lowercaseLogins turns logins to lower case, for directories whose
	// logins compare case-insensitively (Active Directory). Omitted means
	// true with schema ActiveDirectory, else false.
	// +optional
	LowercaseLogins *bool `json:"lowercaseLogins,omitempty"`

	// displayNameAttributes hold the user's name; the first non-empty wins.
	// Omitted means the schema preset's, or displayName, cn.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	DisplayNameAttributes []string `json:"displayNameAttributes,omitempty"`

	// emailAttribute holds the user's e-mail address. Omitted means mail.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	EmailAttribute string `json:"emailAttribute,omitempty"`
}

// DirectoryGroups says where the groups are and how members are listed.
type DirectoryGroups struct {
	// baseDN is where the group search starts.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	BaseDN string `json:"baseDN"`

	// filter is the LDAP filter groups match. Omitted means the schema
	// preset's filter, or
	// (|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))
	// without a schema.
	// +optional
	// +kubebuilder:validation:MaxLength=4096
	// +kubebuilder:validation:XValidation:rule="self.startsWith('(') && self.endsWith(')')",message="filter must be an LDAP filter in parentheses, such as (objectClass=groupOfNames)"
	Filter string `json:"filter,omitempty"`

	// scope of the search below baseDN.
	// +optional
	// +kubebuilder:default=Sub
	Scope SearchScope `json:"scope,omitempty"`

	// nameAttribute holds the group's name. Omitted means cn.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	NameAttribute string `json:"nameAttribute,omitempty"`

	// memberAttribute lists the group's members. Omitted means the schema
	// preset's (memberUid for RFC2307), or member.
	// +optional
	MemberAttribute MemberAttribute `json:"memberAttribute,omitempty"`

	// nested says how members of member groups are resolved. Omitted means
	// the schema preset's (ActiveDirectory for schema ActiveDirectory), or
	// None.
	// +optional
	Nested NestedGroups `json:"nested,omitempty"`

	// maxNestingDepth bounds Recursive expansion.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=64
	MaxNestingDepth int32 `json:"maxNestingDepth,omitempty"`
}

// ProfileMapping gives the members of a directory group a profile.
type ProfileMapping struct {
	// group is the directory group (DN or name).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Group string `json:"group"`

	// profile is a License profile.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Profile string `json:"profile"`
}

// DirectorySpec is an LDAP or Active Directory server to sync users and
// groups from.
// +kubebuilder:validation:XValidation:rule="!(has(self.startTLS) && self.startTLS && self.url.startsWith('ldaps://'))",message="startTLS upgrades an ldap:// connection; an ldaps:// url is already TLS: drop startTLS or use ldap://"
// +kubebuilder:validation:XValidation:rule="!has(self.bindDN) || has(self.bindPasswordSecretRef)",message="bindDN needs bindPasswordSecretRef, the Secret key that holds its password"
type DirectorySpec struct {
	// url is the server: ldap://host[:port] or ldaps://host[:port].
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('ldap://') || self.startsWith('ldaps://')",message="url must start with ldap:// or ldaps://, e.g. ldaps://ldap.example.com:636"
	// +kubebuilder:validation:XValidation:rule="isURL(self)",message="url must be a valid URL, e.g. ldaps://ldap.example.com:636"
	URL string `json:"url"`

	// startTLS upgrades an ldap:// connection to TLS before binding.
	// +optional
	StartTLS bool `json:"startTLS,omitempty"`

	// tls configures certificate verification for ldaps:// and StartTLS.
	// +optional
	TLS *DirectoryTLS `json:"tls,omitempty"`

	// bindDN is the DN to bind as. Omitted means an anonymous bind.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	BindDN string `json:"bindDN,omitempty"`

	// bindPasswordSecretRef selects the bind password in a Secret. The
	// Secret must be marked for this Directory (label
	// iam.gatehouse.dev/credential-for: directory.<name>).
	// +optional
	BindPasswordSecretRef *SecretKeySelector `json:"bindPasswordSecretRef,omitempty"`

	// schema is a preset for the users and groups fields: ActiveDirectory,
	// RFC2307 or RFC4519. It fills in every such field left out (a value
	// stored with an earlier version's defaults counts as left out), and
	// status.schemaDefaults lists what it supplied; a field that is set
	// overrides the preset. With ActiveDirectory a Directory pointed at the
	// domain root syncs the enabled people and nothing else (no computer,
	// disabled or built-in account), logins from sAMAccountName in lower
	// case, groups nested by the in-chain rule, and members of a user's
	// primary group (primaryGroupID, usually Domain Users) counted.
	// Omitted means no preset: the defaults of each field.
	// +optional
	Schema DirectorySchema `json:"schema,omitempty"`

	// allowPlaintextBind accepts a password bind over ldap:// without
	// StartTLS, which sends the password in clear text to anyone on the
	// path. Without it such a Directory is refused at admission and never
	// synced; with it, it is reported Insecure.
	// +optional
	AllowPlaintextBind bool `json:"allowPlaintextBind,omitempty"`

	// users says where the users are.
	// +required
	Users DirectoryUsers `json:"users"`

	// groups says where the groups are. Omitted means groups are not synced.
	// +optional
	Groups *DirectoryGroups `json:"groups,omitempty"`

	// profileMappings give the members of directory groups a profile. Among
	// a user's matches the profile listed first in the License wins, else
	// defaultProfile.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	ProfileMappings []ProfileMapping `json:"profileMappings,omitempty"`

	// defaultProfile is the profile of users no mapping matches. Omitted
	// means such users get no profile and no seat.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	DefaultProfile string `json:"defaultProfile,omitempty"`

	// provisioning says which entries become Users: All, or OnDemand (only
	// Users created by an administrator with source LDAP are filled in).
	// +optional
	// +kubebuilder:default=OnDemand
	Provisioning Provisioning `json:"provisioning,omitempty"`

	// syncInterval is the time between syncs.
	// +optional
	// +kubebuilder:default="15m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="syncInterval must be at least 1m"
	SyncInterval metav1.Duration `json:"syncInterval,omitzero"` // omitzero: omitempty keeps a zero struct, so Go clients would send "0s" and skip the default

	// timeout bounds connecting and each search.
	// +optional
	// +kubebuilder:default="30s"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('10m')",message="timeout must be between 1s and 10m"
	Timeout metav1.Duration `json:"timeout,omitzero"` // omitzero: as syncInterval

	// pageSize is the LDAP paging size (RFC 2696).
	// +optional
	// +kubebuilder:default=500
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	PageSize int32 `json:"pageSize,omitempty"`

	// onRemoval says what happens to a User whose entry left the directory.
	// +optional
	// +kubebuilder:default=Deactivate
	OnRemoval RemovalPolicy `json:"onRemoval,omitempty"`

	// maxDeactivationPercent is a safety bound: a sync that would deactivate
	// or delete more than this share of the directory's active users, or
	// that finds no user at all, stops, changes nothing and reports Degraded
	// instead of acting. 0 means a sync never removes anyone. The annotation
	// iam.gatehouse.dev/allow-mass-removal lifts the bound for one sync.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	MaxDeactivationPercent *int32 `json:"maxDeactivationPercent,omitempty"`

	// dryRun makes the syncs plan only: status.plan says which Users they
	// would create, update, deactivate or delete, and nothing is written.
	// When the safety bound would stop the sync, status.plan.blocked says
	// so; with a new iam.gatehouse.dev/allow-mass-removal value, the plan
	// is what the next real sync would do past the bound
	// (status.plan.allowedBy), and the dry run does not use the value up.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
}

// DirectoryPlan is what a dry-run sync would change.
type DirectoryPlan struct {
	// create is how many Users the sync would create.
	// +optional
	Create int32 `json:"create"` // zero shown: omitempty would hide it, as below

	// update is how many Users the sync would change (reactivations
	// included).
	// +optional
	Update int32 `json:"update"`

	// deactivate is how many Users the sync would deactivate.
	// +optional
	Deactivate int32 `json:"deactivate"`

	// delete is how many Users the sync would delete.
	// +optional
	Delete int32 `json:"delete"`

	// createNames are the first names (at most 10, sorted) of create.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	CreateNames []string `json:"createNames,omitempty"`

	// updateNames are the first names (at most 10, sorted) of update.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	UpdateNames []string `json:"updateNames,omitempty"`

	// deactivateNames are the first names (at most 10, sorted) of
	// deactivate.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	DeactivateNames []string `json:"deactivateNames,omitempty"`

	// deleteNames are the first names (at most 10, sorted) of delete.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	DeleteNames []string `json:"deleteNames,omitempty"`

	// blocked is set when the safety bound would stop the sync; it says why.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Blocked string `json:"blocked,omitempty"`

	// allowedBy is set when the safety bound would stop the sync but the
	// iam.gatehouse.dev/allow-mass-removal annotation holds a value no sync
	// has used: the value. The plan is then what the next real sync would
	// do, past the bound; a dry run never uses the value up.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	AllowedBy string `json:"allowedBy,omitempty"`
}

// DirectoryStatus is the outcome of the syncs.
type DirectoryStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// lastAttemptTime is when the last sync started.
	// +optional
	LastAttemptTime *metav1.Time `json:"lastAttemptTime,omitempty"`

	// lastSuccessTime is when the last successful sync started.
	// +optional
	LastSuccessTime *metav1.Time `json:"lastSuccessTime,omitempty"`

	// lastSyncDuration is how long the last sync took.
	// +optional
	LastSyncDuration *metav1.Duration `json:"lastSyncDuration,omitempty"`

	// usersFound is how many user entries the last sync read.
	// +optional
	UsersFound int32 `json:"usersFound"` // zero shown: omitempty would hide it, as below

	// groupsFound is how many group entries the last sync read.
	// +optional
	GroupsFound int32 `json:"groupsFound"`

	// activeUsers is how many Users of this directory are active after the
	// last sync (as the operator's cache holds them): after a sync the
	// safety bound stopped, the Users still active, which may be more
	// than usersFound.
	// +optional
	ActiveUsers int32 `json:"activeUsers"`

	// created is how many Users the last sync created.
	// +optional
	Created int32 `json:"created"`

	// updated is how many Users the last sync changed (reactivations
	// included).
	// +optional
	Updated int32 `json:"updated"`

	// deactivated is how many Users the last sync deactivated
	// (spec.onRemoval Deactivate).
	// +optional
	Deactivated int32 `json:"deactivated"`

	// deleted is how many Users the last sync deleted (spec.onRemoval
	// Delete).
	// +optional
	Deleted int32 `json:"deleted"`

	// skipped is how many user entries the last sync could not turn into
	// Users (no login, a login with white space, a login two entries share).
	// +optional
	Skipped int32 `json:"skipped"`

	// plan is what the last dry-run sync would have changed; only set while
	// spec.dryRun is true.
	// +optional
	Plan *DirectoryPlan `json:"plan,omitempty"`

	// syncNowHandled is the value of the iam.gatehouse.dev/sync-now
	// annotation the operator last synced for.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	SyncNowHandled string `json:"syncNowHandled,omitempty"`

	// allowMassRemovalHandled is the value of the
	// iam.gatehouse.dev/allow-mass-removal annotation that a sync last used
	// to go past the safety bound; the same value does not lift it again.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	AllowMassRemovalHandled string `json:"allowMassRemovalHandled,omitempty"`

	// schemaDefaults are the values spec.schema supplied, one
	// "field=value" each (users.loginAttributes=sAMAccountName): the fields
	// the spec leaves out that the preset filled in.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=1024
	SchemaDefaults []string `json:"schemaDefaults,omitempty"`

	// conditions: Ready, Synced, Degraded, Insecure, and Syncing (True
	// while a sync runs).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Directory is an LDAP or Active Directory server that Gatehouse syncs Users
// and their directory groups from.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=dir,categories=gatehouse
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Provisioning",type=string,JSONPath=`.spec.provisioning`
// +kubebuilder:printcolumn:name="Found",type=integer,JSONPath=`.status.usersFound`,description="User entries the last sync read"
// +kubebuilder:printcolumn:name="Active",type=integer,JSONPath=`.status.activeUsers`,description="Users of the directory active after the last sync"
// +kubebuilder:printcolumn:name="Last Sync",type=date,JSONPath=`.status.lastSuccessTime`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Directory struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the directory as declared.
	// +required
	Spec DirectorySpec `json:"spec"`

	// status is the outcome of the syncs.
	// +optional
	Status DirectoryStatus `json:"status,omitempty"`
}

// DirectoryList is a list of Directory.
//
// +kubebuilder:object:root=true
type DirectoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Directory `json:"items"`
}

// Annotations on a Directory.
const (
	// AnnotationSyncNow on a Directory asks for a sync now: every new value
	// triggers one sync, and status.syncNowHandled records the value synced
	// for. kubectl annotate dir NAME iam.gatehouse.dev/sync-now="$(date +%s)" --overwrite
	AnnotationSyncNow = "iam.gatehouse.dev/sync-now"
	// AnnotationAllowMassRemoval on a Directory lifts the safety bound
	// (maxDeactivationPercent and the empty-directory stop) for one sync:
	// the next sync that finds a value other than
	// status.allowMassRemovalHandled removes as many Users as the directory
	// says and records the value. Any value works (a date, a counter). A
	// dry run plans with the value (status.plan.allowedBy) but does not
	// record it, so the first real sync still uses it.
	AnnotationAllowMassRemoval = "iam.gatehouse.dev/allow-mass-removal"
)

// Directory conditions and reasons added with the Directory controller.
const (
	// ConditionDegraded (Directory) is True when the Users are not fully in
	// step with the directory and a person should look: the last sync
	// failed, the safety bound stopped it, or some entries could not be
	// synced (a login a hand-made User already has, OnDemand logins the
	// directory does not know). The message says what and how to proceed.
	ConditionDegraded = "Degraded"

	// ReasonInStep (Degraded False): every User of the directory is in step.
	ReasonInStep = "InStep"
	// ReasonEmptyDirectory (Synced, Degraded): the directory returned no
	// user while Users of it exist; the sync changed nothing.
	ReasonEmptyDirectory = "EmptyDirectory"
	// ReasonLoginConflict (Degraded): a directory login belongs to a User
	// the directory does not manage (created by hand or by another
	// Directory); that User was left alone.
	ReasonLoginConflict = "LoginConflict"
	// ReasonUnknownLogins (Degraded): OnDemand Users whose login the
	// directory does not know (or knows twice); they were not filled in.
	ReasonUnknownLogins = "UnknownLogins"
	// ReasonDryRun (Synced): spec.dryRun is set; status.plan holds what the
	// sync would change and nothing was written.
	ReasonDryRun = "DryRun"
	// ReasonWriteFailed (Synced): the directory was read but some Users
	// could not be written.
	ReasonWriteFailed = "WriteFailed"
	// ReasonTLSVerified (Insecure False): certificates are verified, or the
	// connection does not use TLS.
	ReasonTLSVerified = "TLSVerified"

	// ConditionSyncing (Directory) is True while a sync runs (written when
	// it starts, for a first sync, a spec or Secret change, an annotation,
	// an OnDemand User to fill in or the interval; a retry after a failure
	// keeps the failure in view),
	// and False once it ended, with the Synced reason of its outcome.
	ConditionSyncing = "Syncing"
	// ReasonSyncInProgress (Syncing True): a sync is reading the directory
	// or writing Users; the message says why it started.
	ReasonSyncInProgress = "InProgress"
)

// SecretNames are the Secrets a Directory reads: its bind password's and
// its CA bundle's.
func (s *DirectorySpec) SecretNames() []string {
	var out []string
	if ref := s.BindPasswordSecretRef; ref != nil {
		out = append(out, ref.Name)
	}
	if s.TLS != nil && s.TLS.CASecretRef != nil && (len(out) == 0 || out[0] != s.TLS.CASecretRef.Name) {
		out = append(out, s.TLS.CASecretRef.Name)
	}
	return out
}
