import DNS
import Foundation
import Testing
@testable import VIF

@Suite struct ResolvConfOverrideTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func restoresTheOriginalByteForByteAlsoAfterACrash() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("resolv.conf").path
        // Odd bytes on purpose: no trailing newline, a tab, a comment, CRLF.
        let originalBytes = Data("# odd\r\nnameserver\t192.0.2.53\nsearch corp.example".utf8)
        try originalBytes.write(to: URL(fileURLWithPath: path))
        let override = ResolvConfOverride(path: path, backupPath: dir.appendingPathComponent("backup").path)

        try override.apply(try override.original().connected(dnsServer: "198.18.0.1", searchDomain: "tel2-search"))
        #expect(ResolvConf(parsing: try String(contentsOfFile: path, encoding: .utf8)).nameservers == ["198.18.0.1"])
        // A second apply (the daemon crashed, the next connect applies again) keeps the true original.
        try override.apply(ResolvConf(nameservers: ["198.18.0.2"]))
        #expect(try override.original().nameservers == ["192.0.2.53"])
        #expect(try override.restore())
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == originalBytes)
        #expect(!FileManager.default.fileExists(atPath: override.backupPath))
        #expect(try override.restore() == false)
    }

    @Test func writesThroughASymlinkAndKeepsIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("stub-resolv.conf").path
        let link = dir.appendingPathComponent("resolv.conf").path
        try "nameserver 127.0.0.53\n".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let override = ResolvConfOverride(path: link, backupPath: dir.appendingPathComponent("backup").path)
        try override.apply(ResolvConf(nameservers: ["198.18.0.1"]))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        try override.restore()
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "nameserver 127.0.0.53\n")
    }

    @Test func aMissingFileIsAClearError() {
        let override = ResolvConfOverride(path: "/nonexistent/resolv.conf", backupPath: "/nonexistent/backup")
        #expect(throws: DNSConfigError.io("read /nonexistent/resolv.conf", ENOENT)) { try override.apply(ResolvConf()) }
        #expect(DNSConfigError.io("read /x", ENOENT).description.contains("No such file or directory"))
    }
}
