import TestSupport
import Testing
@testable import VIF

@Suite struct ExternalCommandTests {
    @Test func outputAndStatusComeBack() async throws {
        let ok = try await ExternalCommand("sh", ["-c", "echo out; echo err >&2"]).run()
        #expect(ok == .init(status: 0, stdout: "out\n", stderr: "err\n"))
        await #expect(throws: ExternalCommandError.failed("sh -c echo nope >&2; exit 3", 3, "nope")) {
            try await ExternalCommand("sh", ["-c", "echo nope >&2; exit 3"]).check()
        }
        await #expect(throws: ExternalCommandError.notFound("no-such-command-here")) {
            try await ExternalCommand("no-such-command-here", []).run()
        }
    }

    /// An hour's sleep: if the deadline did not end it, the call would hang past the time limit
    /// instead of passing late; and the process must be gone, not left running.
    @Test(.timeLimit(.minutes(1)))
    func aHungCommandIsKilledAtItsDeadline() async throws {
        await #expect(throws: ExternalCommandError.timedOut("sleep 3599", .milliseconds(300))) {
            try await ExternalCommand("sleep", ["3599"], timeout: .milliseconds(300)).run()
        }
        try await waitUntil("the timed-out sleep to be gone") {
            ProcessTable.processes { $0.arguments.first?.hasSuffix("sleep") == true && $0.arguments.dropFirst() == ["3599"] }.isEmpty
        }
    }
}
