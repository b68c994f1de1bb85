import Foundation
import Synchronization

/// A bearer token read from a file that may be rotated underneath us (kubeconfig `tokenFile`,
/// a pod's projected service-account token). The file is read again at most once per
/// `recheckInterval`, and at once after a 401.
public final class TokenFileCredentials: CredentialSource {
    public let path: String
    public let recheckInterval: Duration

    private struct State {
        var token: String
        var lastRead: ContinuousClock.Instant
    }

    private let state: Mutex<State>

    /// Reads the file once now, so a missing or empty file is reported when the configuration
    /// is loaded rather than on the first request.
    public init(path: String, recheckInterval: Duration = .seconds(1)) throws {
        self.path = path
        self.recheckInterval = recheckInterval
        let token = try Self.readToken(at: path)
        state = Mutex(State(token: token, lastRead: .now))
    }

    public func credentials() async throws -> RequestCredentials {
        let token = state.withLock { state in
            let now = ContinuousClock.now
            if now - state.lastRead >= recheckInterval {
                // A file caught half-written or briefly missing during rotation keeps the old
                // token; the next check or a 401 tries again.
                if let fresh = try? Self.readToken(at: path) { state.token = fresh }
                state.lastRead = now
            }
            return state.token
        }
        return RequestCredentials(authorization: "Bearer \(token)")
    }

    /// Re-reads the file; `true` when it now holds a different token.
    public func refreshAfterUnauthorized() async throws -> Bool {
        let fresh = try Self.readToken(at: path)
        return state.withLock { state in
            state.lastRead = .now
            guard fresh != state.token else { return false }
            state.token = fresh
            return true
        }
    }

    static func readToken(at path: String) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "it does not exist"
            throw CredentialError.tokenFileUnreadable(path: path, reason: reason)
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else {
            throw CredentialError.tokenFileUnreadable(path: path, reason: "it is empty")
        }
        return token
    }
}
