package scenarios

// The article's manifests, as published (the article's text lost its
// indentation; the structure here is the article's, field for field).

const esDeploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: elasticsearch
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: elasticsearch
  template:
    metadata:
      labels:
        app.kubernetes.io/name: elasticsearch
    spec:
      containers:
      - name: elasticsearch
        image: elasticsearch:7.9.3
        env:
        - name: discovery.type
          value: single-node
        ports:
        - name: http
          containerPort: 9200
---
apiVersion: v1
kind: Service
metadata:
  name: elasticsearch
spec:
  selector:
    app.kubernetes.io/name: elasticsearch
  ports:
  - port: 9200
    targetPort: 9200
`

const esSecureDeploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: elasticsearch
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: elasticsearch
  template:
    metadata:
      labels:
        app.kubernetes.io/name: elasticsearch
    spec:
      containers:
      - name: elasticsearch
        image: elasticsearch:7.9.3
        env:
        - name: discovery.type
          value: single-node
        - name: network.host
          value: 127.0.0.1
        - name: http.port
          value: '9201'
      - name: nginx-proxy
        image: public.ecr.aws/nginx/nginx:1.23
        volumeMounts:
        - name: nginx-config
          mountPath: /etc/nginx/conf.d
          readOnly: true
        - name: certs
          mountPath: /certs
          readOnly: true
        ports:
        - name: https
          containerPort: 9200
      volumes:
      - name: nginx-config
        configMap:
          name: elasticsearch-nginx
      - name: certs
        secret:
          secretName: elasticsearch-tls
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: elasticsearch-nginx
data:
  elasticsearch.conf: |
    server {
        listen 9200 ssl;
        server_name elasticsearch;
        ssl_certificate /certs/tls.crt;
        ssl_certificate_key /certs/tls.key;
        location / {
            proxy_pass http://localhost:9201;
        }
    }
`

const esPrometheusYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: elasticsearch
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: elasticsearch
  template:
    metadata:
      labels:
        app.kubernetes.io/name: elasticsearch
    spec:
      containers:
      - name: elasticsearch
        image: elasticsearch:7.9.3
        env:
        - name: discovery.type
          value: single-node
        ports:
        - name: http
          containerPort: 9200
      - name: prometheus-exporter
        image: justwatch/elasticsearch_exporter:1.1.0
        args:
        - '--es.uri=http://localhost:9200'
        ports:
        - name: http-prometheus
          containerPort: 9114
---
apiVersion: v1
kind: Service
metadata:
  name: elasticsearch
spec:
  selector:
    app.kubernetes.io/name: elasticsearch
  ports:
  - name: http
    port: 9200
    targetPort: http
  - name: http-prometheus
    port: 9114
    targetPort: http-prometheus
`

const sidecarExampleYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: elasticsearch
  labels:
    app.kubernetes.io/name: elasticsearch
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: elasticsearch
  template:
    metadata:
      labels:
        app.kubernetes.io/name: elasticsearch
    spec:
      containers:
      - name: elasticsearch
        image: elasticsearch:7.9.3
        env:
        - name: discovery.type
          value: single-node
        - name: path.logs
          value: /var/log/elasticsearch
        volumeMounts:
        - name: logs
          mountPath: /var/log/elasticsearch
        - name: logging-config
          mountPath: /usr/share/elasticsearch/config/log4j2.properties
          subPath: log4j2.properties
          readOnly: true
        ports:
        - name: http
          containerPort: 9200
      - name: logs
        image: alpine:3.12
        command:
        - tail
        - -f
        - /logs/docker-cluster_server.json
        volumeMounts:
        - name: logs
          mountPath: /logs
          readOnly: true
      volumes:
      - name: logging-config
        configMap:
          name: elasticsearch-logging
      - name: logs
        emptyDir: {}
`

// The article says the logging ConfigMap is "too long to include"; this is
// a short one in the spirit of Elasticsearch's docker log4j2.properties,
// sending the server log as JSON to a rolling file in path.logs.
const esLoggingConfigMapYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: elasticsearch-logging
data:
  log4j2.properties: |
    status = error
    appender.rolling.type = RollingFile
    appender.rolling.name = rolling
    appender.rolling.fileName = ${sys:es.logs.base_path}${sys:file.separator}${sys:es.logs.cluster_name}_server.json
    appender.rolling.layout.type = ESJsonLayout
    appender.rolling.layout.type_name = server
    rootLogger.level = info
    rootLogger.appenderRef.rolling.ref = rolling
`

const initESYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: elasticsearch
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: elasticsearch
  template:
    metadata:
      labels:
        app.kubernetes.io/name: elasticsearch
    spec:
      initContainers:
      - name: update-sysctl
        image: alpine:3.12
        command: ['/bin/sh']
        args:
        - -c
        - |
          sysctl -w vm.max_map_count=262144
        securityContext:
          privileged: true
      containers:
      - name: elasticsearch
        image: elasticsearch:7.9.3
        env:
        - name: discovery.type
          value: single-node
        ports:
        - name: http
          containerPort: 9200
`

const initSecretsYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: myapp
  labels:
    app.kubernetes.io/name: myapp
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: myapp
  template:
    metadata:
      labels:
        app.kubernetes.io/name: myapp
    spec:
      initContainers:
      - name: get-secret
        image: vault
        volumeMounts:
        - name: secrets
          mountPath: /secrets
        command: ['/bin/sh']
        args:
        - -c
        - |
          vault read secret/my-secret > /secrets/my-secret
      containers:
      - name: myapp
        image: myapp
        volumeMounts:
        - name: secrets
          mountPath: /secrets
      volumes:
      - name: secrets
        emptyDir: {}
`
