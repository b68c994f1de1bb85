/// A strategic merge patch the server cannot apply. `message` follows apimachinery's wording
/// where it has one; `statusCode` is the HTTP status the real server answers with.
public struct StrategicMergePatchError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// 400 for malformed patches and directives, 422 where Go answers Unprocessable Entity.
    public var statusCode: Int

    public init(_ message: String, statusCode: Int = 400) {
        self.message = message
        self.statusCode = statusCode
    }

    public var description: String { message }

    static let badRetainKeys = StrategicMergePatchError("invalid patch format of retainKeys")
    static let patchNotMatchingRetainKeys = StrategicMergePatchError(
        "patch content doesn't match retainKeys list", statusCode: 422)
    static let badSetElementOrder = StrategicMergePatchError("invalid patch format of setElementOrder list")
    static let badPrimitiveList = StrategicMergePatchError("invalid patch format of primitive list")
}
