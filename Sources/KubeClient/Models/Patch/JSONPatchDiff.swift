extension JSONPatch {
    /// The operations that turn `original` into `modified`, touching as little as possible:
    /// objects are compared member by member and arrays element by element, so a change to
    /// one container of a Pod template does not rewrite the other containers (and the fields
    /// this project does not model stay as the server has them).
    ///
    /// Array elements that are objects with different `name`s are replaced whole rather than
    /// merged, so one container's unmodeled fields never end up on another. Elements added at
    /// the end become `add` operations and elements missing at the end `remove` operations;
    /// `apply(to: original)` of the result always equals `modified`.
    public static func diff(from original: JSONValue, to modified: JSONValue) -> JSONPatch {
        var operations: [Operation] = []
        appendDiff(from: original, to: modified, at: .root, into: &operations)
        return JSONPatch(operations)
    }

    /// The operations that turn the encoding of `original` into the encoding of `modified`.
    public static func diff<T: Encodable>(from original: T, to modified: T) throws -> JSONPatch {
        diff(from: try JSONValue(encoding: original), to: try JSONValue(encoding: modified))
    }

    private static func appendDiff(
        from original: JSONValue, to modified: JSONValue, at path: JSONPointer, into operations: inout [Operation]
    ) {
        guard original != modified else { return }
        switch (original, modified) {
        case (.object(let old), .object(let new)):
            for key in old.keys.sorted() where new[key] == nil {
                operations.append(.remove(path: path.appending(key)))
            }
            for key in new.keys.sorted() {
                let newValue = new[key]!
                if let oldValue = old[key] {
                    appendDiff(from: oldValue, to: newValue, at: path.appending(key), into: &operations)
                } else {
                    operations.append(.add(path: path.appending(key), value: newValue))
                }
            }
        case (.array(let old), .array(let new)):
            for index in 0..<min(old.count, new.count) {
                if sameIdentity(old[index], new[index]) {
                    appendDiff(from: old[index], to: new[index], at: path.appending(index), into: &operations)
                } else {
                    operations.append(.replace(path: path.appending(index), value: new[index]))
                }
            }
            if new.count > old.count {
                for index in old.count..<new.count {
                    operations.append(.add(path: path.appending(index), value: new[index]))
                }
            } else {
                // From the end, so each index is still valid when its turn comes.
                for index in (new.count..<old.count).reversed() {
                    operations.append(.remove(path: path.appending(index)))
                }
            }
        default:
            operations.append(.replace(path: path, value: modified))
        }
    }

    /// Whether two array elements are the same item, so that merging one into the other is safe.
    private static func sameIdentity(_ a: JSONValue, _ b: JSONValue) -> Bool {
        guard case .object(let left) = a, case .object(let right) = b else { return true }
        return left["name"] == right["name"]
    }
}
