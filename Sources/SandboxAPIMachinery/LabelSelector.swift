import KubeClient

/// A parsed label selector (`app=web,tier in (a,b),!canary`), as the `labelSelector` query
/// parameter carries it and as `spec.selector` objects turn into; it matches an object's labels.
///
/// Requirements are kept sorted by key, like apimachinery's, so `description` is canonical
/// (it is what a Scale's `status.selector` shows).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case equals = "="
        case doubleEquals = "=="
        case notEquals = "!="
        case `in` = "in"
        case notIn = "notin"
        case exists = "exists"
        case doesNotExist = "!"
        case greaterThan = "gt"
        case lessThan = "lt"
    }

    /// One term; every requirement of a selector must hold.
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public let key: String
        public let `operator`: Operator
        /// Sorted and without duplicates.
        public let values: [String]

        /// Validates like `labels.NewRequirement`: a qualified key, valid values, and the number
        /// of values the operator needs.
        public init(key: String, operator op: Operator, values: [String]) throws(SelectorError) {
            let keyProblems = NameValidation.isQualifiedName(key)
            if !keyProblems.isEmpty {
                throw SelectorError("<nil>: Invalid value: \(GoQuote.quote(key)): " + keyProblems.joined(separator: "; "))
            }
            switch op {
            case .in, .notIn:
                if values.isEmpty { throw SelectorError("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty") }
            case .equals, .doubleEquals, .notEquals:
                if values.count != 1 { throw SelectorError("values: Invalid value: \(values): exact-match compatibility requires one single value") }
            case .exists, .doesNotExist:
                if !values.isEmpty { throw SelectorError("values: Invalid value: \(values): values set must be empty for exists and does not exist") }
            case .greaterThan, .lessThan:
                if values.count != 1 { throw SelectorError("values: Invalid value: \(values): for 'Gt', 'Lt' operators, exactly one value is required") }
                if Int64(values[0]) == nil {
                    throw SelectorError("values[0]: Invalid value: \(GoQuote.quote(values[0])): for 'Gt', 'Lt' operators, the value must be an integer")
                }
            }
            for (index, value) in values.enumerated() {
                let problems = NameValidation.isValidLabelValue(value)
                if !problems.isEmpty {
                    throw SelectorError("values[\(index)][\(key)]: Invalid value: \(GoQuote.quote(value)): " + problems.joined(separator: "; "))
                }
            }
            self.key = key
            self.operator = op
            self.values = Array(Set(values)).sorted()
        }

        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch self.operator {
            case .equals, .doubleEquals, .in:
                guard let value else { return false }
                return values.contains(value)
            case .notEquals, .notIn:
                guard let value else { return true }
                return !values.contains(value)
            case .exists:
                return value != nil
            case .doesNotExist:
                return value == nil
            case .greaterThan, .lessThan:
                guard let value, let actual = Int64(value), let bound = values.first.flatMap({ Int64($0) }) else { return false }
                return self.operator == .greaterThan ? actual > bound : actual < bound
            }
        }

        /// The string form apimachinery prints: `k=v`, `k!=v`, `k in (a,b)`, `k`, `!k`, `k>5`.
        public var description: String {
            switch self.operator {
            case .exists: key
            case .doesNotExist: "!" + key
            case .equals, .doubleEquals, .notEquals: key + self.operator.rawValue + (values.first ?? "")
            case .in, .notIn: "\(key) \(self.operator.rawValue) (\(values.joined(separator: ",")))"
            case .greaterThan: key + ">" + (values.first ?? "")
            case .lessThan: key + "<" + (values.first ?? "")
            }
        }
    }

    /// Sorted by key.
    public private(set) var requirements: [Requirement]
    /// A `null` selector object selects nothing (apimachinery's `labels.Nothing()`).
    public private(set) var matchesNothing: Bool = false

    /// The selector that matches every object.
    public static let everything = LabelSelector(requirements: [])
    /// The selector that matches no object.
    public static let nothing: LabelSelector = {
        var selector = LabelSelector(requirements: [])
        selector.matchesNothing = true
        return selector
    }()

    public init(requirements: [Requirement]) {
        self.requirements = LabelSelector.sortedByKey(requirements)
    }

    /// Parses the query-string form. An empty or all-blank string selects everything.
    public init(parsing text: String) throws(SelectorError) {
        var parser = LabelSelectorParser(text)
        self.init(requirements: try parser.parse())
    }

    /// Builds a selector from a `metav1.LabelSelector` JSON object (`matchLabels` and
    /// `matchExpressions` with `In`, `NotIn`, `Exists`, `DoesNotExist`), like
    /// `LabelSelectorAsSelector`: `null` selects nothing, `{}` selects everything.
    public init(json: JSONValue) throws(SelectorError) {
        guard case .object(let fields) = json else {
            if json == .null {
                self = .nothing
                return
            }
            throw SelectorError("a label selector must be an object with matchLabels and matchExpressions")
        }
        var requirements: [Requirement] = []
        if let matchLabels = fields["matchLabels"], matchLabels != .null {
            guard case .object(let labels) = matchLabels else { throw SelectorError("matchLabels must be a map of strings") }
            for (key, value) in labels {
                guard case .string(let text) = value else { throw SelectorError("matchLabels[\(key)] must be a string") }
                requirements.append(try Requirement(key: key, operator: .equals, values: [text]))
            }
        }
        if let expressions = fields["matchExpressions"], expressions != .null {
            guard case .array(let items) = expressions else { throw SelectorError("matchExpressions must be a list") }
            for item in items {
                guard let key = item["key"]?.stringValue else { throw SelectorError("matchExpressions[].key is required") }
                let values = (item["values"]?.arrayValue ?? []).compactMap(\.stringValue)
                let op: Operator
                switch item["operator"]?.stringValue ?? "" {
                case "In": op = .in
                case "NotIn": op = .notIn
                case "Exists": op = .exists
                case "DoesNotExist": op = .doesNotExist
                case let other: throw SelectorError("\(GoQuote.quote(other)) is not a valid label selector operator")
                }
                requirements.append(try Requirement(key: key, operator: op, values: values))
            }
        }
        self.init(requirements: requirements)
    }

    /// Whether every requirement holds for `labels`.
    public func matches(_ labels: [String: String]) -> Bool {
        if matchesNothing { return false }
        return requirements.allSatisfy { $0.matches(labels) }
    }

    /// Matches the `metadata.labels` of a JSON object.
    public func matches(object: JSONValue) -> Bool {
        var labels: [String: String] = [:]
        for (key, value) in object["metadata"]?["labels"]?.objectValue ?? [:] {
            if let text = value.stringValue { labels[key] = text }
        }
        return matches(labels)
    }

    /// True when it selects every object.
    public var isEverything: Bool { !matchesNothing && requirements.isEmpty }

    /// The canonical string form, e.g. `app=web,tier in (a,b)`; empty for everything.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    private static func sortedByKey(_ requirements: [Requirement]) -> [Requirement] {
        requirements.enumerated().sorted { lhs, rhs in
            lhs.element.key == rhs.element.key ? lhs.offset < rhs.offset : lhs.element.key < rhs.element.key
        }.map(\.element)
    }
}

