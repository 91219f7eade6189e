{{/* The chart's name. */}}
{{- define "gatehouse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's base name: <release>-gatehouse, or the release name when it
already contains the chart's name (release "gatehouse" gives the same names
as config/default). Kept short enough for the suffixes below.
*/}}
{{- define "gatehouse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "gatehouse.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "gatehouse.labels" -}}
helm.sh/chart: {{ include "gatehouse.chart" . }}
{{ include "gatehouse.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatehouse
{{- end }}

{{/* The manager pods' labels (the Services and the PodDisruptionBudget select them). */}}
{{- define "gatehouse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatehouse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{/* The Deployment, its ClusterRole, Role and bindings. */}}
{{- define "gatehouse.managerName" -}}
{{ include "gatehouse.fullname" . }}-manager
{{- end }}

{{- define "gatehouse.serviceAccountName" -}}
{{ default (include "gatehouse.managerName" .) .Values.serviceAccount.name }}
{{- end }}

{{- define "gatehouse.webhookServiceName" -}}
{{ include "gatehouse.fullname" . }}-webhook-service
{{- end }}

{{- define "gatehouse.metricsServiceName" -}}
{{ include "gatehouse.fullname" . }}-metrics-service
{{- end }}

{{/* The Secret the manager keeps its self-managed certificate in (not a chart object: the manager creates it). */}}
{{- define "gatehouse.webhookSecretName" -}}
{{ include "gatehouse.fullname" . }}-webhook-tls
{{- end }}

{{/* cert-manager's Certificate, and the Secret it writes. */}}
{{- define "gatehouse.certificateName" -}}
{{ include "gatehouse.fullname" . }}-webhook
{{- end }}

{{- define "gatehouse.certificateSecretName" -}}
{{ include "gatehouse.fullname" . }}-webhook-cert
{{- end }}

{{/*
The ValidatingWebhookConfiguration, named after the release (for release
"gatehouse", the name config/default uses); the manager is told with
--webhook-configuration which one's caBundle it keeps.
*/}}
{{- define "gatehouse.webhookConfigurationName" -}}
{{ include "gatehouse.fullname" . }}-validating-webhook-configuration
{{- end }}

{{/* Where the webhook server reads tls.crt and tls.key. */}}
{{- define "gatehouse.certDir" -}}
/tmp/k8s-webhook-server/serving-certs
{{- end }}

{{/* With watchNamespaces, the webhooks judge only requests in those namespaces (the manager knows nothing of the others). */}}
{{- define "gatehouse.webhookNamespaceSelector" -}}
{{- with .Values.watchNamespaces -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: In
      values:
        {{- toYaml . | nindent 8 }}
{{- end }}
{{- end }}

{{- define "gatehouse.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}
