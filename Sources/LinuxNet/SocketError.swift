import Foundation

/// Why a socket could not be made, bound or set listening.
public enum SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    case bindFailed(host: String, port: Int, errno: Int32)
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .bindFailed(let host, let port, let code):
            "cannot listen on \(host):\(port): \(String(cString: strerror(code))); stop whatever uses that address"
        case .system(let operation, let code):
            "cannot \(operation): \(String(cString: strerror(code)))"
        }
    }
}
