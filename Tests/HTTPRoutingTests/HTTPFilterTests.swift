import HTTPRouting
import Testing

@Suite struct HTTPFilterTests {
    @Test func parsesBothHeaderSpellings() throws {
        #expect(try HTTPFilter.parseHeader("X-User=alice") == .init(name: "x-user", value: "alice"))
        #expect(try HTTPFilter.parseHeader("X-User: alice") == .init(name: "x-user", value: "alice"))
        #expect(try HTTPFilter.parseHeader("x-a=b=c") == .init(name: "x-a", value: "b=c"))
        #expect(throws: HTTPFilterError.badHeader("novalue")) { try HTTPFilter.parseHeader("novalue") }
        #expect(throws: HTTPFilterError.badHeader("bad name=1")) { try HTTPFilter.parseHeader("bad name=1") }
    }

    @Test func refusesFiltersThatCanNeverMatch() {
        #expect(throws: HTTPFilterError.self) {
            try HTTPFilter.parse(headers: ["A=1", "a: 2"], pathEqual: nil, pathPrefix: nil, pathRegex: nil)
        }
        #expect(throws: HTTPFilterError.self) {
            try HTTPFilter.parse(headers: [], pathEqual: "/b", pathPrefix: "/a", pathRegex: nil)
        }
        #expect(throws: HTTPFilterError.badPath("api")) {
            try HTTPFilter.parse(headers: [], pathEqual: nil, pathPrefix: "api", pathRegex: nil)
        }
        #expect(throws: HTTPFilterError.self) {
            try HTTPFilter.parse(headers: [], pathEqual: nil, pathPrefix: nil, pathRegex: "([")
        }
    }

    @Test func matchesEveryCondition() throws {
        let filter = try HTTPFilter.parse(headers: ["X-User=alice"], pathEqual: nil, pathPrefix: "/api", pathRegex: nil)
        #expect(filter.matches(path: "/api/items", headers: [("x-user", "alice")]))
        #expect(filter.matches(path: "/api", headers: [("Accept", "*/*"), ("X-USER", " alice ")]))
        #expect(!filter.matches(path: "/api/items", headers: [("x-user", "bob")]))
        #expect(!filter.matches(path: "/web", headers: [("x-user", "alice")]))
        #expect(!filter.matches(path: "/api", headers: []))
        let regex = try HTTPFilter.parse(headers: [], pathEqual: nil, pathPrefix: nil, pathRegex: "/items/[0-9]+")
        #expect(regex.matches(path: "/items/42", headers: []))
        #expect(!regex.matches(path: "/items/42/x", headers: []))
    }

    @Test func pathOfEveryTargetForm() {
        #expect(HTTPFilter.path(ofTarget: "/a/b?q=1") == "/a/b")
        #expect(HTTPFilter.path(ofTarget: "http://h:80/a#f") == "/a")
        #expect(HTTPFilter.path(ofTarget: "http://h") == "/")
        #expect(HTTPFilter.path(ofTarget: "*") == "*")
    }

    @Test func overlapsOnlyWhenSomeRequestMatchesBoth() throws {
        func f(_ headers: [String] = [], equal: String? = nil, prefix: String? = nil, regex: String? = nil) throws -> HTTPFilter {
            try HTTPFilter.parse(headers: headers, pathEqual: equal, pathPrefix: prefix, pathRegex: regex)
        }
        #expect(try !f(["X-User=alice"]).overlaps(f(["x-user: bob"])))
        #expect(try f(["X-User=alice"]).overlaps(f(["X-Team=a"])))
        #expect(try f(["X-User=alice"]).overlaps(HTTPFilter()))
        #expect(try !f(equal: "/a").overlaps(f(equal: "/b")))
        #expect(try !f(equal: "/a").overlaps(f(prefix: "/b")))
        #expect(try f(equal: "/b/c").overlaps(f(prefix: "/b")))
        #expect(try !f(prefix: "/a").overlaps(f(prefix: "/b")))
        #expect(try f(prefix: "/a").overlaps(f(prefix: "/a/b")))
        #expect(try !f(equal: "/x").overlaps(f(regex: "/[0-9]+")))
        #expect(try f(prefix: "/x").overlaps(f(regex: "/[0-9]+")))
    }

    @Test func describesItselfInWords() throws {
        let filter = try HTTPFilter.parse(headers: ["x-user: alice"], pathEqual: nil, pathPrefix: "/api", pathRegex: nil)
        #expect(filter.description == "HTTP requests with path-prefix /api and header 'X-User: alice'")
    }

    @Test func roundTripsThroughTheProto() throws {
        let filter = try HTTPFilter.parse(headers: ["A=1", "B=2"], pathEqual: "/x", pathPrefix: nil, pathRegex: nil)
        #expect(HTTPFilter(filter.proto) == filter)
        #expect(HTTPFilter(HTTPFilter().proto) == nil)
    }
}