/// The lexer and recursive-descent parser of apimachinery's `labels.Parse`, with its messages.
struct LabelSelectorParser {
    enum Token: Equatable {
        case identifier(String)
        case doesNotExist  // !
        case equals  // =
        case doubleEquals  // ==
        case notEquals  // !=
        case greaterThan  // >
        case lessThan  // <
        case `in`
        case notIn
        case openParen
        case closeParen
        case comma
        case end

        /// The text Go prints in "found '…'" messages.
        var literal: String {
            switch self {
            case .identifier(let text): text
            case .doesNotExist: "!"
            case .equals: "="
            case .doubleEquals: "=="
            case .notEquals: "!="
            case .greaterThan: ">"
            case .lessThan: "<"
            case .in: "in"
            case .notIn: "notin"
            case .openParen: "("
            case .closeParen: ")"
            case .comma: ","
            case .end: ""
            }
        }
    }

    private var tokens: [Token] = []
    private var position = 0
    private let lexError: String?

    init(_ text: String) {
        var tokens: [Token] = []
        var lexError: String?
        let chars = Array(text)
        var index = 0
        func isSpecial(_ c: Character) -> Bool { "=!(),<>".contains(c) }
        while index < chars.count {
            let c = chars[index]
            if c.isWhitespace {
                index += 1
            } else if isSpecial(c) {
                // Longest special-symbol token, as Go's scanSpecialSymbol.
                let two = index + 1 < chars.count ? String(chars[index...index + 1]) : ""
                switch two {
                case "==": tokens.append(.doubleEquals); index += 2; continue
                case "!=": tokens.append(.notEquals); index += 2; continue
                default: break
                }
                switch c {
                case "=": tokens.append(.equals)
                case "!": tokens.append(.doesNotExist)
                case "(": tokens.append(.openParen)
                case ")": tokens.append(.closeParen)
                case ",": tokens.append(.comma)
                case "<": tokens.append(.lessThan)
                case ">": tokens.append(.greaterThan)
                default: lexError = "unexpected character \(c)"
                }
                index += 1
            } else {
                var word = ""
                while index < chars.count, !chars[index].isWhitespace, !isSpecial(chars[index]) {
                    word.append(chars[index])
                    index += 1
                }
                switch word {
                case "in": tokens.append(.in)
                case "notin": tokens.append(.notIn)
                default: tokens.append(.identifier(word))
                }
            }
        }
        tokens.append(.end)
        self.tokens = tokens
        self.lexError = lexError
    }

