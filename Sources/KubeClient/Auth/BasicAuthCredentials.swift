import Foundation

/// HTTP basic authentication (`users[].user.username`/`password`).
public struct BasicAuthCredentials: CredentialSource {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// `Basic base64(username:password)`.
    public var authorizationHeader: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public func credentials() async throws -> RequestCredentials {
        RequestCredentials(authorization: authorizationHeader)
    }

    public func refreshAfterUnauthorized() async throws -> Bool { false }
}
