package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConnectionType is the kind of data store a Connection reaches.
// +kubebuilder:validation:Enum=PostgreSQL;MySQL;Oracle;SQLServer;Snowflake;Redshift;BigQuery;Databricks;S3;GCS;AzureBlob;HDFS
type ConnectionType string

// The connection types the operator can test itself.
const (
	ConnectionPostgreSQL ConnectionType = "PostgreSQL"
	ConnectionMySQL      ConnectionType = "MySQL"
)

// CredentialMode says whose credentials a connection uses.
// +kubebuilder:validation:Enum=Global;PerUser
type CredentialMode string

// The credential modes of DSS.
const (
	// CredentialModeGlobal: one service account, in a Secret, for everyone.
	CredentialModeGlobal CredentialMode = "Global"
	// CredentialModePerUser: each user brings its own credential Secret.
	CredentialModePerUser CredentialMode = "PerUser"
)

// CredentialType is the shape of a credential and so the keys its Secret
// must hold.
// +kubebuilder:validation:Enum=Basic;KeyPair;OAuth2
type CredentialType string

// The credential types.
const (
	// CredentialBasic: keys username and password.
	CredentialBasic CredentialType = "Basic"
	// CredentialKeyPair: keys accessKeyId and secretAccessKey, or privateKey.
	CredentialKeyPair CredentialType = "KeyPair"
	// CredentialOAuth2: key refreshToken; the Connection carries the token
	// endpoint and client.
	CredentialOAuth2 CredentialType = "OAuth2"
)

// OAuth2Client is the OAuth2 client a per-user OAuth2 connection refreshes
// tokens with.
type OAuth2Client struct {
	// tokenURL is the token endpoint.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && self.startsWith('https://')",message="tokenURL must be an https:// URL"
	TokenURL string `json:"tokenURL"`

	// clientID is the OAuth2 client id.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	ClientID string `json:"clientID"`

	// clientSecretRef selects the client secret in a Secret.
	// +required
	ClientSecretRef SecretKeySelector `json:"clientSecretRef"`

	// scopes requested with each token.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	Scopes []string `json:"scopes,omitempty"`
}

// ConnectionCredentials says where a connection's credentials are.
// +kubebuilder:validation:XValidation:rule="self.mode != 'Global' || has(self.secretRef)",message="mode Global needs secretRef, the Secret that holds the service account's credentials"
// +kubebuilder:validation:XValidation:rule="self.mode != 'PerUser' || has(self.type)",message="mode PerUser needs type (Basic, KeyPair or OAuth2): the keys each user's credential Secret must hold"
// +kubebuilder:validation:XValidation:rule="self.mode != 'PerUser' || !has(self.secretRef)",message="mode PerUser has no global credential: remove secretRef (each user's Secret is labelled iam.gatehouse.dev/connection and iam.gatehouse.dev/user)"
// +kubebuilder:validation:XValidation:rule="has(self.oauth2) == (has(self.type) && self.type == 'OAuth2')",message="oauth2 (token endpoint and client) is needed exactly when type is OAuth2"
type ConnectionCredentials struct {
	// mode is Global (one service account for everyone) or PerUser (each
	// user's own credentials).
	// +required
	Mode CredentialMode `json:"mode"`

	// type is the credential's shape. Required for PerUser; for Global it
	// defaults to Basic.
	// +optional
	Type CredentialType `json:"type,omitempty"`

	// secretRef names the Secret with the global credentials (mode Global).
	// +optional
	SecretRef *LocalSecretReference `json:"secretRef,omitempty"`

	// oauth2 is the OAuth2 client (type OAuth2).
	// +optional
	OAuth2 *OAuth2Client `json:"oauth2,omitempty"`
}

// AudienceMode says who an audience admits.
// +kubebuilder:validation:Enum=None;All;Groups
type AudienceMode string

// The audience modes.
const (
	// AudienceNone admits only administrators.
	AudienceNone AudienceMode = "None"
	// AudienceAll admits every user of the namespace.
	AudienceAll AudienceMode = "All"
	// AudienceGroups admits the members of the listed groups.
	AudienceGroups AudienceMode = "Groups"
)

// Audience is a set of users: none but administrators, all, or the members of
// some groups.
// +kubebuilder:validation:XValidation:rule="self.mode == 'Groups' ? has(self.groups) && size(self.groups) > 0 : !has(self.groups) || size(self.groups) == 0",message="groups are listed exactly when mode is Groups"
type Audience struct {
	// mode is None, All or Groups.
	// +optional
	// +kubebuilder:default=None
	Mode AudienceMode `json:"mode,omitempty"`

	// groups are Group names (mode Groups).
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=253
	Groups []string `json:"groups,omitempty"`
}

