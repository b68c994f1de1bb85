import Foundation
import KubeClient
import Testing

@Suite struct DeploymentTests {
    static let sample = #"""
        {
          "apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {
            "annotations": {"deployment.kubernetes.io/revision": "2"},
            "creationTimestamp": "2024-05-01T12:00:00Z", "generation": 4, "labels": {"app": "web"},
            "name": "web", "namespace": "default", "resourceVersion": "48240",
            "uid": "d0d0d0d0-1111-2222-3333-444455556666"
          },
          "spec": {
            "minReadySeconds": 5, "paused": false, "progressDeadlineSeconds": 600, "replicas": 3,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}, "type": "RollingUpdate"},
            "template": {
              "metadata": {
                "annotations": {"telepresence.io/inject-traffic-agent": "enabled"},
                "creationTimestamp": null, "labels": {"app": "web"}
              },
              "spec": {
                "containers": [{
                  "image": "ghcr.io/example/web:1.4.2", "imagePullPolicy": "IfNotPresent", "name": "web",
                  "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                  "resources": {}, "terminationMessagePath": "/dev/termination-log",
                  "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30
              }
            }
          },
          "status": {
            "availableReplicas": 2, "observedGeneration": 4, "readyReplicas": 2, "replicas": 3,
            "unavailableReplicas": 1, "updatedReplicas": 3,
            "conditions": [
              {"lastTransitionTime": "2024-05-01T12:01:00Z", "lastUpdateTime": "2024-05-01T12:01:00Z", "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"},
              {"lastTransitionTime": "2024-05-01T12:00:00Z", "lastUpdateTime": "2024-05-01T12:35:04Z", "message": "ReplicaSet \"web-7d4b9c8f6d\" is progressing.", "reason": "ReplicaSetUpdated", "status": "True", "type": "Progressing"}
            ]
          }
        }
        """#

    @Test func decodesSpecTemplateAndStatus() throws {
        let deployment = try decode(Deployment.self, Self.sample)
        let spec = try #require(deployment.spec)
        #expect(spec.replicas == 3)
        #expect(spec.selector.matchLabels == ["app": "web"])
        #expect(spec.strategy?.rollingUpdate?.maxSurge == .string("25%"))
        #expect(spec.strategy?.rollingUpdate?.maxUnavailable == .int(1))
        #expect(spec.minReadySeconds == 5)
        #expect(spec.revisionHistoryLimit == 10)
        #expect(spec.paused == false)
        #expect(spec.progressDeadlineSeconds == 600)
        #expect(spec.template.metadata?.annotations?["telepresence.io/inject-traffic-agent"] == "enabled")
        #expect(spec.template.metadata?.creationTimestamp == nil)
        #expect(spec.template.spec?.containers.first?.ports?.first?.name == "http")
        let status = try #require(deployment.status)
        #expect(status.observedGeneration == 4)
        #expect(status.unavailableReplicas == 1)
        #expect(status.conditions?.first(type: "Progressing")?.lastUpdateTime?.rfc3339 == "2024-05-01T12:35:04Z")
        #expect(Deployment.group == "apps" && Deployment.version == "v1" && Deployment.plural == "deployments")
    }

    @Test func roundTripDropsOnlyTheNullTimestamp() throws {
        #expect(
            try roundTrip(Deployment.self, Self.sample).differences == ["-/spec/template/metadata/creationTimestamp"])
    }

    @Test func aDeploymentWithoutSelectorIsRejected() {
        #expect(throws: DecodingError.self) {
            try decode(Deployment.self, #"{"metadata":{},"spec":{"template":{}}}"#)
        }
    }
}

@Suite struct ReplicaSetTests {
    @Test func decodesAndRoundTrips() throws {
        let json = #"""
            {"apiVersion":"apps/v1","kind":"ReplicaSet",
             "metadata":{"annotations":{"deployment.kubernetes.io/desired-replicas":"3"},
               "creationTimestamp":"2024-05-01T12:30:00Z","generation":1,
               "labels":{"app":"web","pod-template-hash":"7d4b9c8f6d"},"name":"web-7d4b9c8f6d","namespace":"default",
               "ownerReferences":[{"apiVersion":"apps/v1","blockOwnerDeletion":true,"controller":true,"kind":"Deployment",
                 "name":"web","uid":"d0d0d0d0-1111-2222-3333-444455556666"}],
               "resourceVersion":"48235","uid":"0b8e8e0c-3f5e-4a8e-9d0a-6f1a2b3c4d5e"},
             "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web","pod-template-hash":"7d4b9c8f6d"}},
               "template":{"metadata":{"labels":{"app":"web","pod-template-hash":"7d4b9c8f6d"}},
                 "spec":{"containers":[{"image":"ghcr.io/example/web:1.4.2","name":"web"}]}}},
             "status":{"availableReplicas":3,"fullyLabeledReplicas":3,"observedGeneration":1,"readyReplicas":3,"replicas":3}}
            """#
        let result = try roundTrip(ReplicaSet.self, json)
        #expect(result.value.metadata.ownerReferences?.first?.name == "web")
        #expect(result.value.spec?.selector.matchLabels?["pod-template-hash"] == "7d4b9c8f6d")
        #expect(result.value.status?.fullyLabeledReplicas == 3)
        #expect(result.differences == [])
    }
}

@Suite struct StatefulSetTests {
    @Test func decodesAndRoundTrips() throws {
        let json = #"""
            {"apiVersion":"apps/v1","kind":"StatefulSet",
             "metadata":{"creationTimestamp":"2024-05-01T12:00:00Z","generation":2,"name":"db","namespace":"default",
               "resourceVersion":"4000","uid":"5e5e5e5e-1111-2222-3333-444455556666"},
             "spec":{"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"},
               "podManagementPolicy":"Parallel","replicas":2,"revisionHistoryLimit":10,
               "selector":{"matchExpressions":[{"key":"app","operator":"In","values":["db"]}]},
               "serviceName":"db-headless",
               "template":{"metadata":{"labels":{"app":"db"}},
                 "spec":{"containers":[{"image":"postgres:16","name":"postgres",
                   "volumeMounts":[{"mountPath":"/var/lib/postgresql/data","name":"data"}]}]}},
               "updateStrategy":{"rollingUpdate":{"partition":1},"type":"RollingUpdate"},
               "volumeClaimTemplates":[{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data"},
                 "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]},
             "status":{"availableReplicas":2,"collisionCount":0,"currentReplicas":2,"currentRevision":"db-5d8f7c9b6",
               "observedGeneration":2,"readyReplicas":2,"replicas":2,"updateRevision":"db-5d8f7c9b6","updatedReplicas":2}}
            """#
        let result = try roundTrip(StatefulSet.self, json)
        let spec = try #require(result.value.spec)
        #expect(spec.serviceName == "db-headless")
        #expect(spec.podManagementPolicy == "Parallel")
        #expect(spec.updateStrategy?.rollingUpdate?.partition == 1)
        #expect(spec.selector.matchExpressions?.first?.operator == "In")
        #expect(spec.volumeClaimTemplates?.first?["metadata"]?["name"] == "data")
        #expect(result.value.status?.updateRevision == "db-5d8f7c9b6")
        #expect(result.differences == [])
    }
}
