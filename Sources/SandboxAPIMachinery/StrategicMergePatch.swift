import Foundation
import KubeClient

/// Kubernetes strategic merge patch (`application/strategic-merge-patch+json`), the apply side
/// as the API server runs it (apimachinery `strategicpatch.StrategicMergeMapPatch` with
/// `MergeParallelList` and `IgnoreUnmatchedNulls`).
///
/// - Maps merge recursively; `null` deletes a key.
/// - Lists are replaced, unless the kind's schema (`StrategicMergePatchSchema`) says to merge
///   them by a key (containers by `name`, ports by `containerPort`, …) or as a set (finalizers).
/// - Directives: `$patch: replace|delete` in a map, `$patch: replace|delete` as a list element,
///   `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
///
/// Merged lists are ordered as Go orders them: items the patch names in the patch's order (or
/// `$setElementOrder`'s), server-only items keeping their live order around them; an added item
/// the live list cannot place goes first, as in the Kubernetes docs' `kubectl patch` example.
///
/// Where Go would copy a patch value that has no counterpart in the original verbatim, this
/// applies it to an empty value instead, so directives and nulls never reach the stored
/// object (the real server loses them later, when it decodes into typed structs).
public enum StrategicMergePatch {
    static let directiveKey = "$patch"
    static let retainKeysKey = "$retainKeys"
    static let setElementOrderPrefix = "$setElementOrder/"
    static let deleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList/"

    /// Applies `patch` to `original`, an object of `kind` (e.g. `Deployment`).
    /// - Throws: `StrategicMergePatchError` for a malformed patch or directive.
    public static func apply(_ patch: JSONValue, to original: JSONValue, kind: String) throws -> JSONValue {
        try apply(patch, to: original, schema: .forKind(kind))
    }

    /// Applies `patch` with an explicit schema (for kinds the table does not know).
    public static func apply(_ patch: JSONValue, to original: JSONValue, schema: StrategicMergePatchSchema) throws -> JSONValue {
        guard case .object(let patchFields) = patch else {
            throw StrategicMergePatchError("a strategic merge patch must be a JSON object, not \(render(patch))")
        }
        let originalFields: [String: JSONValue]
        switch original {
        case .object(let fields): originalFields = fields
        case .null: originalFields = [:]
        default: throw StrategicMergePatchError("the patched object must be a JSON object, not \(render(original))")
        }
        let merger = Merger(schema: schema)
        return .object(try merger.mergeMap(originalFields, patchFields, path: ""))
    }

    /// Compact JSON for error messages.
    static func render(_ value: JSONValue) -> String {
        (try? value.data()).flatMap { String(data: $0, encoding: .utf8) } ?? "\(value)"
    }
}

/// One patch application: walks original and patch together, tracking the dotted path so the
/// schema can be consulted for each list.
private struct Merger {
    typealias Fields = [String: JSONValue]
    typealias Failure = StrategicMergePatchError
    let schema: StrategicMergePatchSchema

    private static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    func mergeMap(_ original: Fields, _ patchIn: Fields, path: String) throws(Failure) -> Fields {
        var patch = patchIn
        if let directive = patch[StrategicMergePatch.directiveKey] {
            switch directive {
            case .string("replace"):
                patch[StrategicMergePatch.directiveKey] = nil
                return try mergeMap([:], patch, path: path)
            case .string("delete"):
                return [:]
            default:
                throw Failure(
                    "unknown patch type: \(StrategicMergePatch.render(directive)) in map: \(StrategicMergePatch.render(.object(patch)))")
            }
        }

        var result = original
        if let retain = patch.removeValue(forKey: StrategicMergePatch.retainKeysKey) {
            try applyRetainKeys(retain, patch: patch, to: &result)
        }

        for key in patch.keys.sorted() where key.hasPrefix(StrategicMergePatch.setElementOrderPrefix) {
            let field = String(key.dropFirst(StrategicMergePatch.setElementOrderPrefix.count))
            guard !field.isEmpty, case .array(let order)? = patch[key] else { throw .badSetElementOrder }
            try applyElementOrder(order, field: field, path: path, result: &result, patch: &patch)
            patch[key] = nil
        }

        var deletions: [(field: String, values: JSONValue)] = []
        for key in patch.keys.sorted() {
            guard let value = patch[key] else { continue }
            if key.hasPrefix(StrategicMergePatch.deleteFromPrimitiveListPrefix) {
                let field = String(key.dropFirst(StrategicMergePatch.deleteFromPrimitiveListPrefix.count))
                guard !field.isEmpty else { throw .badPrimitiveList }
                deletions.append((field, value))
                continue
            }
            if key.hasPrefix("$") {
                throw Failure("unknown strategic merge patch directive \(GoQuote.quote(key)); use $patch, $retainKeys, $setElementOrder/<list> or $deleteFromPrimitiveList/<list>")
            }
            if value == .null {
                result[key] = nil
                continue
            }
            let childPath = Self.join(path, key)
            switch (result[key], value) {
            case (.object(let originalChild)?, .object(let patchChild)):
                result[key] = .object(try mergeMap(originalChild, patchChild, path: childPath))
            case (.array(let originalChild)?, .array(let patchChild)):
                result[key] = .array(try mergeList(originalChild, patchChild, path: childPath))
            default:
                result[key] = try fresh(value, path: childPath)
            }
        }

        // Deletions run after additions so a patch that does both ends without the values.
        for (field, values) in deletions {
            guard case .array(let toRemove) = values else { throw .badPrimitiveList }
            guard case .array(let current)? = result[field] else { continue }
            let kept = current.filter { !toRemove.contains($0) }
            result[field] = kept.isEmpty ? nil : .array(kept)
        }
        return result
    }

