import Foundation
import Testing
@testable import KubeClient

@Suite final class TokenCredentialsTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    @Test func bearerAndBasicHeaders() async throws {
        #expect(try await BearerTokenCredentials(token: "abc").credentials().authorization == "Bearer abc")
        #expect(try await !BearerTokenCredentials(token: "abc").refreshAfterUnauthorized())
        // base64("user:pa:ss") — a colon in the password is kept as-is.
        #expect(try await BasicAuthCredentials(username: "user", password: "pa:ss").credentials().authorization
            == "Basic dXNlcjpwYTpzcw==")
        #expect(try await !BasicAuthCredentials(username: "u", password: "p").refreshAfterUnauthorized())
    }

    @Test func tokenFileRotationIsNoticed() async throws {
        let path = try scratch.write("token", "  first\n")
        let source = try TokenFileCredentials(path: path, recheckInterval: .zero)
        #expect(try await source.credentials().authorization == "Bearer first")
        try scratch.write("token", "second\n")
        #expect(try await source.credentials().authorization == "Bearer second")
    }

    @Test func tokenFileIsNotReReadWithinTheInterval() async throws {
        let path = try scratch.write("token", "first")
        let source = try TokenFileCredentials(path: path, recheckInterval: .seconds(3600))
        try scratch.write("token", "second")
        #expect(try await source.credentials().authorization == "Bearer first")
        // After a 401 the file is read at once, and a change is worth a retry.
        #expect(try await source.refreshAfterUnauthorized())
        #expect(try await source.credentials().authorization == "Bearer second")
        #expect(try await !source.refreshAfterUnauthorized())
    }

    @Test func aTokenFileCaughtMidRotationKeepsTheOldToken() async throws {
        let path = try scratch.write("token", "first")
        let source = try TokenFileCredentials(path: path, recheckInterval: .zero)
        try FileManager.default.removeItem(atPath: path)
        #expect(try await source.credentials().authorization == "Bearer first")
        await #expect(throws: CredentialError.self) { try await source.refreshAfterUnauthorized() }
    }

    @Test func missingOrEmptyTokenFilesAreReported() throws {
        #expect(errorText({ _ = try TokenFileCredentials(path: scratch.path + "/none") })
            == "cannot read the token file \(scratch.path)/none: it does not exist; check that it exists and holds a token")
        let empty = try scratch.write("empty", "\n")
        #expect(errorText({ _ = try TokenFileCredentials(path: empty) })?.contains("it is empty") == true)
    }
}
