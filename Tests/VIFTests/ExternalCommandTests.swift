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

    @Test func aHungCommandIsKilledAtItsDeadline() async throws {
        let start = ContinuousClock.now
        await #expect(throws: ExternalCommandError.timedOut("sleep 30", .milliseconds(300))) {
            try await ExternalCommand("sleep", ["30"], timeout: .milliseconds(300)).run()
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
