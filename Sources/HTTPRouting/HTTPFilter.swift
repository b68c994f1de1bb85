import Foundation

/// Which HTTP requests an intercept or wiretap takes (`--http-header`, `--http-path-equal`,
/// `--http-path-prefix`, `--http-path-regex`): every condition must hold. Header names are
/// case-insensitive and values exact; the path is the request target's path without its query.
/// The same value is parsed by the CLI, checked for overlaps by the manager and matched by the
/// agent, so all three agree on what a filter means.
public struct HTTPFilter: Sendable, Hashable, Codable {
    public struct Header: Sendable, Hashable, Codable {
        /// Lower-cased (HTTP header names are case-insensitive).
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name.lowercased()
            self.value = value
        }
    }

    public var headers: [Header]
    public var pathEqual: String?
    public var pathPrefix: String?
    /// Must match the whole path.
    public var pathRegex: String?

    public init(headers: [Header] = [], pathEqual: String? = nil, pathPrefix: String? = nil, pathRegex: String? = nil) {
        self.headers = headers
        self.pathEqual = pathEqual.flatMap { $0.isEmpty ? nil : $0 }
        self.pathPrefix = pathPrefix.flatMap { $0.isEmpty ? nil : $0 }
        self.pathRegex = pathRegex.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// No condition at all: not a filter (the engagement takes every connection).
    public var isEmpty: Bool { headers.isEmpty && pathEqual == nil && pathPrefix == nil && pathRegex == nil }

    // MARK: Parsing the CLI's flags

    /// Builds a filter from the flags' values; throws one sentence naming the bad value.
    public static func parse(
        headers: [String], pathEqual: String?, pathPrefix: String?, pathRegex: String?
    ) throws(HTTPFilterError) -> HTTPFilter {
        var parsed: [Header] = []
        for text in headers { parsed.append(try parseHeader(text)) }
        for path in [pathEqual, pathPrefix].compactMap({ $0 }) where !path.hasPrefix("/") {
            throw .badPath(path)
        }
        if let regex = pathRegex {
            do { _ = try Regex(regex) } catch { throw .badRegex(regex, "\(error)") }
        }
        for (name, values) in Dictionary(grouping: parsed, by: \.name) where Set(values.map(\.value)).count > 1 {
            throw .contradictory("header '\(displayName(name))' is given two different values")
        }
        let filter = HTTPFilter(headers: parsed, pathEqual: pathEqual, pathPrefix: pathPrefix, pathRegex: pathRegex)
        if let equal = filter.pathEqual {
            if let prefix = filter.pathPrefix, !equal.hasPrefix(prefix) {
                throw .contradictory("path \(equal) does not start with \(prefix)")
            }
            if filter.pathRegex != nil, !filter.pathMatchesRegex(equal) {
                throw .contradictory("path \(equal) does not match the regex \(filter.pathRegex!)")
            }
        }
        return filter
    }

    /// `K=V` or `K: V` (the first `=` or `:` ends the name; spaces after it are not the value's).
    public static func parseHeader(_ text: String) throws(HTTPFilterError) -> Header {
        guard let separator = text.firstIndex(where: { $0 == "=" || $0 == ":" }) else { throw .badHeader(text) }
        let name = text[..<separator].trimmingCharacters(in: .whitespaces)
        let value = text[text.index(after: separator)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.isTokenCharacter) else { throw .badHeader(text) }
        return Header(name: name, value: value)
    }

    /// RFC 9110 token characters, the only ones a header name may have.
    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": true
        default: false
        }
    }

    // MARK: Matching

    /// Whether a request matches: `path` is the request target's path (no query), `headers` the
    /// request's fields (a name may repeat; one equal value is enough).
    public func matches(path: String, headers requestHeaders: [(name: String, value: String)]) -> Bool {
        if let equal = pathEqual, path != equal { return false }
        if let prefix = pathPrefix, !path.hasPrefix(prefix) { return false }
        if pathRegex != nil, !pathMatchesRegex(path) { return false }
        for wanted in headers {
            let found = requestHeaders.contains { field in
                HTTP1Fields.nameIs(field.name, wanted.name)
                    && field.value.trimmingCharacters(in: .whitespaces) == wanted.value
            }
            if !found { return false }
        }
        return true
    }

    /// The path of a request target: origin form `/a/b?q`, absolute form `http://h/a/b?q`,
    /// asterisk form `*`.
    public static func path(ofTarget target: Substring) -> Substring {
        var rest = target
        if !rest.hasPrefix("/"), let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        return rest
    }

    func pathMatchesRegex(_ path: String) -> Bool {
        guard let pattern = pathRegex, let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: path)) != nil
    }

    // MARK: Overlaps

    /// Whether some request could match both filters (an empty filter matches everything). Only
    /// what can be decided exactly counts as disjoint: a header both name with different values,
    /// or paths that cannot both hold; two regexes, or a regex beside a prefix, are taken as
    /// overlapping, since no exact answer is cheap (`overlapReason` says so).
    public func overlaps(_ other: HTTPFilter) -> Bool { disjointness(other) == nil }

    /// Why two filters cannot both match, or nil when they may.
    func disjointness(_ other: HTTPFilter) -> String? {
        for mine in headers {
            for theirs in other.headers where mine.name == theirs.name && mine.value != theirs.value {
                return "header \(mine.name)"
            }
        }
        let a = self, b = other
        if let x = a.pathEqual, let y = b.pathEqual, x != y { return "path" }
        for (p, q) in [(a, b), (b, a)] {
            if let equal = p.pathEqual {
                if let prefix = q.pathPrefix, !equal.hasPrefix(prefix) { return "path" }
                if q.pathRegex != nil, !q.pathMatchesRegex(equal) { return "path" }
            }
        }
        if let x = a.pathPrefix, let y = b.pathPrefix, !x.hasPrefix(y), !y.hasPrefix(x) { return "path" }
        return nil
    }

    // MARK: Words

    /// "HTTP requests with path-prefix /api and header 'X-User: alice'" (Telepresence's words).
    public var description: String {
        var parts: [String] = []
        if let equal = pathEqual { parts.append("path-equal \(equal)") }
        if let prefix = pathPrefix { parts.append("path-prefix \(prefix)") }
        if let regex = pathRegex { parts.append("path-regex \(regex)") }
        for header in headers { parts.append("header '\(Self.displayName(header.name)): \(header.value)'") }
        guard !parts.isEmpty else { return "all HTTP requests" }
        return "HTTP requests with " + parts.joined(separator: " and ")
    }

    /// `x-user` -> `X-User`, as users type header names.
    static func displayName(_ name: String) -> String {
        name.split(separator: "-", omittingEmptySubsequences: false).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
    }
}

public enum HTTPFilterError: Error, Equatable, CustomStringConvertible {
    case badHeader(String)
    case badPath(String)
    case badRegex(String, String)
    case contradictory(String)

    public var description: String {
        switch self {
        case .badHeader(let text):
            "--http-header \(text) is not a header: give NAME=VALUE or 'NAME: VALUE'"
        case .badPath(let path):
            "the HTTP path \(path) must start with /"
        case .badRegex(let regex, let reason):
            "--http-path-regex \(regex) is not a regular expression: \(reason)"
        case .contradictory(let reason):
            "the HTTP filter can never match: \(reason)"
        }
    }
}
