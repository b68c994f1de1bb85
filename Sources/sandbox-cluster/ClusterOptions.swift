import ArgumentParser
import Foundation

/// Where a named cluster keeps its kubeconfig, log, port and pid.
struct StateLocation {
    static var base: URL {
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            return URL(fileURLWithPath: runtime).appendingPathComponent("sandbox-cluster")
        }
        return URL(fileURLWithPath: "/tmp/sandbox-cluster-\(getuid())")
    }

    static func directory(name: String, override: String?) -> URL {
        if let override { return URL(fileURLWithPath: override) }
        return base.appendingPathComponent(name)
    }
}

struct ClusterOptions: ParsableArguments {
    @Option(help: "The cluster's name; several clusters with different names can run at once.")
    var name: String = "sandbox"

    @Option(help: "Where to keep the kubeconfig, log and pid file (default: $XDG_RUNTIME_DIR/sandbox-cluster/NAME or /tmp/sandbox-cluster-UID/NAME).")
    var stateDir: String?

    var directory: URL { StateLocation.directory(name: name, override: stateDir) }

    func validate() throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ValidationError("--name '\(name)' may only contain letters, digits, '-' and '_'.")
        }
    }
}
