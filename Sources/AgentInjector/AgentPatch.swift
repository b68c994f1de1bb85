import AgentConfig
import KubeClient

/// The JSON patch (RFC 6902) that puts the traffic-agent into a pod: a function of the pod as the
/// API server sent it and the workload's agent config.
public enum AgentPatch {
    /// The operations, in order: the init container (when a port needs a redirect), the app
    /// ports the agent takes over (renamed `tm-NAME`, also in the app's probes), the removal of a
    /// replaced container, the agent container, its volumes, the labels and the annotation. Empty
    /// when the pod already has an agent. The renames address containers by their index in the pod
    /// as sent, so they come before any removal shifts those indexes.
    public static func make(pod: Pod, config: AgentConfig) -> JSONPatch {
        guard let spec = pod.spec, !spec.containers.contains(where: { $0.name == AgentNames.container }) else { return JSONPatch() }
        var ops: [JSONPatch.Operation] = []
        let annotations = pod.metadata.annotations ?? [:]
        let ignoredVolumes = Set(AgentConfigGenerator.list(annotations[AgentNames.injectIgnoreVolumeMounts]))

        // 1. The init container that redirects numeric target ports and headless Services' ports.
        if config.needsInitContainer, !(spec.initContainers ?? []).contains(where: { $0.name == AgentNames.initContainer }) {
            let value = encode(initContainer(config: config))
            if (spec.initContainers ?? []).isEmpty {
                ops.append(.add(path: "/spec/initContainers", value: [value]))
            } else {
                ops.append(.add(path: "/spec/initContainers/-", value: value))
            }
        }

        // 2. Port takeover by name: the app's port becomes tm-NAME, the agent's port is NAME.
        for (index, container) in spec.containers.enumerated() {
            guard let engaged = config.containers.first(where: { $0.name == container.name }), !engaged.replace else { continue }
            let renamed = Set(engaged.intercepts.filter { !$0.needsRedirect && !$0.containerPortName.isEmpty }.map(\.containerPortName))
            guard !renamed.isEmpty else { continue }
            let base = JSONPointer(tokens: ["spec", "containers", String(index)])
            for (portIndex, port) in (container.ports ?? []).enumerated() {
                guard let name = port.name, renamed.contains(name) else { continue }
                ops.append(.replace(path: base.appending("ports").appending(portIndex).appending("name"), value: .string(hiddenName(name))))
            }
            for (key, probe) in [("livenessProbe", container.livenessProbe), ("readinessProbe", container.readinessProbe), ("startupProbe", container.startupProbe)] {
                guard let probe else { continue }
                if let name = probe.httpGet?.port.stringValue, renamed.contains(name) {
                    ops.append(.replace(path: base.appending(key).appending("httpGet").appending("port"), value: .string(hiddenName(name))))
                }
                if let name = probe.tcpSocket?.port.stringValue, renamed.contains(name) {
                    ops.append(.replace(path: base.appending(key).appending("tcpSocket").appending("port"), value: .string(hiddenName(name))))
                }
            }
        }

        // 3. A replaced container leaves the pod (its sidecars stay); from the last index down, each
        // checked by name first, so an index that is not the container's fails the patch instead
        // of removing another one.
        let replaced = Set(config.replacedContainers.map(\.name))
        for (index, container) in spec.containers.enumerated().reversed() where replaced.contains(container.name) {
            let path = JSONPointer(tokens: ["spec", "containers", String(index)])
            ops.append(.test(path: path.appending("name"), value: .string(container.name)))
            ops.append(.remove(path: path))
        }

        // 4. The agent.
        ops.append(.add(path: "/spec/containers/-", value: encode(agentContainer(spec: spec, config: config, ignoredVolumes: ignoredVolumes))))

        // 5. Its volumes.
        let volumes = [
            Volume(
                name: AgentNames.configVolume,
                configMap: ConfigMapVolumeSource(
                    name: AgentNames.configMap, items: [KeyToPath(key: config.workloadName, path: AgentNames.configFileName)])),
            Volume(name: AgentNames.tmpVolume, emptyDir: EmptyDirVolumeSource()),
        ].filter { volume in !(spec.volumes ?? []).contains { $0.name == volume.name } }
        if spec.volumes == nil {
            ops.append(.add(path: "/spec/volumes", value: .array(volumes.map { encode($0) })))
        } else {
            ops += volumes.map { JSONPatch.Operation.add(path: "/spec/volumes/-", value: encode($0)) }
        }

        // 6. Labels and the annotation Telepresence sets.
        let labels: [String: String] = [
            AgentNames.workloadNameLabel: config.workloadName,
            AgentNames.workloadKindLabel: config.workloadKind,
            AgentNames.workloadEnabledLabel: "true",
        ]
        ops += merge(labels, into: pod.metadata.labels, at: "/metadata/labels")
        ops += merge([AgentNames.injectAnnotation: "enabled"], into: pod.metadata.annotations, at: "/metadata/annotations")
        return JSONPatch(ops)
    }

    /// `tm-NAME`, at most 15 characters (an IANA service name's limit).
    public static func hiddenName(_ name: String) -> String {
        String((AgentNames.hiddenPortPrefix + name).prefix(15))
    }

