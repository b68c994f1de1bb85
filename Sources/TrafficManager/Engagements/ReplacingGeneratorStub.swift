import AgentConfig
import AgentInjector
import KubeClient

// STUB, on branch eng-cli only: eng-replace builds `AgentConfigGenerator.generate(...,
// replacing:)` in module AgentInjector. Delete this file when that branch is merged (the two
// would make the call ambiguous).
extension AgentConfigGenerator {
    static func generate(
        workloadKind: String, workloadName: String, namespace: String, template: PodTemplateSpec, services: [Service],
        settings: InjectorSettings, replacing: String?
    ) throws(InjectorError) -> AgentConfig {
        var config = try generate(
            workloadKind: workloadKind, workloadName: workloadName, namespace: namespace, template: template,
            services: services, settings: settings)
        guard let replacing, let index = config.containers.firstIndex(where: { $0.name == replacing }) else { return config }
        let declared = template.spec?.containers.first { $0.name == replacing }?.ports ?? []
        config.containers[index].replace = true
        config.containers[index].intercepts = declared.map { port in
            AgentConfig.Intercept(
                serviceName: "", serviceUID: "", servicePortName: "", servicePort: 0, protocol: port.protocol ?? "TCP",
                targetPortNumeric: false, containerPortName: port.name ?? "", containerPort: port.containerPort,
                agentPort: port.containerPort)
        }
        return config
    }
}
