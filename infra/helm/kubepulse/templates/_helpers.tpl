{{/*
Names. Every object name starts with namePrefix (default kubepulse, the names infra/kubernetes uses); the plan
ledger's ConfigMaps (kubepulse-plan-*), the safety Lease (kubepulse-executor-safety) and the shipper's checkpoint
(kubepulse-shipper-checkpoint) keep their names, which the executor's and shipper's code use.
*/}}
{{- define "kubepulse.namespace" -}}{{ .Values.namespace.name }}{{- end }}
{{- define "kubepulse.executor.name" -}}{{ .Values.namePrefix }}-executor{{- end }}
{{- define "kubepulse.shipper.name" -}}{{ .Values.namePrefix }}-shipper{{- end }}
{{- define "kubepulse.executor.username" -}}
system:serviceaccount:{{ include "kubepulse.namespace" . }}:{{ include "kubepulse.executor.name" . }}
{{- end }}

{{/* Labels on every object of a component: the two infra/kubernetes sets, plus Helm's own. */}}
{{- define "kubepulse.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: kubepulse
{{ include "kubepulse.helmLabels" .root }}
{{- end }}

{{/* Only these differ from infra/kubernetes (the equivalence test strips exactly these). */}}
{{- define "kubepulse.helmLabels" -}}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* repository:tag@digest when a digest is given (pulled by digest; the tag is for people), else repository:tag. */}}
{{- define "kubepulse.image" -}}
{{- if .digest -}}
{{ .repository }}:{{ .tag }}@{{ .digest }}
{{- else -}}
{{ .repository }}:{{ .tag }}
{{- end -}}
{{- end }}

{{/* Whether the executor may patch nodes: only when cordon or uncordon is enabled in its policy. */}}
{{- define "kubepulse.executor.patchesNodes" -}}
{{- if or (has "cordon" .Values.executor.policy.enabledActions) (has "uncordon" .Values.executor.policy.enabledActions) -}}
true
{{- end -}}
{{- end }}

{{/* What a values schema cannot express: cross-field checks, refused at render time with the reason. */}}
{{- define "kubepulse.validate" -}}
{{- $ns := .Values.namespace.name -}}
{{- range .Values.executor.namespaces }}
{{- if eq . $ns }}
{{- fail (printf "executor.namespaces: %q is kubepulse's own namespace (namespace.name); the executor never acts there" .) }}
{{- end }}
{{- end }}
{{- end }}

{{/* NetworkPolicy egress: cluster DNS. */}}
{{- define "kubepulse.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}

{{/* NetworkPolicy egress: SQS and the API server (443 for most managed API servers, 6443 for kubeadm, kind). */}}
{{- define "kubepulse.httpsEgress" -}}
- to:
    {{- range .Values.networkPolicy.egressCidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - protocol: TCP
      port: 443
    - protocol: TCP
      port: 6443
{{- end }}