    /// The `traffic-agent` container of a pod with `spec`.
    public static func agentContainer(spec: PodSpec, config: AgentConfig, ignoredVolumes: Set<String> = []) -> Container {
        var env: [EnvVar] = [
            EnvVar(name: AgentNames.podIPEnv, valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(apiVersion: "v1", fieldPath: "status.podIP"))),
            EnvVar(name: AgentNames.podNameEnv, valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(apiVersion: "v1", fieldPath: "metadata.name"))),
        ]
        var envFrom: [EnvFromSource] = []
        var mounts: [VolumeMount] = [
            VolumeMount(name: AgentNames.configVolume, mountPath: AgentNames.configDirectory),
            VolumeMount(name: AgentNames.tmpVolume, mountPath: AgentNames.tmpDirectory),
        ]
        var ports: [ContainerPort] = []
        for app in config.containers {
            guard let container = spec.containers.first(where: { $0.name == app.name }) else { continue }
            let prefix = AgentNames.appEnvPrefix + app.envPrefix
            let hasEnvFrom = !(container.envFrom ?? []).isEmpty
            var declared: Set<String> = []
            for variable in container.env ?? [] {
                env.append(EnvVar(
                    name: prefix + variable.name,
                    value: variable.value.map { rewriteReferences($0, prefix: prefix, declared: declared, hasEnvFrom: hasEnvFrom) },
                    valueFrom: variable.valueFrom))
                declared.insert(variable.name)
            }
            for source in container.envFrom ?? [] {
                var copy = source
                copy.prefix = prefix + (source.prefix ?? "")
                envFrom.append(copy)
            }
            for mount in container.volumeMounts ?? [] where !ignoredVolumes.contains(mount.name) {
                mounts.append(VolumeMount(
                    name: mount.name, mountPath: app.mountPoint + (mount.mountPath.hasPrefix("/") ? "" : "/") + mount.mountPath,
                    readOnly: mount.readOnly, subPath: mount.subPath,
                    subPathExpr: mount.subPathExpr.map { rewriteReferences($0, prefix: prefix, declared: declared, hasEnvFrom: hasEnvFrom) },
                    recursiveReadOnly: mount.recursiveReadOnly))
            }
            // A port taken by name (renamed in the app) or of a replaced container (which is gone)
            // keeps its name on the agent, so a Service's named targetPort finds the agent.
            for intercept in app.intercepts
            where !ports.contains(where: { $0.containerPort == intercept.agentPort && $0.protocol == intercept.protocol }) {
                let named = !intercept.containerPortName.isEmpty && (app.replace || !intercept.needsRedirect)
                ports.append(ContainerPort(name: named ? intercept.containerPortName : nil, containerPort: intercept.agentPort, protocol: intercept.protocol))
            }
        }
        ports.append(ContainerPort(name: AgentNames.tunnelPortName, containerPort: config.tunnelPort, protocol: "TCP"))
        return Container(
            name: AgentNames.container, image: config.agentImage, args: [AgentNames.agentCommand], ports: ports, env: env,
            envFrom: envFrom.isEmpty ? nil : envFrom, volumeMounts: mounts,
            readinessProbe: Probe(exec: ExecAction(command: ["test", "-f", AgentNames.readyFile]), periodSeconds: 1, failureThreshold: 1),
            imagePullPolicy: config.pullPolicy)
    }

    /// The `tel-agent-init` container: installs the redirects of numeric target ports.
    public static func initContainer(config: AgentConfig) -> Container {
        Container(
            name: AgentNames.initContainer, image: config.agentImage, args: [AgentNames.initCommand],
            env: [
                EnvVar(name: AgentNames.initLogLevelEnv, value: config.logLevel),
                EnvVar(name: AgentNames.initPodIPEnv, valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(apiVersion: "v1", fieldPath: "status.podIP"))),
            ],
            volumeMounts: [VolumeMount(name: AgentNames.configVolume, mountPath: AgentNames.configDirectory)],
            imagePullPolicy: config.pullPolicy,
            securityContext: ["capabilities": ["add": ["NET_ADMIN"]]])
    }

    /// `value` with each `$(X)` that Kubernetes would expand in the app container rewritten to
    /// `$(<prefix>X)`, so it expands to the same text in the agent: X declared earlier in the
    /// container's env, or (when the container has envFrom) any X but service links, which both
    /// containers get unprefixed. `$$` stays an escaped `$`.
    public static func rewriteReferences(_ value: String, prefix: String, declared: Set<String>, hasEnvFrom: Bool) -> String {
        var result = ""
        var rest = Substring(value)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("$") {
                result += "$$"
                rest = after.dropFirst()
            } else if after.hasPrefix("("), let close = after.firstIndex(of: ")") {
                let name = String(after[after.index(after: after.startIndex)..<close])
                let rewrite = declared.contains(name) || (hasEnvFrom && !isServiceLink(name))
                result += "$(" + (rewrite ? prefix + name : name) + ")"
                rest = after[after.index(after: close)...]
            } else {
                result += "$"
                rest = after
            }
        }
        return result + rest
    }

    /// Whether `name` looks like a service link variable (`X_SERVICE_HOST`, `X_PORT_80_TCP`...).
    static func isServiceLink(_ name: String) -> Bool {
        name.hasSuffix("_SERVICE_HOST") || name.contains("_SERVICE_PORT") || name.hasSuffix("_PORT") || name.contains("_PORT_")
    }

    private static func merge(_ entries: [String: String], into existing: [String: String]?, at path: JSONPointer) -> [JSONPatch.Operation] {
        guard existing != nil else {
            return [.add(path: path, value: .object(entries.mapValues(JSONValue.string)))]
        }
        return entries.sorted { $0.key < $1.key }.map { .add(path: path.appending($0.key), value: .string($0.value)) }
    }

    private static func encode<T: Encodable>(_ value: T) -> JSONValue {
        // Plain value types of KubeClient's models: encoding cannot fail.
        (try? JSONValue(encoding: value)) ?? .null
    }
}
