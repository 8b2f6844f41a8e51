{{/*
Shared shapes of the chart, Bitnami style: `coupon-platform.<thing>` named templates. A service's
templates call them with a dict: (dict "ctx" $ "name" "user" "svc" .Values.user).
*/}}

{{/* The chart's name, truncated to a DNS label. */}}
{{- define "coupon-platform.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name: fullnameOverride, or the release name (with the chart name unless it has it). */}}
{{- define "coupon-platform.fullname" -}}
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

{{/* A component's name: <fullname>-<component>. Usage: include "coupon-platform.componentName" (dict "ctx" $ "name" "user") */}}
{{- define "coupon-platform.componentName" -}}
{{- printf "%s-%s" (include "coupon-platform.fullname" .ctx) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "coupon-platform.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. Usage: include "coupon-platform.labels" (dict "ctx" $ "name" "user") */}}
{{- define "coupon-platform.labels" -}}
helm.sh/chart: {{ include "coupon-platform.chart" .ctx }}
{{ include "coupon-platform.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: {{ include "coupon-platform.name" .ctx }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The labels a component's Service, PDB and NetworkPolicy select its pods by. */}}
{{- define "coupon-platform.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coupon-platform.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* A service's image reference: [registry/]repository:tag, the tag defaulting to the chart's appVersion. */}}
{{- define "coupon-platform.image" -}}
{{- $registry := .image.registry | default .ctx.Values.global.imageRegistry -}}
{{- $tag := .image.tag | default .ctx.Chart.AppVersion | toString -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* In-cluster base URL of a component: http://<name>.<namespace>.svc.<domain>:<port> */}}
{{- define "coupon-platform.serviceUrl" -}}
{{- $svc := index .ctx.Values .name -}}
{{- printf "http://%s.%s.svc.%s:%d" (include "coupon-platform.componentName" .) .ctx.Release.Namespace .ctx.Values.clusterDomain (int $svc.service.port) -}}
{{- end -}}

{{/* The user service's JWKS, which the other services and the gateway verify tokens with. */}}
{{- define "coupon-platform.jwksUrl" -}}
{{- printf "%s/.well-known/jwks.json" (include "coupon-platform.serviceUrl" (dict "ctx" .ctx "name" "user")) -}}
{{- end -}}

{{/* Kafka bootstrap addresses as the services read them (comma-separated). */}}
{{- define "coupon-platform.kafkaBrokers" -}}
{{- join "," .Values.kafka.brokers -}}
{{- end -}}

{{/*
The environment every service shares, as ConfigMap data: where to listen, how much to log, how to stop.
Usage: include "coupon-platform.commonEnv" (dict "ctx" $ "name" "user" "svc" .Values.user)
*/}}
{{- define "coupon-platform.commonEnv" -}}
HOST: "0.0.0.0"
PORT: {{ .svc.containerPort | quote }}
LOG_LEVEL: {{ .svc.logLevel | default .ctx.Values.config.logLevel | quote }}
SHUTDOWN_DEADLINE_MS: {{ .ctx.Values.config.shutdownDeadlineMs | quote }}
SHUTDOWN_DRAIN_DELAY_MS: {{ .ctx.Values.config.shutdownDrainDelayMs | quote }}
{{- end -}}

{{/* The standard OpenTelemetry variables (packages/telemetry reads them): none but the name unless an endpoint is set. */}}
{{- define "coupon-platform.telemetryEnv" -}}
OTEL_SERVICE_NAME: {{ .name | quote }}
{{- with .ctx.Values.telemetry.otlpEndpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ . | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ $.ctx.Values.telemetry.protocol | quote }}
OTEL_TRACES_SAMPLER: "parentbased_traceidratio"
OTEL_TRACES_SAMPLER_ARG: {{ $.ctx.Values.telemetry.sampleRatio | quote }}
{{- end }}
{{- end -}}

{{/* Redis through Sentinel (or a plain URL), as ConfigMap data. The password comes from a Secret: see redisSecretEnv. */}}
{{- define "coupon-platform.redisEnv" -}}
{{- if .Values.redis.url }}
REDIS_URL: {{ .Values.redis.url | quote }}
{{- else }}
REDIS_SENTINELS: {{ join "," .Values.redis.sentinels | quote }}
REDIS_SENTINEL_MASTER: {{ .Values.redis.sentinelMaster | quote }}
{{- end }}
{{- end -}}

{{/* Token verification (packages/auth authEnv), as ConfigMap data. */}}
{{- define "coupon-platform.authEnv" -}}
JWT_JWKS_URL: {{ include "coupon-platform.jwksUrl" (dict "ctx" .) | quote }}
JWT_ISSUER: {{ .Values.jwt.issuer | quote }}
JWT_AUDIENCE: {{ .Values.jwt.audience | quote }}
{{- end -}}

{{/* A service's own extra settings (values <service>.env), as ConfigMap data. */}}
{{- define "coupon-platform.extraEnv" -}}
{{- range $key, $value := .svc.env }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{/* Container env entries read from Secrets (never values in the chart). */}}
{{- define "coupon-platform.databaseSecretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end -}}

{{- define "coupon-platform.redisSecretEnv" -}}
{{- if .Values.redis.auth.existingSecret }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.auth.existingSecret }}
      key: {{ .Values.redis.auth.passwordKey }}
{{- end }}
{{- end -}}

{{/* Pod annotations: config checksum (pods roll when the ConfigMap changes) and service-mesh injection. */}}
{{- define "coupon-platform.podAnnotations" -}}
checksum/config: {{ .checksum }}
{{- if eq .ctx.Values.mesh.provider "linkerd" }}
linkerd.io/inject: enabled
{{- end }}
{{- with .svc.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Pod labels: selector labels, plus Istio's injection label when the mesh is Istio. */}}
{{- define "coupon-platform.podLabels" -}}
{{ include "coupon-platform.labels" . }}
{{- if eq .ctx.Values.mesh.provider "istio" }}
sidecar.istio.io/inject: "true"
{{- end }}
{{- end -}}

{{/*
Everything a service needs: ConfigMap, ServiceAccount, Deployment, Service, PodDisruptionBudget and
NetworkPolicy. Usage: include "coupon-platform.service" (dict "ctx" $ "name" "user" "svc" .Values.user
"env" <ConfigMap data> "secretEnv" <env entries from Secrets> "allowFrom" <list of component names>)
*/}}
{{- define "coupon-platform.service" -}}
{{- $ctx := .ctx -}}
{{- $svc := .svc -}}
{{- $fullName := include "coupon-platform.componentName" . -}}
{{- $configData := printf "%s\n%s" .env (include "coupon-platform.telemetryEnv" (dict "ctx" $ctx "name" .name)) -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
data:
  {{- $configData | nindent 2 }}
---
{{- if $svc.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
automountServiceAccountToken: false
---
{{- end }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
spec:
  {{- if not (and $svc.autoscaling $svc.autoscaling.enabled) }}
  replicas: {{ $svc.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "coupon-platform.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "coupon-platform.podLabels" . | nindent 8 }}
      annotations:
        {{- include "coupon-platform.podAnnotations" (dict "ctx" $ctx "svc" $svc "checksum" ($configData | sha256sum)) | nindent 8 }}
    spec:
      serviceAccountName: {{ ternary $fullName "default" $svc.serviceAccount.create }}
      automountServiceAccountToken: false
      {{- with $ctx.Values.image.pullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $ctx.Values.config.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $ctx.Values.podSecurityContext | nindent 8 }}
      {{- with $svc.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $svc.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "coupon-platform.selectorLabels" . | nindent 14 }}
      containers:
        - name: {{ .name }}
          image: {{ include "coupon-platform.image" (dict "ctx" $ctx "image" $svc.image) | quote }}
          imagePullPolicy: {{ $svc.image.pullPolicy | default $ctx.Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $svc.containerPort }}
              protocol: TCP
          envFrom:
            - configMapRef:
                name: {{ $fullName }}
          {{- with .secretEnv }}
          env:
            {{- . | nindent 12 }}
          {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          securityContext:
            {{- toYaml $ctx.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with .volumeMounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "coupon-platform.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ $svc.service.port }}
      targetPort: http
      protocol: TCP
      appProtocol: http
{{- if $svc.pdb.create }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
spec:
  {{- if $svc.pdb.minAvailable }}
  minAvailable: {{ $svc.pdb.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $svc.pdb.maxUnavailable | default 1 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "coupon-platform.selectorLabels" . | nindent 6 }}
{{- end }}
{{- if $ctx.Values.networkPolicy.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "coupon-platform.selectorLabels" . | nindent 6 }}
  policyTypes:
    - Ingress
  {{- $callers := list }}
  {{- range .allowFrom }}
  {{- if ne . "gateway" }}
  {{- $callers = append $callers . }}
  {{- end }}
  {{- end }}
  {{- $metrics := $ctx.Values.networkPolicy.metrics.enabled }}
  {{- if not (or .allowFrom $metrics) }}
  # Nothing calls this service: all ingress is denied (kubelet probes are not subject to the policy).
  ingress: []
  {{- else }}
  ingress:
    {{- if has "gateway" .allowFrom }}
    # The Envoy proxies of the gateway.
    - from:
        - namespaceSelector:
            {{- toYaml $ctx.Values.networkPolicy.gateway.namespaceSelector | nindent 12 }}
          {{- with $ctx.Values.networkPolicy.gateway.podSelector }}
          podSelector:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- if $callers }}
    # The services that call this one.
    - from:
        {{- range $callers }}
        - podSelector:
            matchLabels:
              {{- include "coupon-platform.selectorLabels" (dict "ctx" $ctx "name" .) | nindent 14 }}
        {{- end }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- with $ctx.Values.networkPolicy.metrics }}
    {{- if .enabled }}
    # Prometheus scraping /metrics.
    - from:
        - namespaceSelector:
            {{- toYaml .namespaceSelector | nindent 12 }}
          {{- with .podSelector }}
          podSelector:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- end }}
  {{- end }}
{{- end }}
{{- if $ctx.Values.metrics.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $fullName }}
  namespace: {{ $ctx.Release.Namespace }}
  labels:
    {{- include "coupon-platform.labels" . | nindent 4 }}
    {{- with $ctx.Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "coupon-platform.selectorLabels" . | nindent 6 }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $ctx.Values.metrics.serviceMonitor.interval }}
{{- end }}
{{- end -}}

{{/*
Fails the release on values the schema cannot express (Bitnami's validateValues).
*/}}
{{- define "coupon-platform.validateValues" -}}
{{- $messages := list -}}
{{- if not .Values.database.existingSecret -}}
{{- $messages = append $messages "database.existingSecret: name the Secret that holds the database URL (the chart never stores it)" -}}
{{- end -}}
{{- if and .Values.user.create (not .Values.jwt.signingKey.existingSecret) -}}
{{- $messages = append $messages "jwt.signingKey.existingSecret: name the Secret that holds the user service's RS256 private key (PEM)" -}}
{{- end -}}
{{- if and (not .Values.redis.url) (not .Values.redis.sentinels) -}}
{{- $messages = append $messages "redis: set redis.sentinels (host:port of the Sentinels) or redis.url" -}}
{{- end -}}
{{- if and .Values.redis.url .Values.redis.sentinels -}}
{{- $messages = append $messages "redis: set redis.sentinels or redis.url, not both" -}}
{{- end -}}
{{- if ge (int .Values.config.shutdownDeadlineMs) (mul (int .Values.config.terminationGracePeriodSeconds) 1000 | int) -}}
{{- $messages = append $messages "config.shutdownDeadlineMs must be below config.terminationGracePeriodSeconds, or the kubelet kills the pod before it has drained" -}}
{{- end -}}
{{- if and .Values.issue.autoscaling.enabled (gt (int .Values.issue.autoscaling.minReplicas) (int .Values.issue.autoscaling.maxReplicas)) -}}
{{- $messages = append $messages "issue.autoscaling.minReplicas must not exceed issue.autoscaling.maxReplicas" -}}
{{- end -}}
{{- if and .Values.gateway.enabled (not .Values.user.create) -}}
{{- $messages = append $messages "gateway.enabled needs user.create: the gateway verifies tokens with the user service's JWKS" -}}
{{- end -}}
{{- if $messages -}}
{{- printf "\nVALUES VALIDATION:\n%s" (join "\n" $messages) | fail -}}
{{- end -}}
{{- end -}}
