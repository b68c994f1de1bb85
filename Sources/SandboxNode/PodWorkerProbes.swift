import Foundation
import KubeClient
import SandboxAPIServer
import SandboxNetwork
import Synchronization

/// A pod worker's probes: startup, then readiness (gates `ready`) and liveness (restarts).
extension PodWorker {
    func startProbes(_ index: Int, spec: JSONValue, process: ContainerProcess) {
        let readiness = spec["readinessProbe"]
        let liveness = spec["livenessProbe"]
        let startup = spec["startupProbe"]
        guard readiness != nil || liveness != nil || startup != nil else { return }
        let name = containers[index].name
        let prober = Prober(worker: self, container: name, ports: spec["ports"]?.arrayValue ?? [])
        probeTasks[name] = Task {
            // The other probes wait for the startup probe; its failure restarts the container.
            if let startup {
                let outcome = Mutex<Bool?>(nil)
                await prober.loop(startup) { ok in
                    outcome.withLock { $0 = ok }
                    return false
                }
                guard outcome.withLock({ $0 }) == true else {
                    if !Task.isCancelled { await self.livenessFailed(index, process: process, probe: "startup") }
                    return
                }
                self.setStarted(index, process: process, ready: readiness == nil)
            }
            await withTaskGroup(of: Void.self) { group in
                if let readiness {
                    group.addTask {
                        await prober.loop(readiness) { ready in
                            await self.setReady(index, process: process, ready)
                            return true
                        }
                    }
                }
                if let liveness {
                    group.addTask {
                        await prober.loop(liveness) { alive in
                            if !alive { await self.livenessFailed(index, process: process) }
                            return true
                        }
                    }
                }
            }
        }
    }

    func setStarted(_ index: Int, process: ContainerProcess, ready: Bool) {
        guard containers[index].process === process else { return }
        containers[index].started = true
        containers[index].ready = ready
        publish()
    }

    func setReady(_ index: Int, process: ContainerProcess, _ ready: Bool) {
        guard containers[index].process === process, containers[index].ready != ready else { return }
        containers[index].ready = ready
        publish()
    }

    func livenessFailed(_ index: Int, process: ContainerProcess, probe: String = "liveness") async {
        guard containers[index].process === process else { return }
        node.log("pod \(namespace)/\(name): container \(containers[index].name) failed its \(probe) probe and will be restarted")
        await stop(process, grace: gracePeriod(nil))
    }
}
