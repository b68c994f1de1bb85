import ClientSupport
import GRPCCore

/// The manager's refusals of CreateIntercept in the client's terms: its one sentence, and the
/// category connector.proto names.
enum InterceptFailure {
    static func outcome(for error: any Error, managerNamespace: String) -> InterceptOutcome {
        guard let rpc = error as? RPCError else {
            if error is DeadlineExceeded {
                return .failed(.agentError, "the traffic-manager did not answer within \(ManagerSession.createInterceptTimeout.components.seconds) s; see 'telepresence list' for the workload's state and try again")
            }
            return .failed(.noManager, "the traffic-manager in namespace \(managerNamespace) could not be reached: \(error)")
        }
        switch rpc.code {
        case .notFound: return .failed(.notFound, rpc.message)
        case .invalidArgument, .outOfRange: return .failed(.badArgs, rpc.message)
        case .alreadyExists, .aborted: return .failed(.conflict, rpc.message)
        case .failedPrecondition, .deadlineExceeded, .resourceExhausted: return .failed(.agentError, rpc.message)
        case .unimplemented:
            return .failed(.noManager, "the traffic-manager in namespace \(managerNamespace) cannot intercept; upgrade it with 'telepresence helm upgrade'")
        case .permissionDenied: return .failed(.badArgs, rpc.message)
        default:
            return .failed(.noManager, "the traffic-manager in namespace \(managerNamespace) could not be reached: \(rpc.message)")
        }
    }

    /// An answer that is not ACTIVE: the manager's message, categorised by its disposition.
    static func outcome(for intercept: Intercept) -> InterceptOutcome {
        let text = intercept.message.isEmpty
            ? "the intercept \(intercept.name) is \(intercept.disposition) instead of ACTIVE; see 'telepresence list' and the pods of \(intercept.workload)"
            : intercept.message
        let category: InterceptOutcome.Category = switch intercept.disposition {
        case "BAD_ARGS", "NO_PORTS", "NO_MECHANISM": .badArgs
        case "NO_CLIENT": .notConnected
        default: .agentError
        }
        return .failed(category, text)
    }
}
