/// The SPDY/3 header-compression dictionary (SPDY/3 spec, section 2.6.10.1).
///
/// Both peers prime their zlib streams with it, so it must match the spec byte for byte or
/// the peer's inflate fails. It is built here from its structure: a list of 32-bit
/// length-prefixed header words, followed by unprefixed status lines, dates and media types.
enum SPDYDictionary {
    static let bytes: [UInt8] = {
        let prefixedWords = [
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
            "accept-encoding", "accept-language", "accept-ranges", "age", "allow", "authorization",
            "cache-control", "connection", "content-base", "content-encoding", "content-language",
            "content-length", "content-location", "content-md5", "content-range", "content-type",
            "date", "etag", "expect", "expires", "from", "host", "if-match", "if-modified-since",
            "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
            "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range",
            "referer", "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade",
            "user-agent", "vary", "via", "warning", "www-authenticate", "method", "get", "status",
            "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive", "origin",
        ]
        let tail = [
            "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
            "203 Non-Authoritative Information", "204 No Content", "301 Moved Permanently",
            "400 Bad Request", "401 Unauthorized", "403 Forbidden", "404 Not Found",
            "500 Internal Server Error", "501 Not Implemented", "503 Service Unavailable",
            "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ",
            "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT",
            "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,",
            "text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch",
            "charset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
        ]
        var out: [UInt8] = []
        for word in prefixedWords {
            let utf8 = Array(word.utf8)
            let n = UInt32(utf8.count)
            out += [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)]
            out += utf8
        }
        for piece in tail { out += Array(piece.utf8) }
        return out
    }()
}
