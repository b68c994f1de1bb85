import Foundation
import Logging
import Testing
import TestSupport
@testable import ClientSupport
import RootDaemon

/// The root daemon admits only the user who started it (and root), by the kernel's record of
/// the connecting process (SO_PEERCRED), even when the socket's permissions would let others in.
@Suite struct PeerCredentialTests {
    /// Connects as `uid`, sends the HTTP/2 preface, and prints how many bytes the daemon answered
    /// before it closed ("0", "closed") or went quiet ("silent"): a gRPC server answers the preface with its SETTINGS.
    static let probe = #"""
import os, socket, sys
os.setgid(int(sys.argv[2])); os.setuid(int(sys.argv[2]))
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
try:
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
    print(len(s.recv(100)))
except (ConnectionResetError, BrokenPipeError) as e:
    print("closed", type(e).__name__)
except socket.timeout:
    print("silent")
"""#

    @Test(.enabled(where: .root))
    func onlyTheAllowedUserAndRootGetAnAnswer() async throws {
        try HostRequirement.root.require()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tp-peercred-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let allowed: uid_t = 4242, stranger: uid_t = 65534
        let daemon = try await RootDaemon.start(
            paths: RootDaemonPaths(directory: directory), allowedUID: allowed, logger: Logger(label: "test"))
        // Loosen the file system's guard so that only the credential check stands between
        // the stranger and the daemon.
        chmod(directory.path, 0o755)
        chmod(daemon.paths.socket.path, 0o666)

        let admitted = try await ProcessRunner.run(["python3", "-c", Self.probe, daemon.paths.socket.path, String(allowed)])
        let refused = try await ProcessRunner.run(["python3", "-c", Self.probe, daemon.paths.socket.path, String(stranger)])
        let root = try await RootDaemonClient(paths: daemon.paths).withSession { try await $0.version() }
        await daemon.stop()

        #expect(admitted.status == 0, "\(admitted.combined)")
        #expect((Int(admitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "the allowed user got no answer: \(admitted.combined)")
        #expect(refused.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0" || refused.stdout.hasPrefix("closed"),
                "a stranger was answered: \(refused.combined)")
        #expect(!root.version.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: daemon.paths.socket.path))
    }

    @Test func gateAdmitsTheUserAndRootOnly() {
        let gate = PeerCredentialGate(allowing: 1000, logger: Logger(label: "test"))
        #expect(gate.admits(uid: 1000))
        #expect(gate.admits(uid: 0))
        #expect(!gate.admits(uid: 1001))
    }
}
