// Package connection reconciles Connections and their credential Secrets:
//
//   - the Connection controller validates the global credential Secret (and
//     the OAuth2 client secret), counts the per-user credentials, projects
//     detailsReadableBy and each per-user Secret into a Role and RoleBinding
//     per Secret audience (so that the API server enforces who reads them),
//     and tests PostgreSQL and MySQL connections with their global
//     credentials (condition Reachable);
//   - the credential controller makes each per-user credential Secret owned
//     by its User, and warns (an Event on the Secret) about one that names an
//     unknown user or connection.
//
// User.status.credentials is written by controllers/user, the package of
// the kind.
//
// Secrets are never all cached: the manager caches only the Secrets labelled
// iam.gatehouse.dev/connection (per-user credentials, CacheByObject), reads
// the Secrets a Connection references by name with a live GET in the
// Connection's own namespace, and learns that one of those changed from a
// metadata-only watch whose cache keeps names only. No credential value goes
// into a log line, an Event, a status, a condition or an error.
//
// The operator grants read access to Secrets, so it must hold it (the API
// server's escalation check): it needs get, list and watch on Secrets, and
// patch to set a per-user Secret's owner; it does not need bind or escalate.
//
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=connections,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=connections/status,verbs=get;patch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users;groups,verbs=get;list;watch
// +kubebuilder:rbac:groups=iam.gatehouse.dev,resources=users/status,verbs=get;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
package connection
