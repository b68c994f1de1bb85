import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork

/// Writes a pod's volumes under its state directory (`volumes/NAME`), where the launcher binds
/// them into each container: emptyDir, configMap, secret, downwardAPI and projected (the
/// service-account token volume included). Contents are written once, when the pod starts.
struct PodVolumes {
    /// The implicit service-account volume every pod gets unless it opts out.
    static let serviceAccountVolume = "kube-api-access-sandbox"
    static let serviceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    let directory: URL
    let pod: JSONValue
    let podIP: String
    let hostIP: String
    let inputs: PodInputs
    /// The pod's service-account token (bound to the pod), which in-cluster clients present.
    let token: String
    let caPEM: String

    var namespace: String { pod["metadata"]?["namespace"]?.stringValue ?? "default" }

    /// The pod's volumes plus the implicit service-account one when it applies.
    static func volumes(of pod: JSONValue) -> [JSONValue] {
        var volumes = pod["spec"]?["volumes"]?.arrayValue ?? []
        if wantsServiceAccountVolume(pod) {
            volumes.append([
                "name": .string(serviceAccountVolume),
                "projected": ["sources": [
                    ["serviceAccountToken": ["path": "token"]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["fieldPath": "metadata.namespace"]]]]],
                ]],
            ])
        }
        return volumes
    }

    static func wantsServiceAccountVolume(_ pod: JSONValue) -> Bool {
        if pod["spec"]?["automountServiceAccountToken"]?.boolValue == false { return false }
        let containers = (pod["spec"]?["containers"]?.arrayValue ?? []) + (pod["spec"]?["initContainers"]?.arrayValue ?? [])
        return !containers.contains { container in
            (container["volumeMounts"]?.arrayValue ?? []).contains {
                MountShadows.normalize($0["mountPath"]?.stringValue ?? "") == serviceAccountPath
            }
        }
    }

    /// The mounts of `container`: its volumeMounts plus the service-account volume.
    static func mounts(of container: JSONValue, pod: JSONValue, volumesDirectory: URL) -> [LaunchSpec.Mount] {
        var mounts: [LaunchSpec.Mount] = (container["volumeMounts"]?.arrayValue ?? []).compactMap { mount in
            guard let name = mount["name"]?.stringValue, let path = mount["mountPath"]?.stringValue else { return nil }
            var source = volumesDirectory.appendingPathComponent(name)
            if let sub = mount["subPath"]?.stringValue, !sub.isEmpty { source = source.appendingPathComponent(sub) }
            return LaunchSpec.Mount(source: source.path, target: path, readOnly: mount["readOnly"]?.boolValue ?? false)
        }
        if wantsServiceAccountVolume(pod) {
            mounts.append(.init(source: volumesDirectory.appendingPathComponent(serviceAccountVolume).path,
                                target: serviceAccountPath, readOnly: true))
        }
        // Parents before children, as the kubelet orders them.
        return mounts.sorted { MountShadows.normalize($0.target).count < MountShadows.normalize($1.target).count }
    }

    /// Writes every volume; throws what keeps the pod from starting.
    func write() throws(ContainerConfigError) {
        for volume in Self.volumes(of: pod) {
            guard let name = volume["name"]?.stringValue else { continue }
            let root = directory.appendingPathComponent(name)
            try makeDirectory(root)
            if volume["emptyDir"] != nil {
                continue
            } else if let source = volume["configMap"] {
                try writeConfigMap(source, into: root, defaultMode: source["defaultMode"]?.intValue)
            } else if let source = volume["secret"] {
                try writeSecret(source, name: source["secretName"]?.stringValue ?? "", into: root, defaultMode: source["defaultMode"]?.intValue)
            } else if let source = volume["downwardAPI"] {
                try writeDownward(source, into: root, defaultMode: source["defaultMode"]?.intValue)
            } else if let source = volume["projected"] {
                let mode = source["defaultMode"]?.intValue
                for projection in source["sources"]?.arrayValue ?? [] {
                    if let token = projection["serviceAccountToken"] {
                        try file(root, token["path"]?.stringValue ?? "token", Data(self.token.utf8), mode: mode)
                    } else if let map = projection["configMap"] {
                        if map["name"]?.stringValue == "kube-root-ca.crt" {
                            try file(root, "ca.crt", Data(caPEM.utf8), mode: mode)
                        } else {
                            try writeConfigMap(map, into: root, defaultMode: mode)
                        }
                    } else if let secret = projection["secret"] {
                        try writeSecret(secret, name: secret["name"]?.stringValue ?? "", into: root, defaultMode: mode)
                    } else if let downward = projection["downwardAPI"] {
                        try writeDownward(downward, into: root, defaultMode: mode)
                    }
                }
            } else if volume["hostPath"] != nil {
                throw ContainerConfigError(description: "volume \"\(name)\": hostPath volumes are not supported by the sandbox's process node (it must not touch the host's files); use an emptyDir or a configMap instead")
            } else {
                throw ContainerConfigError(description: "volume \"\(name)\": this volume type is not supported by the sandbox's process node; use emptyDir, configMap, secret, downwardAPI or projected")
            }
        }
    }

    func writeConfigMap(_ source: JSONValue, into root: URL, defaultMode: Int?) throws(ContainerConfigError) {
        let name = source["name"]?.stringValue ?? ""
        guard let object = inputs.configMap(namespace, name) else {
            if source["optional"]?.boolValue == true { return }
            throw ContainerConfigError(description: "configmap \"\(name)\" not found")
        }
        var data: [String: Data] = [:]
        for (key, value) in object["data"]?.objectValue ?? [:] { data[key] = Data((value.stringValue ?? "").utf8) }
        for (key, value) in object["binaryData"]?.objectValue ?? [:] { data[key] = Data(base64Encoded: value.stringValue ?? "") ?? Data() }
        try writeKeys(data, items: source["items"]?.arrayValue, into: root, defaultMode: defaultMode,
                      optional: source["optional"]?.boolValue == true, what: "ConfigMap \(namespace)/\(name)")
    }

    func writeSecret(_ source: JSONValue, name: String, into root: URL, defaultMode: Int?) throws(ContainerConfigError) {
        guard let object = inputs.secret(namespace, name) else {
            if source["optional"]?.boolValue == true { return }
            throw ContainerConfigError(description: "secret \"\(name)\" not found")
        }
        try writeKeys(ContainerEnvironment.secretData(object), items: source["items"]?.arrayValue, into: root,
                      defaultMode: defaultMode, optional: source["optional"]?.boolValue == true, what: "Secret \(namespace)/\(name)")
    }

    func writeKeys(_ data: [String: Data], items: [JSONValue]?, into root: URL, defaultMode: Int?, optional: Bool, what: String) throws(ContainerConfigError) {
        guard let items, !items.isEmpty else {
            for (key, value) in data { try file(root, key, value, mode: defaultMode) }
            return
        }
        for item in items {
            let key = item["key"]?.stringValue ?? ""
            guard let value = data[key] else {
                if optional { continue }
                throw ContainerConfigError(description: "couldn't find key \(key) in \(what)")
            }
            try file(root, item["path"]?.stringValue ?? key, value, mode: item["mode"]?.intValue ?? defaultMode)
        }
    }

    func writeDownward(_ source: JSONValue, into root: URL, defaultMode: Int?) throws(ContainerConfigError) {
        for item in source["items"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue else { continue }
            var value = ""
            if let field = item["fieldRef"]?["fieldPath"]?.stringValue {
                value = ContainerEnvironment.fieldValue(field, pod: pod, podIP: podIP, hostIP: hostIP) ?? ""
            } else if let resource = item["resourceFieldRef"] {
                let name = resource["containerName"]?.stringValue
                let container = (pod["spec"]?["containers"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name } ?? [:]
                value = ContainerEnvironment.resourceValue(resource, container: container)
            }
            try file(root, path, Data(value.utf8), mode: item["mode"]?.intValue ?? defaultMode)
        }
    }

    func makeDirectory(_ url: URL) throws(ContainerConfigError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw ContainerConfigError(description: "cannot create the volume directory \(url.path): \(error.localizedDescription)")
        }
    }

    /// Writes one file of a volume; `path` may hold directories, never `..`.
    func file(_ root: URL, _ path: String, _ data: Data, mode: Int?) throws(ContainerConfigError) {
        guard !path.split(separator: "/").contains("..") else {
            throw ContainerConfigError(description: "volume path \(path) must not contain '..'")
        }
        let url = root.appendingPathComponent(path)
        try makeDirectory(url.deletingLastPathComponent())
        do {
            try data.write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: mode ?? 0o644], ofItemAtPath: url.path)
        } catch {
            throw ContainerConfigError(description: "cannot write \(url.path): \(error.localizedDescription)")
        }
    }
}
