import LinuxNet
import SandboxAPIServer

/// The cluster network's `ip` and `nft` runs (``SystemTool``, from the calling thread, so a
/// thread inside a namespace runs them there), with their failures as `ClusterNetworkError`.
enum SystemCommand {
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil, allowFailure: Bool = false) throws(ClusterNetworkError) -> String {
        do {
            return try SystemTool.run(arguments, input: input, allowFailure: allowFailure)
        } catch {
            switch error {
            case .notFound(let tool, let command):
                throw .commandFailed(command: command, status: 127, output: "\(tool) not found")
            case .couldNotRun(let command, let reason):
                throw .commandFailed(command: command, status: 127, output: reason)
            case .failed(let command, let status, let output):
                throw .commandFailed(command: command, status: status, output: output)
            }
        }
    }
}
