import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite struct GoBoolTests {
    @Test(arguments: ["1", "t", "T", "TRUE", "true", "True"])
    func acceptsGoTrueSpellings(_ text: String) {
        #expect(GoBool.parse(text) == true)
    }

    @Test(arguments: ["0", "f", "F", "FALSE", "false", "False"])
    func acceptsGoFalseSpellings(_ text: String) {
        #expect(GoBool.parse(text) == false)
    }

    @Test(arguments: ["", "yes", "no", "tRUE", "TrUe", "2", " true", "true ", "on", "y"])
    func rejectsEverythingElse(_ text: String) {
        #expect(GoBool.parse(text) == nil)
    }
}
