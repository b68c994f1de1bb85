import Foundation
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct HumanDurationTests {
    static let cases: [(Double, String)] = [
        (-5.0, "<invalid>"), (-1.5, "0s"), (0, "0s"), (5, "5s"), (119.9, "119s"),
        (120, "2m"), (200, "3m20s"), (240, "4m"), (599, "9m59s"), (600, "10m"), (179 * 60, "179m"),
        (3 * 3600, "3h"), (3 * 3600 + 25 * 60, "3h25m"), (8 * 3600, "8h"), (47 * 3600, "47h"),
        (48 * 3600, "2d"), (51 * 3600, "2d3h"), (8 * 86400, "8d"), (400 * 86400, "400d"),
        (730 * 86400, "2y"), (740 * 86400, "2y10d"), (3000 * 86400, "8y"),
    ]

    @Test(arguments: cases)
    func formatsLikeKubectl(_ seconds: Double, _ expected: String) {
        #expect(HumanDuration.format(seconds) == expected)
    }

    @Test func sinceATimestamp() throws {
        let now = try #require(HumanDuration.parseTimestamp("2024-05-01T12:00:00Z"))
        #expect(HumanDuration.since(HumanDuration.parseTimestamp("2024-05-01T11:56:40Z"), now: now) == "3m20s")
        #expect(HumanDuration.since(HumanDuration.parseTimestamp("2024-05-01T11:59:59.5Z"), now: now) == "0s")
        #expect(HumanDuration.since(HumanDuration.parseTimestamp("2024-05-01T13:00:00+01:00"), now: now) == "0s")
        #expect(HumanDuration.since(nil, now: now) == "<unknown>")
        #expect(HumanDuration.parseTimestamp("yesterday") == nil)
    }
}
