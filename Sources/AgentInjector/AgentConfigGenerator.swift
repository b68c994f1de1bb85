// STAND-IN until eng-injector is merged (see README.md).
import AgentConfig
import KubeClient

/// Makes a workload's agent config from its pod template and the Services that select it.
public enum AgentConfigGenerator {
    public static func generate(
        workloadKind: String, workloadName: String, namespace: String, template: PodTemplateSpec, services: [Service],
        settings: InjectorSettings
    ) throws(InjectorError) -> AgentConfig {
        let podContainers = template.spec?.containers ?? []
        var containers = podContainers.enumerated().map { index, container in
            AgentConfig.Container(
                name: container.name, envPrefix: AgentNames.envPrefix(index: index),
                mountPoint: "\(AgentNames.appMountsRoot)/\(container.name)",
                mounts: (container.volumeMounts ?? []).map(\.mountPath))
        }
        var nextAgentPort = AgentNames.firstAgentPort
        for service in services {
            for port in service.spec?.ports ?? [] {
                let proto = port.protocol ?? "TCP"
                let target = port.targetPort ?? .int(port.port)
                var found: (Int, ContainerPort)?
                for (index, container) in podContainers.enumerated() {
                    for containerPort in container.ports ?? [] where (containerPort.protocol ?? "TCP") == proto {
                        switch target {
                        case .int(let number) where containerPort.containerPort == number: found = (index, containerPort)
                        case .string(let name) where containerPort.name == name: found = (index, containerPort)
                        default: break
                        }
                        if found != nil { break }
                    }
                    if found != nil { break }
                }
                guard let (index, containerPort) = found else {
                    if case .int(let number) = target, !podContainers.isEmpty {
                        // A numeric targetPort need not be declared by the container.
                        containers[0].intercepts.append(AgentConfig.Intercept(
                            serviceName: service.metadata.name ?? "", serviceUID: service.metadata.uid ?? "",
                            servicePortName: port.name ?? "", servicePort: port.port, protocol: proto, targetPortNumeric: true,
                            headless: service.spec?.clusterIP == "None", containerPortName: "", containerPort: number,
                            agentPort: nextAgentPort))
                        nextAgentPort += 1
                    }
                    continue
                }
                containers[index].intercepts.append(AgentConfig.Intercept(
                    serviceName: service.metadata.name ?? "", serviceUID: service.metadata.uid ?? "",
                    servicePortName: port.name ?? "", servicePort: port.port, protocol: proto,
                    targetPortNumeric: target.intValue != nil, headless: service.spec?.clusterIP == "None",
                    containerPortName: containerPort.name ?? "", containerPort: containerPort.containerPort, agentPort: nextAgentPort))
                nextAgentPort += 1
            }
        }
        guard containers.contains(where: { !$0.intercepts.isEmpty }) else {
            throw InjectorError("no Service port of \(workloadKind.lowercased()) \(workloadName) maps to a container port")
        }
        return AgentConfig(
            agentName: workloadName, namespace: namespace, workloadName: workloadName, workloadKind: workloadKind,
            agentImage: settings.agentImage, managerHost: "traffic-manager.\(settings.managerNamespace)",
            managerPort: settings.managerPort, logLevel: settings.logLevel, containers: containers)
    }
}
