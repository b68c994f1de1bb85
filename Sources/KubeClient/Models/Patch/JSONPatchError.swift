/// Why a JSON Patch could not be applied: which operation failed and on what.
public struct JSONPatchError: Error, Hashable, CustomStringConvertible {
    /// The position of the failed operation in the patch, from 0.
    public var operationIndex: Int
    /// The failed operation's `op`, e.g. `"replace"`.
    public var op: String
    public var reason: Reason

    public init(operationIndex: Int, op: String, reason: Reason) {
        self.operationIndex = operationIndex
        self.op = op
        self.reason = reason
    }

    public enum Reason: Error, Hashable {
        /// Nothing at the path (or at `from`), or the parent of the path does not exist.
        case missingPath(JSONPointer)
        /// The last token is not a valid index of the array (out of range, not a number, or `-`
        /// where an existing element is required).
        case invalidArrayIndex(JSONPointer)
        /// The parent of the path is neither an object nor an array.
        case notAContainer(JSONPointer)
        /// A `test` found a different value.
        case testFailed(path: JSONPointer, expected: JSONValue, actual: JSONValue)
        /// A `move` into a child of the value being moved.
        case moveIntoItself(from: JSONPointer, path: JSONPointer)
        /// A `remove` of the whole document (path `""`).
        case cannotRemoveDocument
    }

    public var description: String {
        let (problem, remedy): (String, String)
        switch reason {
        case .missingPath(let path):
            problem = "nothing exists at \"\(path)\""
            remedy = "fetch the object again and build the patch from its current content"
        case .invalidArrayIndex(let path):
            problem = "\"\(path)\" does not name an element of the array"
            remedy = "use an index within its length (or \"-\" to append with add)"
        case .notAContainer(let path):
            problem = "the parent of \"\(path)\" is neither an object nor an array"
            remedy = "point at a member of an object or an element of an array"
        case .testFailed(let path, let expected, let actual):
            problem = "\"\(path)\" is \(Self.render(actual)), not \(Self.render(expected))"
            remedy = "the object changed meanwhile, so fetch it again and retry"
        case .moveIntoItself(let from, let path):
            problem = "it moves \"\(from)\" into its own child \"\(path)\""
            remedy = "move it elsewhere"
        case .cannotRemoveDocument:
            problem = "it removes the whole document"
            remedy = "use replace with path \"\" instead"
        }
        return "JSON Patch operation \(operationIndex) (\(op)) failed because \(problem); \(remedy)."
    }

    private static func render(_ value: JSONValue) -> String {
        (try? value.data()).map { String(decoding: $0, as: UTF8.self) } ?? "a value"
    }
}
