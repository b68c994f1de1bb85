/// Objects always carry `metadata` in what the API server sends, but a hand-written manifest
/// or a partial object may omit it. Synthesized decoders in this module call this overload
/// (it is more specific than the generic one), so a missing `metadata` decodes as empty
/// instead of failing.
extension KeyedDecodingContainer {
    func decode(_ type: ObjectMeta.Type, forKey key: Key) throws -> ObjectMeta {
        try decodeIfPresent(type, forKey: key) ?? ObjectMeta()
    }
}