    /// A patch value with nothing to merge into: applied to an empty value of its own type.
    private func fresh(_ value: JSONValue, path: String) throws(Failure) -> JSONValue {
        switch value {
        case .object(let fields): .object(try mergeMap([:], fields, path: path))
        case .array(let items): .array(try mergeList([], items, path: path))
        default: value
        }
    }

    /// `$retainKeys`: keys of the original not listed are cleared; the patch may only set
    /// listed keys.
    private func applyRetainKeys(_ retain: JSONValue, patch: Fields, to result: inout Fields) throws(Failure) {
        guard case .array(let items) = retain else { throw .badRetainKeys }
        var keep = Set<String>()
        for item in items {
            guard case .string(let key) = item else { throw .badRetainKeys }
            keep.insert(key)
        }
        for (key, value) in patch where value != .null
            && !key.hasPrefix(StrategicMergePatch.deleteFromPrimitiveListPrefix)
            && !key.hasPrefix(StrategicMergePatch.setElementOrderPrefix)
        {
            guard keep.contains(key) else { throw .patchNotMatchingRetainKeys }
        }
        result = result.filter { keep.contains($0.key) }
    }

    func mergeList(_ original: [JSONValue], _ patch: [JSONValue], path: String) throws(Failure) -> [JSONValue] {
        switch schema.strategy(at: path) {
        case nil:
            return patch.map(Self.removingNulls)
        case .mergeSet:
            var additions: [JSONValue] = []
            var replace = false
            for item in patch {
                if case .object(let fields) = item, let directive = fields[StrategicMergePatch.directiveKey] {
                    guard directive == .string("replace") else {
                        throw Failure("unknown patch type: \(StrategicMergePatch.render(directive)) in list \(path)")
                    }
                    replace = true
                } else {
                    additions.append(item)
                }
            }
            if replace { return Self.deduplicated(additions) }
            return Self.ordered(Self.deduplicated(original + additions), by: additions, live: original, mergeKey: nil)
        case .mergeByKey(let key):
            return try mergeKeyedList(original, patch, key: key, path: path)
        }
    }

    private func mergeKeyedList(_ original: [JSONValue], _ patch: [JSONValue], key: String, path: String) throws(Failure) -> [JSONValue] {
        let elementPath = path + "[]"
        var working = original
        var plain: [Fields] = []
        var replace = false
        for element in patch {
            guard case .object(let fields) = element else {
                throw Failure("the elements of \(path) are merged on \"\(key)\" and must be objects, not \(StrategicMergePatch.render(element))")
            }
            guard let directive = fields[StrategicMergePatch.directiveKey] else {
                plain.append(fields)
                continue
            }
            switch directive {
            case .string("delete"):
                guard let value = fields[key] else { throw Self.noMergeKey(fields, key) }
                working.removeAll { $0[key] == value }
            case .string("replace"):
                replace = true
            case .string("merge"):
                throw Failure("merging lists cannot yet be specified in the patch")
            default:
                throw Failure("unknown patch type: \(StrategicMergePatch.render(directive)) in map: \(StrategicMergePatch.render(.object(fields)))")
            }
        }
        if replace {
            var replaced: [JSONValue] = []
            for fields in plain { replaced.append(.object(try mergeMap([:], fields, path: elementPath))) }
            return replaced
        }
        let live = working
        for fields in plain {
            guard let value = fields[key], value != .null else { throw Self.noMergeKey(fields, key) }
            if let index = working.firstIndex(where: { $0[key] == value }), case .object(let existing) = working[index] {
                working[index] = .object(try mergeMap(existing, fields, path: elementPath))
            } else {
                working.append(.object(try mergeMap([:], fields, path: elementPath)))
            }
        }
        // Items the patch names come in the patch's order (Go's mergeSlice "enforce the order").
        return Self.ordered(working, by: plain.map(JSONValue.object), live: live, mergeKey: key)
    }