// ConnectionSpec is a data connection of the platform.
type ConnectionSpec struct {
	// type is the data store.
	// +required
	Type ConnectionType `json:"type"`

	// parameters are the non-secret settings: host, port, database, bucket...
	// Credentials never go here. The connection test of PostgreSQL and MySQL
	// reads host (required), port (default 5432 or 3306), database and
	// sslMode (libpq's sslmode: disable, allow, prefer (the default),
	// require, verify-ca or verify-full; MySQL honours it the same way).
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Parameters map[string]string `json:"parameters,omitempty"`

	// credentials says whose credentials the connection uses and where they
	// are.
	// +required
	Credentials ConnectionCredentials `json:"credentials"`

	// usableBy admits users to view and use the connection without a Share
	// (DSS "freely usable by"). A user it does not admit never gets use.
	// Omitted means administrators only.
	// +optional
	UsableBy *Audience `json:"usableBy,omitempty"`

	// detailsReadableBy says who may read the connection's details, the
	// global credentials among them; projected into RBAC on the Secret.
	// Omitted means administrators only.
	// +optional
	DetailsReadableBy *Audience `json:"detailsReadableBy,omitempty"`
}

// ConnectionStatus is the observed state of a Connection.
type ConnectionStatus struct {
	// observedGeneration is the generation of the spec last reconciled.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// usersConfigured is how many users have a valid per-user credential
	// (mode PerUser).
	// +optional
	UsersConfigured int32 `json:"usersConfigured,omitempty"`

	// usersMissing is how many users that usableBy admits have no per-user
	// credential (mode PerUser).
	// +optional
	UsersMissing int32 `json:"usersMissing,omitempty"`

	// usersInvalid is how many users have a per-user credential Secret that
	// lacks a key or holds an unusable value (mode PerUser).
	// +optional
	UsersInvalid int32 `json:"usersInvalid,omitempty"`

	// lastTestTime is when the operator last tested the connection with its
	// global credentials (condition Reachable).
	// +optional
	LastTestTime *metav1.Time `json:"lastTestTime,omitempty"`

	// conditions: Ready, CredentialsValid, SecretAccess, Reachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Connection is a data connection with global or per-user credentials, who
// may use it and who may read its details.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=conn,categories=gatehouse
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.credentials.mode`
// +kubebuilder:printcolumn:name="Usable By",type=string,JSONPath=`.spec.usableBy.mode`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="Reachable")].status`,priority=1
// +kubebuilder:printcolumn:name="Users",type=integer,JSONPath=`.status.usersConfigured`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Connection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the connection as declared.
	// +required
	Spec ConnectionSpec `json:"spec"`

	// status is observed by the operator.
	// +optional
	Status ConnectionStatus `json:"status,omitempty"`
}

// ConnectionList is a list of Connection.
//
// +kubebuilder:object:root=true
type ConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Connection `json:"items"`
}

// Conditions and reasons of the Connection controller. Reachable also takes
// the reasons of internal/probe (HostNotFound, ConnectionRefused,
// Timeout, TLSFailed, AuthenticationFailed, DatabaseNotFound, AccessDenied)
// and CredentialsValid those of internal/outbound (Valid, SecretNotFound,
// MissingKey, InvalidKey, InvalidSpec).
const (
	// ConditionSecretAccess (Connection) is True when the Roles and
	// RoleBindings that let the API server enforce detailsReadableBy on the
	// connection's Secrets, and each user's access to its own credential
	// Secret, are written as the spec says.
	ConditionSecretAccess = "SecretAccess"

	// ReasonProjected (SecretAccess): the Roles and RoleBindings are
	// written.
	ReasonProjected = "Projected"
	// ReasonNameTaken (SecretAccess): a Role or RoleBinding the operator
	// would write for the Connection exists and is not the Connection's;
	// the operator writes nothing in its place.
	ReasonNameTaken = "NameTaken"
	// ReasonNoKubernetesGroup (SecretAccess): a Group of detailsReadableBy
	// has no spec.kubernetesGroup, so the API server cannot tell its members.
	ReasonNoKubernetesGroup = "NoKubernetesGroup"
	// ReasonNotTested (Reachable, Unknown): the connection could be tested
	// but was not, because its credentials are not valid.
	ReasonNotTested = "NotTested"
	// ReasonCredentialsInvalid (Ready): CredentialsValid is False.
	ReasonCredentialsInvalid = "CredentialsInvalid"
	// ReasonSecretAccessFailed (Ready): SecretAccess is False.
	ReasonSecretAccessFailed = "SecretAccessFailed"
)

// Reasons of a User's CredentialStatus.
const (
	// CredentialConfigured: the user's credential Secret holds a usable
	// credential.
	CredentialConfigured = "Configured"
	// CredentialMissing: usableBy admits the user but it has no credential
	// Secret for the connection.
	CredentialMissing = "Missing"
	// CredentialInvalid: the user's credential Secret lacks a key or holds an
	// unusable value, or several Secrets claim to be the credential.
	CredentialInvalid = "Invalid"
)
