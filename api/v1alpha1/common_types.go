package v1alpha1

// Role is a sharing role. Roles are ordered Consumer < Editor < Owner.
// DataRobot calls Editor "User" on projects and deployments; the API accepts
// Editor only.
// +kubebuilder:validation:Enum=Consumer;Editor;Owner
type Role string

// The sharing roles, lowest first.
const (
	RoleConsumer Role = "Consumer"
	RoleEditor   Role = "Editor"
	RoleOwner    Role = "Owner"
)

// ResourceType is one of the platform's resource types. Each type has a fixed
// list of permissions and a fixed mapping from roles to permissions (the
// catalogue, internal/access).
// +kubebuilder:validation:Enum=project;dataset;connection;deployment;modelPackage;customModel;environment;application;codeEnv;cluster;containerExecConfig;deployerInfrastructure
type ResourceType string

// The resource types of the catalogue.
const (
	ResourceProject      ResourceType = "project"
	ResourceDataset      ResourceType = "dataset"
	ResourceConnection   ResourceType = "connection"
	ResourceDeployment   ResourceType = "deployment"
	ResourceModelPackage ResourceType = "modelPackage"
	ResourceCustomModel  ResourceType = "customModel"
	ResourceEnvironment  ResourceType = "environment"
	ResourceApplication  ResourceType = "application"
	ResourceCodeEnv      ResourceType = "codeEnv"
	ResourceCluster      ResourceType = "cluster"
	// ResourceContainerExecConfig is a DSS containerized execution
	// configuration; ResourceDeployerInfrastructure a DSS Deployer
	// infrastructure.
	ResourceContainerExecConfig    ResourceType = "containerExecConfig"
	ResourceDeployerInfrastructure ResourceType = "deployerInfrastructure"
)

// ResourceRef names one resource of the platform.
type ResourceRef struct {
	// type is the resource type, e.g. dataset or project.
	// +required
	Type ResourceType `json:"type"`

	// name is the resource's name on the platform, unique within its type.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches(r'^[^\\s\\p{C}\\p{Z}]+( [^\\s\\p{C}\\p{Z}]+)*$')",message="a resource name must be printable: no control characters or bidirectional overrides, no leading, trailing or repeated spaces"
	Name string `json:"name"`
}

// String returns "type/name", the form the CLI and messages use.
func (r ResourceRef) String() string { return string(r.Type) + "/" + r.Name }

// Permission is the name of a per-resource permission of the catalogue, such
// as writeProjectContent or downloadDataset. Which names are valid depends on
// the resource type; the operator reports unknown names in conditions.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=64
// +kubebuilder:validation:Pattern=`^[a-z][A-Za-z]*$`
type Permission string

// GlobalPermission is a DSS global (group) permission. admin implies every
// other global permission and Owner on every resource of the namespace.
// +kubebuilder:validation:Enum=admin;createProjects;createProjectsFromMacros;createProjectsFromTemplates;createProjectsFromApps;writeInRootProjectFolder;createWorkspaces;shareToWorkspaces;createDataCollections;publishToDataCollections;writeIsolatedCode;writeUnisolatedCode;createActiveWebContent;createCodeEnvs;manageCodeEnvs;createClusters;manageClusters;createCodeStudioTemplates;manageCodeStudioTemplates;developPlugins;editLibFolders;createPersonalConnections;viewIndexedHiveConnections;manageUserDefinedMeanings;createPublishedAPIServices;createPublishedProjects;manageFeatureStore
type GlobalPermission string

// GlobalAdmin is the global permission that implies all others.
const GlobalAdmin GlobalPermission = "admin"

// SecretKeySelector selects one key of a Secret in the object's namespace.
type SecretKeySelector struct {
	// name is the name of the Secret, in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// key is the key within the Secret's data.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// LocalSecretReference names a Secret in the object's namespace.
type LocalSecretReference struct {
	// name is the name of the Secret, in the same namespace.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}
