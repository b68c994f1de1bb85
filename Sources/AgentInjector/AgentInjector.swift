import AgentConfig
import Foundation
import KubeClient
import Logging

/// The webhook's logic: one AdmissionReview request in, one response out. It always allows the
/// pod (failurePolicy Ignore semantics: a pod we cannot patch still starts) and logs why it did
/// not inject when something went wrong.
public struct AgentInjector: Sendable {
    let client: KubeClient
    let settings: InjectorSettings
    let rollout: WorkloadRollout
    let logger: Logger

    public init(client: KubeClient, settings: InjectorSettings, logger: Logger = Logger(label: "agent-injector")) {
        self.client = client
        self.settings = settings
        self.rollout = WorkloadRollout(client: client)
        self.logger = logger
    }

    /// The answer to `request`.
    public func review(_ request: AdmissionRequest) async -> AdmissionResponse {
        guard request.operation == .create, request.resource.resource == "pods", request.subResource?.isEmpty ?? true,
            let object = request.object
        else {
            return .allowing(uid: request.uid)
        }
        do {
            let pod = try object.decode(as: Pod.self)
            let namespace = request.namespace ?? pod.metadata.namespace ?? "default"
            let patch = try await patch(for: pod, namespace: namespace, dryRun: request.dryRun ?? false)
            return .allowing(uid: request.uid, patch: patch)
        } catch {
            logger.error("Not injecting a traffic-agent into a pod in namespace \(request.namespace ?? "?"): \(error)")
            return .allowing(uid: request.uid)
        }
    }

    /// The patch for `pod` (empty when it gets no agent). A dry run stores no config (the
    /// webhook declares sideEffects None).
    public func patch(for pod: Pod, namespace: String, dryRun: Bool = false) async throws -> JSONPatch {
        var replicaSetOwner: OwnerReference?
        if let owner = InjectionPolicy.controller(of: pod), owner.kind == "ReplicaSet" {
            let replicaSet = try await client.get(.replicaSets, name: owner.name, namespace: namespace, as: ReplicaSet.self)
            let owners = replicaSet.metadata.ownerReferences ?? []
            replicaSetOwner = owners.first { $0.controller == true } ?? owners.first
        }
        let workload = InjectionPolicy.workload(of: pod, replicaSetOwner: replicaSetOwner)
        let stored = try await workload.asyncMap { try await rollout.storedConfig(name: $0.name, namespace: namespace) } ?? nil
        let podName = pod.metadata.name ?? pod.metadata.generateName.map { $0 + "…" } ?? "?"
        switch InjectionPolicy.decide(pod: pod, workload: workload, hasStoredConfig: stored != nil) {
        case .skip(let why):
            logger.debug("No traffic-agent for pod \(podName) in namespace \(namespace): \(why)")
            return JSONPatch()
        case .inject(let workload):
            logger.info("Injecting the traffic-agent of \(workload) into pod \(podName) in namespace \(namespace)")
            return AgentPatch.make(pod: pod, config: stored!)
        case .generateAndInject(let workload):
            let config = try await generateConfig(for: workload, namespace: namespace)
            if !dryRun { try await rollout.storeConfig(config) }
            logger.info("Injecting the traffic-agent of \(workload) (annotated \(AgentNames.injectAnnotation): enabled) into pod \(podName) in namespace \(namespace)")
            return AgentPatch.make(pod: pod, config: config)
        }
    }

    /// The workload's config, generated from its template and the namespace's Services.
    public func generateConfig(for workload: WorkloadReference, namespace: String) async throws -> AgentConfig {
        let template: PodTemplateSpec?
        switch workload.kind {
        case "Deployment": template = try await client.get(.deployments, name: workload.name, namespace: namespace, as: Deployment.self).spec?.template
        case "StatefulSet": template = try await client.get(.statefulSets, name: workload.name, namespace: namespace, as: StatefulSet.self).spec?.template
        default: template = try await client.get(.replicaSets, name: workload.name, namespace: namespace, as: ReplicaSet.self).spec?.template
        }
        let services = try await client.listAll(.services, namespace: namespace, as: Service.self).items
        return try AgentConfigGenerator.generate(
            workloadKind: workload.kind, workloadName: workload.name, namespace: namespace,
            template: template ?? PodTemplateSpec(), services: services, settings: settings)
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self {
        case .some(let value): try await transform(value)
        case .none: nil
        }
    }
}