    /// In value position the keywords `in` and `notin` are plain identifiers (Go's `Values`
    /// context).
    private func valueToken(_ token: Token) -> Token {
        switch token {
        case .in: .identifier("in")
        case .notIn: .identifier("notin")
        default: token
        }
    }

    private func lookahead() -> Token { valueToken(tokens[position]) }

    private mutating func consume(asValue: Bool = true) -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return asValue ? valueToken(token) : token
    }

    mutating func parse() throws(SelectorError) -> [LabelSelector.Requirement] {
        if let lexError { throw SelectorError(lexError) }
        var requirements: [LabelSelector.Requirement] = []
        while true {
            let token = lookahead()
            switch token {
            case .identifier, .doesNotExist:
                requirements.append(try parseRequirementWrapped())
                let next = consume()
                switch next {
                case .end:
                    return requirements
                case .comma:
                    let after = lookahead()
                    switch after {
                    case .identifier, .doesNotExist: continue
                    default: throw SelectorError("found '\(after.literal)', expected: identifier after ','")
                    }
                default:
                    throw SelectorError("found '\(next.literal)', expected: ',' or 'end of string'")
                }
            case .end:
                return requirements
            default:
                throw SelectorError("found '\(token.literal)', expected: !, identifier, or 'end of string'")
            }
        }
    }

    private mutating func parseRequirementWrapped() throws(SelectorError) -> LabelSelector.Requirement {
        do {
            return try parseRequirement()
        } catch {
            throw SelectorError("unable to parse requirement: " + error.message)
        }
    }

    private mutating func parseRequirement() throws(SelectorError) -> LabelSelector.Requirement {
        var op: LabelSelector.Operator?
        if lookahead() == .doesNotExist {
            op = .doesNotExist
            _ = consume()
        }
        let keyToken = consume()
        guard case .identifier(let key) = keyToken else {
            throw SelectorError("found '\(keyToken.literal)', expected: identifier")
        }
        let keyProblems = NameValidation.isQualifiedName(key)
        if !keyProblems.isEmpty {
            throw SelectorError("<nil>: Invalid value: \(GoQuote.quote(key)): " + keyProblems.joined(separator: "; "))
        }
        let next = lookahead()
        if op == .doesNotExist || next == .end || next == .comma {
            // `!k` stands alone; whatever follows it is the caller's to reject.
            return try LabelSelector.Requirement(key: key, operator: op ?? .exists, values: [])
        }
        let opToken = consume(asValue: false)
        switch opToken {
        case .in, .notIn:
            let values = try parseValueSet()
            return try LabelSelector.Requirement(key: key, operator: opToken == .in ? .in : .notIn, values: values)
        case .equals, .doubleEquals, .notEquals, .greaterThan, .lessThan:
            let value = try parseExactValue()
            let mapped: LabelSelector.Operator =
                switch opToken {
                case .equals: .equals
                case .doubleEquals: .doubleEquals
                case .notEquals: .notEquals
                case .greaterThan: .greaterThan
                default: .lessThan
                }
            return try LabelSelector.Requirement(key: key, operator: mapped, values: [value])
        default:
            throw SelectorError("found '\(opToken.literal)', expected: =, !=, ==, in, notin, gt, lt")
        }
    }

    /// `(a,b)`; an empty slot, as in `()` or `(a,)`, is the empty value.
    private mutating func parseValueSet() throws(SelectorError) -> [String] {
        let open = consume()
        guard open == .openParen else { throw SelectorError("found '\(open.literal)', expected: '('") }
        var values: [String] = []
        var expectValue = true
        while true {
            let token = consume()
            switch token {
            case .identifier(let value):
                guard expectValue else { throw SelectorError("found '\(value)', expected: ',' or ')'") }
                values.append(value)
                expectValue = false
            case .comma:
                if expectValue { values.append("") }
                expectValue = true
            case .closeParen:
                if expectValue { values.append("") }
                return values
            default:
                throw SelectorError("found '\(token.literal)', expected: ',', ')' or identifier")
            }
        }
    }

    /// The single value after `=`, `==`, `!=`, `>` or `<`; nothing before `,` or the end means
    /// the empty value.
    private mutating func parseExactValue() throws(SelectorError) -> String {
        let next = lookahead()
        if next == .end || next == .comma { return "" }
        let token = consume()
        guard case .identifier(let value) = token else {
            throw SelectorError("found '\(token.literal)', expected: identifier")
        }
        return value
    }
}
