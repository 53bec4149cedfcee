{{/* Names, labels and image references shared by the templates. */}}

{{- define "wmsbridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wmsbridge.fullname" -}}
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

{{- define "wmsbridge.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; selectorLabels are the stable subset. */}}
{{- define "wmsbridge.labels" -}}
helm.sh/chart: {{ include "wmsbridge.chart" . }}
{{ include "wmsbridge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wmsbridge
{{- end -}}

{{- define "wmsbridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wmsbridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* image reference: call with (dict "root" $ "name" "order-ingest"). */}}
{{- define "wmsbridge.image" -}}
{{- $img := .root.Values.image -}}
{{- $tag := default .root.Chart.AppVersion $img.tag -}}
{{- if $img.registry -}}
{{- printf "%s/%s/%s:%s" $img.registry $img.repository .name $tag -}}
{{- else -}}
{{- printf "%s/%s:%s" $img.repository .name $tag -}}
{{- end -}}
{{- end -}}

{{- define "wmsbridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wmsbridge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret with WB_PG_DSN, WB_REDIS_URL and WB_MASTER_KEY. */}}
{{- define "wmsbridge.secretName" -}}
{{- default (include "wmsbridge.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}
