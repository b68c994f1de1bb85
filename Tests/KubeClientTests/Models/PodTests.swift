import Foundation
import KubeClient
import Testing

@Suite struct PodTests {
    /// A Pod of a Deployment as `GET /api/v1/namespaces/default/pods/<name>` returns it from a
    /// 1.30 cluster, with fields this project does not model (`readinessGates`, the container
    /// status `volumeMounts`, `lastProbeTime: null`).
    static let sample = #"""
        {
          "apiVersion": "v1",
          "kind": "Pod",
          "metadata": {
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T12:30:00Z"},
            "creationTimestamp": "2024-05-01T12:34:56Z",
            "generateName": "web-7d4b9c8f6d-",
            "labels": {"app": "web", "pod-template-hash": "7d4b9c8f6d"},
            "managedFields": [{
              "apiVersion": "v1", "fieldsType": "FieldsV1",
              "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}}}},
              "manager": "kube-controller-manager", "operation": "Update", "time": "2024-05-01T12:34:56Z"
            }],
            "name": "web-7d4b9c8f6d-x2k9p",
            "namespace": "default",
            "ownerReferences": [{
              "apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true, "kind": "ReplicaSet",
              "name": "web-7d4b9c8f6d", "uid": "0b8e8e0c-3f5e-4a8e-9d0a-6f1a2b3c4d5e"
            }],
            "resourceVersion": "48213",
            "uid": "5f0c2a8e-1b7d-4c3e-8f9a-0d1e2f3a4b5c"
          },
          "spec": {
            "containers": [{
              "args": ["--port=8080", "--log-level=info"],
              "command": ["/app/server"],
              "env": [
                {"name": "LOG_FORMAT", "value": "json"},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "password", "name": "db-credentials"}}},
                {"name": "FLAGS", "valueFrom": {"configMapKeyRef": {"key": "flags", "name": "web-config", "optional": true}}},
                {"name": "MEMORY_LIMIT", "valueFrom": {"resourceFieldRef": {"containerName": "web", "divisor": "1Mi", "resource": "limits.memory"}}}
              ],
              "envFrom": [{"configMapRef": {"name": "web-env"}}, {"prefix": "S_", "secretRef": {"name": "web-secrets", "optional": false}}],
              "image": "ghcr.io/example/web:1.4.2",
              "imagePullPolicy": "IfNotPresent",
              "livenessProbe": {
                "failureThreshold": 3, "initialDelaySeconds": 10, "periodSeconds": 10, "successThreshold": 1,
                "tcpSocket": {"port": 8080}, "timeoutSeconds": 1
              },
              "name": "web",
              "ports": [
                {"containerPort": 8080, "name": "http", "protocol": "TCP"},
                {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}
              ],
              "readinessProbe": {
                "failureThreshold": 3, "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                "periodSeconds": 5, "successThreshold": 1, "timeoutSeconds": 1
              },
              "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
              "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true},
              "startupProbe": {
                "exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30, "periodSeconds": 2,
                "successThreshold": 1, "timeoutSeconds": 1
              },
              "terminationMessagePath": "/dev/termination-log",
              "terminationMessagePolicy": "File",
              "volumeMounts": [
                {"mountPath": "/etc/web", "name": "config", "readOnly": true},
                {"mountPath": "/cache", "name": "cache"},
                {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "kube-api-access-8fz2q", "readOnly": true}
              ],
              "workingDir": "/app"
            }],
            "dnsPolicy": "ClusterFirst",
            "enableServiceLinks": true,
            "hostname": "web",
            "initContainers": [{
              "command": ["/app/migrate"], "image": "ghcr.io/example/web:1.4.2", "imagePullPolicy": "IfNotPresent",
              "name": "migrate", "resources": {}, "terminationMessagePath": "/dev/termination-log",
              "terminationMessagePolicy": "File"
            }],
            "nodeName": "node-1",
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "readinessGates": [{"conditionType": "example.com/feature-1"}],
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {"fsGroup": 2000},
            "serviceAccount": "web",
            "serviceAccountName": "web",
            "subdomain": "web-headless",
            "terminationGracePeriodSeconds": 30,
            "tolerations": [
              {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
              {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
            ],
            "volumes": [
              {"configMap": {"defaultMode": 420, "items": [{"key": "app.yaml", "path": "app.yaml"}], "name": "web-config"}, "name": "config"},
              {"emptyDir": {}, "name": "cache"},
              {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
              {"name": "tls", "secret": {"defaultMode": 256, "secretName": "web-tls"}},
              {"downwardAPI": {"defaultMode": 420, "items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}, "path": "labels"}]}, "name": "podinfo"},
              {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}},
              {"hostPath": {"path": "/var/log", "type": "Directory"}, "name": "host-logs"},
              {"name": "kube-api-access-8fz2q", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
              ]}}
            ]
          },
          "status": {
            "conditions": [
              {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T12:34:58Z", "status": "True", "type": "Initialized"},
              {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T12:35:04Z", "status": "True", "type": "Ready"},
              {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T12:35:04Z", "status": "True", "type": "ContainersReady"},
              {"lastProbeTime": null, "lastTransitionTime": "2024-05-01T12:34:56Z", "status": "True", "type": "PodScheduled"}
            ],
            "containerStatuses": [{
              "containerID": "containerd://4f1c9a0e7b2d",
              "image": "ghcr.io/example/web:1.4.2",
              "imageID": "ghcr.io/example/web@sha256:9b2a4f0c1d3e5f7a",
              "lastState": {"terminated": {
                "containerID": "containerd://aa01b2c3", "exitCode": 137, "finishedAt": "2024-05-01T12:34:59Z",
                "reason": "OOMKilled", "startedAt": "2024-05-01T12:34:58Z"
              }},
              "name": "web",
              "ready": true,
              "restartCount": 1,
              "started": true,
              "state": {"running": {"startedAt": "2024-05-01T12:35:00Z"}},
              "volumeMounts": [{"mountPath": "/etc/web", "name": "config", "readOnly": true, "recursiveReadOnly": "Disabled"}]
            }],
            "hostIP": "172.18.0.2",
            "hostIPs": [{"ip": "172.18.0.2"}],
            "initContainerStatuses": [{
              "containerID": "containerd://77e1", "image": "ghcr.io/example/web:1.4.2",
              "imageID": "ghcr.io/example/web@sha256:9b2a4f0c1d3e5f7a", "lastState": {}, "name": "migrate",
              "ready": true, "restartCount": 0, "started": false,
              "state": {"terminated": {
                "containerID": "containerd://77e1", "exitCode": 0, "finishedAt": "2024-05-01T12:34:58Z",
                "reason": "Completed", "startedAt": "2024-05-01T12:34:57Z"
              }}
            }],
            "phase": "Running",
            "podIP": "10.244.0.17",
            "podIPs": [{"ip": "10.244.0.17"}, {"ip": "fd00:10:244::11"}],
            "qosClass": "Burstable",
            "startTime": "2024-05-01T12:34:56Z"
          }
        }
        """#

    @Test func decodesWhatTheServerSends() throws {
        let pod = try decode(Pod.self, Self.sample)
        #expect(pod.metadata.name == "web-7d4b9c8f6d-x2k9p")
        #expect(pod.metadata.creationTimestamp?.rfc3339 == "2024-05-01T12:34:56Z")
        #expect(pod.metadata.ownerReferences?.first?.kind == "ReplicaSet")
        #expect(pod.metadata.ownerReferences?.first?.controller == true)
        #expect(pod.metadata.managedFields?.first?["manager"] == "kube-controller-manager")

        let spec = try #require(pod.spec)
        let web = try #require(spec.containers.first)
        #expect(web.ports?.map(\.containerPort) == [8080, 9090])
        #expect(web.ports?.first?.protocol == "TCP")
        #expect(web.env?[0].value == "json")
        #expect(web.env?[1].valueFrom?.fieldRef?.fieldPath == "metadata.name")
        #expect(web.env?[2].valueFrom?.secretKeyRef?.name == "db-credentials")
        #expect(web.env?[3].valueFrom?.configMapKeyRef?.optional == true)
        #expect(web.env?[4].valueFrom?.resourceFieldRef?.divisor == "1Mi")
        #expect(web.envFrom?[1].prefix == "S_")
        #expect(web.envFrom?[1].secretRef?.name == "web-secrets")
        #expect(web.readinessProbe?.httpGet?.port == .string("http"))
        #expect(web.livenessProbe?.tcpSocket?.port == .int(8080))
        #expect(web.startupProbe?.exec?.command == ["cat", "/tmp/ready"])
        #expect(web.resources?.limits?["memory"] == "256Mi")
        #expect(web.securityContext?["runAsNonRoot"] == true)
        #expect(web.volumeMounts?.last?.mountPath == "/var/run/secrets/kubernetes.io/serviceaccount")
        #expect(spec.initContainers?.first?.name == "migrate")
        #expect(spec.serviceAccountName == "web")
        #expect(spec.nodeName == "node-1")
        #expect(spec.hostname == "web")
        #expect(spec.subdomain == "web-headless")
        #expect(spec.dnsPolicy == "ClusterFirst")
        #expect(spec.restartPolicy == "Always")
        #expect(spec.terminationGracePeriodSeconds == 30)
        #expect(spec.tolerations?.count == 2)

        let volumes = Dictionary(uniqueKeysWithValues: (spec.volumes ?? []).map { ($0.name, $0) })
        #expect(volumes["config"]?.configMap?.items?.first?.path == "app.yaml")
        #expect(volumes["cache"]?.emptyDir == EmptyDirVolumeSource())
        #expect(volumes["scratch"]?.emptyDir?.sizeLimit == "64Mi")
        #expect(volumes["tls"]?.secret?.defaultMode == 256)
        #expect(volumes["podinfo"]?.downwardAPI?.items?.first?.fieldRef?.fieldPath == "metadata.labels")
        #expect(volumes["data"]?.persistentVolumeClaim?.claimName == "web-data")
        #expect(volumes["host-logs"]?.hostPath?.type == "Directory")
        let projected = try #require(volumes["kube-api-access-8fz2q"]?.projected?.sources)
        #expect(projected[0].serviceAccountToken?.expirationSeconds == 3607)
        #expect(projected[1].configMap?.name == "kube-root-ca.crt")
        #expect(projected[2].downwardAPI?.items?.first?.path == "namespace")

        let status = try #require(pod.status)
        #expect(status.phase == "Running")
        #expect(status.podIP == "10.244.0.17")
        #expect(status.podIPs?.map(\.ip) == ["10.244.0.17", "fd00:10:244::11"])
        #expect(status.hostIPs?.first?.ip == "172.18.0.2")
        #expect(status.startTime == KubeTime(rfc3339: "2024-05-01T12:34:56Z"))
        #expect(status.conditions?.first(type: "Ready")?.isTrue == true)
        #expect(status.conditions?.first(type: "Ready")?.lastProbeTime == nil)
        let running = try #require(status.containerStatuses?.first)
        #expect(running.state?.running?.startedAt?.rfc3339 == "2024-05-01T12:35:00Z")
        #expect(running.lastState?.terminated?.exitCode == 137)
        #expect(running.lastState?.terminated?.reason == "OOMKilled")
        #expect(running.restartCount == 1)
        #expect(status.initContainerStatuses?.first?.state?.terminated?.reason == "Completed")
        #expect(status.initContainerStatuses?.first?.lastState == ContainerState())
    }

    @Test func roundTripDropsOnlyUnmodeledFieldsAndNulls() throws {
        let result = try roundTrip(Pod.self, Self.sample)
        #expect(
            result.differences == [
                "-/spec/readinessGates",
                "-/status/conditions/0/lastProbeTime",
                "-/status/conditions/1/lastProbeTime",
                "-/status/conditions/2/lastProbeTime",
                "-/status/conditions/3/lastProbeTime",
                "-/status/containerStatuses/0/volumeMounts",
            ])
    }

    @Test func aNewPodCarriesKindAndAPIVersion() throws {
        let pod = Pod(
            metadata: ObjectMeta(name: "probe", namespace: "default"),
            spec: PodSpec(containers: [Container(name: "app", image: "busybox", command: ["sleep", "3600"])]))
        #expect(
            try encodeToString(pod)
                == #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"probe","namespace":"default"},"spec":{"containers":[{"command":["sleep","3600"],"image":"busybox","name":"app"}]}}"#
        )
        #expect(Pod.apiVersion == "v1" && Pod.kind == "Pod" && Pod.plural == "pods" && Pod.namespaced)
        #expect(Pod.group == "" && Pod.version == "v1" && Pod.listKind == "PodList")
    }

    @Test func aPodWithoutSpecStillDecodes() throws {
        // A partial object, as in a webhook's view of a delete or a hand-written manifest.
        let pod = try decode(Pod.self, #"{"metadata":{"name":"x"}}"#)
        #expect(pod.metadata.name == "x")
        #expect(pod.spec == nil && pod.kind == nil)
    }

    @Test func aContainerWithoutANameIsRejectedWithThePath() throws {
        let error = try #require(throws: DecodingError.self) {
            try decode(Pod.self, #"{"metadata":{},"spec":{"containers":[{"image":"nginx"}]}}"#)
        }
        guard case .keyNotFound(let key, let context) = error else {
            Issue.record("expected keyNotFound, got \(error)")
            return
        }
        #expect(key.stringValue == "name")
        #expect(context.codingPath.map(\.stringValue).contains("containers"))
    }
}
