import Foundation
import AgentConfig
import KubeClient

/// Builds a workload's agent config from its pod template and the Services of its namespace,
/// as Telepresence's generator does (`pkg/agentmap/generator.go`).
public enum AgentConfigGenerator {
    /// The agent config of a workload: every port of every container that a Service selecting the
    /// template's labels targets (symbolic targetPort by name, numeric by number; headless too), each
    /// given an agent port from 9900; containers without engaged ports listed too (env, mounts).
    /// Honours the template annotations inject-service-name/-service-ports/-container-ports/-ignore-volume-mounts.
    /// Throws when no Service selects the workload, naming the workload.
    ///
    /// `replacing` names a container that `replace` holds: it gets `replace` and one intercept per
    /// port it declares (TCP and UDP, targeted by a Service or not) whose agent port is the
    /// container port itself, since the injector leaves that container out of the pods and the
    /// agent takes its ports. It needs no Service; it throws when the template has no such container.
    ///
    /// `requireService: false` (an `ingest`, which takes no port over and only needs an agent for
    /// the env and mounts) accepts a workload that no Service selects.
    public static func generate(
        workloadKind: String, workloadName: String, namespace: String,
        template: PodTemplateSpec, services: [Service],
        settings: InjectorSettings, replacing: String? = nil, requireService: Bool = true
    ) throws(InjectorError) -> AgentConfig {
        let what = "\(workloadKind.lowercased()) \(workloadName) in namespace \(namespace)"
        let labels = template.metadata?.labels ?? [:]
        let annotations = template.metadata?.annotations ?? [:]
        let appContainers = template.spec?.containers.filter { $0.name != AgentNames.container } ?? []
        guard !appContainers.isEmpty else {
            throw InjectorError("The \(what) has no containers; give its pod template a container to engage.")
        }
        let replaced = try replacing.map { name throws(InjectorError) in
            guard let container = appContainers.first(where: { $0.name == name }) else {
                throw InjectorError(
                    "The \(what) has no container \(name); name one of its containers: \(appContainers.map(\.name).joined(separator: ", ")).")
            }
            return container
        }

        // The Services whose selector selects the template's labels.
        var selecting = services.filter { service in
            guard let selector = service.spec?.selector, !selector.isEmpty, service.spec?.type != "ExternalName" else { return false }
            return selector.allSatisfy { labels[$0.key] == $0.value }
        }
        if let wanted = annotations[AgentNames.injectServiceName], !wanted.isEmpty {
            selecting = selecting.filter { $0.metadata.name == wanted }
            if selecting.isEmpty && replaced == nil && requireService {
                throw InjectorError(
                    "The \(what) names Service \(wanted) in its annotation \(AgentNames.injectServiceName), but no Service of that name selects its pods; fix the annotation or the Service's selector.")
            }
        }
        let portFilter = list(annotations[AgentNames.injectServicePorts])
        let containerPortSpecs = list(annotations[AgentNames.injectContainerPorts])
        let ignoredVolumes = Set(list(annotations[AgentNames.injectIgnoreVolumeMounts]))
        if selecting.isEmpty && containerPortSpecs.isEmpty && replaced == nil && requireService {
            throw InjectorError(
                "No Service selects the pods of \(what); create a Service whose selector matches its pod labels, or list ports in the annotation \(AgentNames.injectContainerPorts).")
        }

        // The agent ports: from 9900, one per distinct engaged container port, skipping the ports
        // the app's containers declare.
        // Ports named by number in inject-container-ports are the app's too, declared or not.
        let usedPorts = Set(appContainers.flatMap { ($0.ports ?? []).map(\.containerPort) })
            .union(containerPortSpecs.compactMap { Int($0.split(separator: "/").first ?? "") })
        var nextAgentPort = AgentNames.firstAgentPort
        var agentPorts: [String: Int] = [:]
        func agentPort(container: String, port: Int, proto: String) -> Int {
            let key = "\(container)/\(port)/\(proto)"
            if let known = agentPorts[key] { return known }
            while usedPorts.contains(nextAgentPort) || nextAgentPort == AgentNames.defaultTunnelPort { nextAgentPort += 1 }
            agentPorts[key] = nextAgentPort
            nextAgentPort += 1
            return agentPorts[key]!
        }

        var intercepts: [String: [AgentConfig.Intercept]] = [:]
        for service in selecting.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) {
            let headless = service.spec?.clusterIP == "None"
            for servicePort in service.spec?.ports ?? [] {
                if !portFilter.isEmpty
                    && !portFilter.contains(where: { $0 == servicePort.name || $0 == String(servicePort.port) })
                {
                    continue
                }
                let proto = servicePort.protocol ?? "TCP"
                let target = servicePort.targetPort ?? .int(servicePort.port)
                for container in appContainers where container.name != replaced?.name {
                    guard let port = (container.ports ?? []).first(where: { targets(servicePort, $0) }) else { continue }
                    let symbolic = target.stringValue != nil
                    intercepts[container.name, default: []].append(
                        AgentConfig.Intercept(
                            serviceName: service.metadata.name ?? "", serviceUID: service.metadata.uid ?? "",
                            servicePortName: servicePort.name ?? "", servicePort: servicePort.port, protocol: proto,
                            targetPortNumeric: !symbolic, headless: headless,
                            containerPortName: port.name ?? "", containerPort: port.containerPort,
                            agentPort: agentPort(container: container.name, port: port.containerPort, proto: proto)))
                }
            }
        }
        // Service-less ports (`inject-container-ports`): NAME or NUMBER, optionally /TCP or /UDP;
        // the init container redirects them, as for a numeric targetPort.
        var undeclaredReplaced: [AgentConfig.Intercept] = []
        for spec in containerPortSpecs {
            let parts = spec.split(separator: "/", maxSplits: 1).map(String.init)
            let id = parts[0], proto = parts.count > 1 ? parts[1].uppercased() : "TCP"
            var found = false
            for container in appContainers where container.name != replaced?.name {
                for port in container.ports ?? [] where isNamed(port, by: id, protocol: proto) {
                    found = true
                    if intercepts[container.name, default: []].contains(where: { $0.containerPort == port.containerPort && $0.protocol == proto }) { continue }
                    intercepts[container.name, default: []].append(
                        AgentConfig.Intercept(
                            serviceName: "", serviceUID: "", servicePortName: "", servicePort: 0, protocol: proto,
                            targetPortNumeric: true, containerPortName: port.name ?? "", containerPort: port.containerPort,
                            agentPort: agentPort(container: container.name, port: port.containerPort, proto: proto)))
                }
            }
            if let replaced, (replaced.ports ?? []).contains(where: { isNamed($0, by: id, protocol: proto) }) {
                found = true  // The replaced container's declared ports are all taken below.
            }
            if !found, let number = Int(id), let first = appContainers.first, first.name == replaced?.name {
                // Replaced: the agent takes the undeclared port itself too.
                undeclaredReplaced.append(
                    AgentConfig.Intercept(
                        serviceName: "", serviceUID: "", servicePortName: "", servicePort: 0, protocol: proto,
                        targetPortNumeric: false, containerPortName: "", containerPort: number, agentPort: number))
                found = true
            }
            if !found, let number = Int(id), let first = appContainers.first {
                // A port the container does not declare is still engageable by number.
                intercepts[first.name, default: []].append(
                    AgentConfig.Intercept(
                        serviceName: "", serviceUID: "", servicePortName: "", servicePort: 0, protocol: proto,
                        targetPortNumeric: true, containerPortName: "", containerPort: number,
                        agentPort: agentPort(container: first.name, port: number, proto: proto)))
                found = true
            }
            if !found {
                throw InjectorError(
                    "The annotation \(AgentNames.injectContainerPorts) of \(what) names port \(id), which no container declares; name a declared container port or a number.")
            }
        }
        if let replaced {
            intercepts[replaced.name] = try replacedIntercepts(replaced, services: selecting, what: what) + undeclaredReplaced
        } else if intercepts.values.allSatisfy(\.isEmpty) && requireService {
            let names = selecting.compactMap(\.metadata.name).sorted().joined(separator: ", ")
            throw InjectorError(
                "No port of Service \(names) targets a port of the containers of \(what); make the Service's targetPort name or number a containerPort of the pod template.")
        }

