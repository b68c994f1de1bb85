/// Whether a Deployment's rollout is complete, decided as `kubectl rollout status` decides it:
/// the controller has seen the latest spec, every replica is updated, no old one is left and
/// every updated one is available.
public enum RolloutStatus: Sendable, Equatable {
    case complete
    /// Still rolling out: what it waits for, in kubectl's words.
    case waiting(String)
    /// The controller gave up (`ProgressDeadlineExceeded`).
    case failed(String)
}

extension Deployment {
    public var rolloutStatus: RolloutStatus {
        let name = metadata.name ?? ""
        guard let status, let observed = status.observedGeneration, observed >= (metadata.generation ?? 0) else {
            return .waiting("Waiting for deployment spec update to be observed...")
        }
        if let progressing = status.conditions?.first(where: { $0.type == "Progressing" }), progressing.reason == "ProgressDeadlineExceeded" {
            return .failed("deployment \"\(name)\" exceeded its progress deadline")
        }
        let desired = spec?.replicas ?? 1
        let updated = status.updatedReplicas ?? 0
        let total = status.replicas ?? 0
        let available = status.availableReplicas ?? 0
        if updated < desired {
            return .waiting("Waiting for deployment \"\(name)\" rollout to finish: \(updated) out of \(desired) new replicas have been updated...")
        }
        if total > updated {
            return .waiting("Waiting for deployment \"\(name)\" rollout to finish: \(total - updated) old replicas are pending termination...")
        }
        if available < updated {
            return .waiting("Waiting for deployment \"\(name)\" rollout to finish: \(available) of \(updated) updated replicas are available...")
        }
        return .complete
    }
}
