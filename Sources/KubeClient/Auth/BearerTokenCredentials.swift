/// A fixed bearer token (`users[].user.token`, `--token`).
public struct BearerTokenCredentials: CredentialSource {
    public let token: String

    public init(token: String) {
        self.token = token
    }

    public func credentials() async throws -> RequestCredentials {
        RequestCredentials(authorization: "Bearer \(token)")
    }

    /// A fixed token cannot get any better by asking again.
    public func refreshAfterUnauthorized() async throws -> Bool { false }
}