        let containers = appContainers.enumerated().map { index, container in
            AgentConfig.Container(
                name: container.name, envPrefix: AgentNames.envPrefix(index: index),
                mountPoint: "\(AgentNames.appMountsRoot)/\(container.name)",
                mounts: (container.volumeMounts ?? []).filter { !ignoredVolumes.contains($0.name) }.map(\.mountPath),
                intercepts: intercepts[container.name] ?? [], replace: container.name == replaced?.name)
        }
        return AgentConfig(
            agentName: workloadName, namespace: namespace, workloadName: workloadName, workloadKind: workloadKind,
            agentImage: settings.agentImage, managerHost: settings.managerHost, managerPort: settings.managerPort,
            logLevel: settings.logLevel, containers: containers)
    }

    /// The intercepts of a replaced container: each port it declares, taken by the agent on the
    /// port itself (no redirect, no rename: the container is gone), with the first Service (by
    /// name) that targets it, if any.
    static func replacedIntercepts(_ container: Container, services: [Service], what: String) throws(InjectorError) -> [AgentConfig.Intercept] {
        var result: [AgentConfig.Intercept] = []
        for port in container.ports ?? [] {
            let proto = port.protocol ?? "TCP"
            if port.containerPort == AgentNames.defaultTunnelPort {
                throw InjectorError(
                    "Container \(container.name) of the \(what) declares port \(port.containerPort), which the traffic-agent's tunnel uses; move the container to another port to replace it.")
            }
            if result.contains(where: { $0.containerPort == port.containerPort && $0.protocol == proto }) { continue }
            var target: (Service, ServicePort)?
            for service in services.sorted(by: { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }) where target == nil {
                if let servicePort = (service.spec?.ports ?? []).first(where: { targets($0, port) }) {
                    target = (service, servicePort)
                }
            }
            result.append(AgentConfig.Intercept(
                serviceName: target?.0.metadata.name ?? "", serviceUID: target?.0.metadata.uid ?? "",
                servicePortName: target?.1.name ?? "", servicePort: target?.1.port ?? 0, protocol: proto,
                targetPortNumeric: false, headless: false,
                containerPortName: port.name ?? "", containerPort: port.containerPort, agentPort: port.containerPort))
        }
        return result
    }

    /// Whether the Service port's targetPort (by name, else by number; absent: its port) is `port`.
    static func targets(_ servicePort: ServicePort, _ port: ContainerPort) -> Bool {
        let target = servicePort.targetPort ?? .int(servicePort.port)
        return (servicePort.protocol ?? "TCP") == (port.protocol ?? "TCP")
            && (target.stringValue.map { port.name == $0 } ?? (port.containerPort == target.intValue))
    }

    /// Whether an `inject-container-ports` item (NAME or NUMBER, and its protocol) names `port`.
    static func isNamed(_ port: ContainerPort, by id: String, protocol proto: String) -> Bool {
        (port.protocol ?? "TCP") == proto && (port.name == id || String(port.containerPort) == id)
    }

    /// A comma-separated annotation value as its trimmed, non-empty items.
    static func list(_ value: String?) -> [String] {
        (value ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
