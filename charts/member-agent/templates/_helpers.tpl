{{/* Names and labels of the control-plane chart. */}}
{{- define "agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "agent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "agent.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: member-agent
app.kubernetes.io/part-of: sovereign-federation
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "agent.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "agent.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Values the schema cannot tie together: one of each pair must be given. */}}
{{- define "agent.checkValues" -}}
{{- if and (not .Values.join.bootstrapToken) (not .Values.join.existingSecret) -}}
{{- fail "join: set join.bootstrapToken (from kubectl sovereign token create) or join.existingSecret (a Secret with key token)" -}}
{{- end -}}
{{- if and .Values.join.bootstrapToken .Values.join.existingSecret -}}
{{- fail "join: join.bootstrapToken and join.existingSecret exclude each other" -}}
{{- end -}}
{{- if not .Values.tls.existingSecret -}}
{{- range $k := list "ca" "cert" "key" -}}
{{- if not (index $.Values.tls $k) -}}
{{- fail (printf "tls.%s: required when tls.existingSecret is not set (tls.ca, tls.cert and tls.key are the CA and this member's gRPC client certificate and key, PEM)" $k) -}}
{{- end -}}
{{- end -}}
{{- else if or .Values.tls.ca .Values.tls.cert .Values.tls.key -}}
{{- fail "tls: tls.existingSecret excludes tls.ca, tls.cert and tls.key" -}}
{{- end -}}
{{- end -}}

{{- define "agent.joinSecret" -}}
{{- default (printf "%s-join" (include "agent.fullname" .)) .Values.join.existingSecret -}}
{{- end -}}

{{- define "agent.tlsSecret" -}}
{{- default (printf "%s-tls" (include "agent.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}
