package v1alpha1

// Condition types. Every kind reports Ready; the others are kind-specific.
const (
	// ConditionReady is True when the object was reconciled and is usable as
	// written. Its reason says what is wrong otherwise.
	ConditionReady = "Ready"

	// ConditionLicensed (User) is True when the user holds a seat of its
	// profile.
	ConditionLicensed = "Licensed"

	// ConditionSynced (Directory) is True when the last sync succeeded.
	ConditionSynced = "Synced"

	// ConditionCredentialsValid (Connection) is True when the credential
	// Secrets hold the keys the credential type needs.
	ConditionCredentialsValid = "CredentialsValid"

	// ConditionReachable (Connection) is True when a connection test with the
	// global credentials succeeded.
	ConditionReachable = "Reachable"

	// ConditionInsecure (Directory) is True when TLS verification is turned
	// off; it is a warning that stays as long as the setting does.
	ConditionInsecure = "Insecure"
)

// Condition reasons, CamelCase as metav1.Condition requires.
const (
	// ReasonReconciled: the object was reconciled and nothing is wrong.
	ReasonReconciled = "Reconciled"
	// ReasonReconcileFailed (Ready): the last reconcile failed with an
	// error (the API server refused a read or write, for instance); the
	// message quotes it and the operator retries with backoff.
	ReasonReconcileFailed = "ReconcileFailed"
	// ReasonInvalidSpec: the spec names something that does not exist or is
	// not allowed; the message says what and how to fix it.
	ReasonInvalidSpec = "InvalidSpec"

	// ReasonSeatGranted (Licensed): the user holds a seat.
	ReasonSeatGranted = "SeatGranted"
	// ReasonSeatLimitReached (Licensed): every seat of the profile is taken;
	// the user waits Pending.
	ReasonSeatLimitReached = "SeatLimitReached"
	// ReasonNoLicense (Licensed): the namespace has no License.
	ReasonNoLicense = "NoLicense"
	// ReasonLicenseExpired (Licensed): the License's expiresAt has passed.
	ReasonLicenseExpired = "LicenseExpired"
	// ReasonProfileUnknown (Licensed): the user's profile is not in the
	// License.
	ReasonProfileUnknown = "ProfileUnknown"
	// ReasonInactive (Licensed): the user is inactive and holds no seat.
	ReasonInactive = "Inactive"

	// ReasonProfileFull (License): a profile has as many users as seats.
	ReasonProfileFull = "ProfileFull"
	// ReasonOverCommitted (License): a profile has more active users than
	// seats; the rest wait Pending.
	ReasonOverCommitted = "OverCommitted"

	// ReasonUnknownPermission: a permission is not in the catalogue for the
	// resource type.
	ReasonUnknownPermission = "UnknownPermission"
	// ReasonUnknownRole: a role does not exist for the resource type (an
	// environment has no Editor).
	ReasonUnknownRole = "UnknownRole"
	// ReasonUnknownGrantee: a user, group or organization named does not
	// exist.
	ReasonUnknownGrantee = "UnknownGrantee"
	// ReasonUnknownGroup: a group named does not exist.
	ReasonUnknownGroup = "UnknownGroup"

	// ReasonSecretNotFound: a referenced Secret does not exist.
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonMissingKey: a referenced Secret lacks a key the configuration
	// needs.
	ReasonMissingKey = "MissingKey"
	// ReasonUnreachable (Reachable): the connection test failed.
	ReasonUnreachable = "Unreachable"
	// ReasonNotTestable (Reachable): the connection type or mode cannot be
	// tested by the operator.
	ReasonNotTestable = "NotTestable"

	// ReasonSyncSucceeded (Directory Synced): the last sync succeeded.
	ReasonSyncSucceeded = "SyncSucceeded"
	// ReasonSyncFailed (Directory Synced): the directory could not be read.
	ReasonSyncFailed = "SyncFailed"
	// ReasonDeactivationLimit (Directory Synced): the sync stopped because it
	// would have deactivated more than maxDeactivationPercent of its users.
	ReasonDeactivationLimit = "DeactivationLimitExceeded"
	// ReasonInsecureSkipVerify (Directory Insecure): TLS certificates are not
	// verified.
	ReasonInsecureSkipVerify = "InsecureSkipVerify"
)

// Conditions added with the controllers.
const (
	// ConditionDirectoryGroupsMatched (Group) is False when an ldapGroups
	// entry matches no User's spec.directoryGroups; the group still works
	// for the entries that match.
	ConditionDirectoryGroupsMatched = "DirectoryGroupsMatched"
	// ConditionSeatsAvailable (License) is False when a profile is full or
	// over-committed.
	ConditionSeatsAvailable = "SeatsAvailable"

	// ReasonMatched (DirectoryGroupsMatched): every entry matches a user.
	ReasonMatched = "Matched"
	// ReasonNoMatchingUsers (DirectoryGroupsMatched): an entry matches no
	// user.
	ReasonNoMatchingUsers = "NoMatchingUsers"
	// ReasonSeatsAvailable (SeatsAvailable): every profile has a free seat.
	ReasonSeatsAvailable = "SeatsAvailable"
	// ReasonDuplicateLicense (License Ready): another License of the
	// namespace is the one in force.
	ReasonDuplicateLicense = "DuplicateLicense"
)

// Reasons and Events of the perimeter.
const (
	// ReasonIdentityConflict (User Ready): another User claims the same
	// Kubernetes identity (kubernetesUsername, or the login standing for
	// it). Neither User is judged as that identity until one changes.
	ReasonIdentityConflict = "IdentityConflict"
	// ReasonForbiddenKubernetesGroup (Group Ready): spec.kubernetesGroup
	// names a system: group, an administrator group or the break-glass
	// group; nothing is bound to it.
	ReasonForbiddenKubernetesGroup = "ForbiddenKubernetesGroup"

	// EventStatusRepaired is the Warning Event on any Gatehouse object whose
	// status held fields written by someone other than the operator; they
	// were removed.
	EventStatusRepaired = "StatusRepaired"
)

// Reasons of the Secrets' marker and of plaintext binds.
const (
	// ReasonSecretNotMarked: a Secret a Connection or Directory names is not
	// marked (label iam.gatehouse.dev/credential-for) for it; nothing is
	// read from it, sent with it or granted on it.
	ReasonSecretNotMarked = "SecretNotMarked"
	// ReasonSecretTypeNotAllowed: a referenced Secret is of a type Gatehouse
	// never uses as a credential (only Opaque, basic-auth and ssh-auth).
	ReasonSecretTypeNotAllowed = "SecretTypeNotAllowed"
	// ReasonPlaintextBind (Directory Insecure): a password bind over ldap://
	// without StartTLS sends the password in clear text.
	ReasonPlaintextBind = "PlaintextBind"
)