    // MARK: $setElementOrder

    /// Merges the patch list for `field` now and puts the result in the order the directive
    /// gives: listed items in that order, items only on the server keep their place relative to
    /// them as far as the live order allows.
    private func applyElementOrder(
        _ order: [JSONValue], field: String, path: String, result: inout Fields, patch: inout Fields
    ) throws(Failure) {
        let listPath = Self.join(path, field)
        let mergeKey: String? = if case .mergeByKey(let key)? = schema.strategy(at: listPath) { key } else { nil }
        let patchList: [JSONValue]?
        switch patch[field] {
        case nil: patchList = nil
        case .array(let items)?: patchList = items
        default: throw .badSetElementOrder
        }
        if let mergeKey {
            for item in order where item[mergeKey] == nil {
                throw Self.noMergeKey(item.objectValue ?? [:], mergeKey)
            }
        }
        if let patchList {
            try Self.checkRelativeOrder(patchList, order, mergeKey: mergeKey)
        }

        let originalList = result[field]?.arrayValue
        let merged: [JSONValue]
        switch (originalList, patchList) {
        case (nil, nil): return
        case (nil, let items?): merged = try mergeList([], items, path: listPath)
        case (let items?, nil): merged = items
        case (let live?, let items?): merged = try mergeList(live, items, path: listPath)
        }

        let final = Self.ordered(merged, by: order, live: originalList ?? [], mergeKey: mergeKey)
        result[field] = final.isEmpty ? nil : .array(final)
        patch[field] = nil
    }

    /// Go's `normalizeElementOrder`: the items of `merged` that `order` names come in that
    /// order; the others (only on the server) keep their live order, and each goes in front of
    /// the next named item when the live list had it in front of that item.
    private static func ordered(_ merged: [JSONValue], by order: [JSONValue], live: [JSONValue], mergeKey: String?) -> [JSONValue] {
        func position(of item: JSONValue, in list: [JSONValue]) -> Int? {
            if let mergeKey {
                guard let value = item[mergeKey] else { return nil }
                return list.firstIndex { $0[mergeKey] == value }
            }
            return list.firstIndex(of: item)
        }
        func stableSorted(_ items: [JSONValue], by list: [JSONValue]) -> [JSONValue] {
            items.enumerated().sorted { lhs, rhs in
                let l = position(of: lhs.element, in: list) ?? Int.max
                let r = position(of: rhs.element, in: list) ?? Int.max
                return l == r ? lhs.offset < rhs.offset : l < r
            }.map(\.element)
        }

        let named = stableSorted(merged.filter { position(of: $0, in: order) != nil }, by: order)
        let serverOnly = stableSorted(merged.filter { position(of: $0, in: order) == nil }, by: live)

        var result: [JSONValue] = []
        var left = serverOnly[...]
        var right = named[...]
        while let l = left.first, let r = right.first {
            if let li = position(of: l, in: live), let ri = position(of: r, in: live), li < ri {
                result.append(l)
                left.removeFirst()
            } else {
                result.append(r)
                right.removeFirst()
            }
        }
        return result + left + right
    }

    /// The patch list must not contradict the order directive (Go's
    /// `validatePatchWithSetOrderList`).
    private static func checkRelativeOrder(_ patchList: [JSONValue], _ order: [JSONValue], mergeKey: String?) throws(Failure) {
        let items = patchList.filter { $0[StrategicMergePatch.directiveKey] == nil }
        guard !items.isEmpty, !order.isEmpty else { return }
        var patchIndex = 0
        var orderIndex = 0
        while patchIndex < items.count && orderIndex < order.count {
            let same: Bool
            if let mergeKey {
                same = items[patchIndex][mergeKey] != nil && items[patchIndex][mergeKey] == order[orderIndex][mergeKey]
            } else {
                same = items[patchIndex] == order[orderIndex]
            }
            if same { patchIndex += 1 }
            orderIndex += 1
        }
        if patchIndex < items.count {
            throw Failure(
                "The order in patch list: \(StrategicMergePatch.render(.array(patchList))) doesn't match $setElementOrder list: \(StrategicMergePatch.render(.array(order)))")
        }
    }

    // MARK: Helpers

    private static func noMergeKey(_ fields: Fields, _ key: String) -> Failure {
        Failure("map: \(StrategicMergePatch.render(.object(fields))) does not contain declared merge key: \(key)")
    }

    private static func deduplicated(_ items: [JSONValue]) -> [JSONValue] {
        var seen = Set<JSONValue>()
        return items.filter { seen.insert($0).inserted }
    }

    /// Values taken wholesale lose their nulls, as a typed round trip on the real server does.
    static func removingNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields): .object(fields.filter { $0.value != .null }.mapValues(removingNulls))
        case .array(let items): .array(items.map(removingNulls))
        default: value
        }
    }
}
