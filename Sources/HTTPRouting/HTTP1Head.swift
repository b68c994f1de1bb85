import NIOCore

/// One header field as it was on the wire (the name's case kept; the value without the blanks
/// around it).
public struct HTTP1Field: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The head of an HTTP/1.x request: its request line and fields.
public struct HTTP1RequestHead: Hashable, Sendable {
    public var method: String
    public var target: String
    /// 0 or 1 (HTTP/1.0 or HTTP/1.1).
    public var minorVersion: Int
    public var fields: [HTTP1Field]

    public init(method: String, target: String, minorVersion: Int = 1, fields: [HTTP1Field]) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.fields = fields
    }

    /// The target's path without its query (what filters match).
    public var path: String { String(HTTPFilter.path(ofTarget: Substring(target))) }

    /// Whether the client keeps the connection open after this exchange.
    public var keepAlive: Bool { HTTP1Fields.keepAlive(fields, minorVersion: minorVersion) }

    /// Asks to switch protocols (`Upgrade`), or to tunnel (`CONNECT`): what follows it on the
    /// connection is HTTP only if the answer refuses.
    public var asksToLeaveHTTP1: Bool { method == "CONNECT" || HTTP1Fields.values(fields, "upgrade").contains { !$0.isEmpty } }

    /// `Upgrade: h2c` with `HTTP2-Settings` (RFC 7540 §3.2).
    public var isH2CUpgrade: Bool {
        HTTP1Fields.tokens(fields, "upgrade").contains("h2c") && !HTTP1Fields.values(fields, "http2-settings").isEmpty
    }
}

/// The head of an HTTP/1.x response: its status line and fields.
public struct HTTP1ResponseHead: Hashable, Sendable {
    public var status: Int
    public var reason: String
    public var minorVersion: Int
    public var fields: [HTTP1Field]

    public init(status: Int, reason: String, minorVersion: Int = 1, fields: [HTTP1Field]) {
        self.status = status
        self.reason = reason
        self.minorVersion = minorVersion
        self.fields = fields
    }

    /// An interim answer (1xx but 101): the final one follows for the same request.
    public var isInterim: Bool { (100..<200).contains(status) && status != 101 }

    /// Whether the server keeps the connection open after this answer.
    public var keepAlive: Bool { HTTP1Fields.keepAlive(fields, minorVersion: minorVersion) }
}

/// Looking up fields by name, as HTTP does (case-insensitive names, comma-separated lists).
public enum HTTP1Fields {
    /// Whether a field's `name` is `lowercasedName`, case-insensitively (the length first: most
    /// fields differ there, and no string is lower-cased for them).
    public static func nameIs(_ name: String, _ lowercasedName: String) -> Bool {
        name.count == lowercasedName.count && name.lowercased() == lowercasedName
    }

    public static func values(_ fields: [HTTP1Field], _ name: String) -> [String] {
        fields.filter { nameIs($0.name, name) }.map(\.value)
    }

    /// The comma-separated tokens of every `name` field, lower-cased.
    public static func tokens(_ fields: [HTTP1Field], _ name: String) -> [String] {
        values(fields, name).flatMap { $0.split(separator: ",") }.map { $0.trimmingBlanks().lowercased() }
    }

    static func keepAlive(_ fields: [HTTP1Field], minorVersion: Int) -> Bool {
        let connection = tokens(fields, "connection")
        if connection.contains("close") { return false }
        return minorVersion >= 1 || connection.contains("keep-alive")
    }
}

extension Substring {
    func trimmingBlanks() -> String {
        var s = self[...]
        while let first = s.first, first == " " || first == "\t" { s = s.dropFirst() }
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
