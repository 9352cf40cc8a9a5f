/// The Content-Type of served content: by the name's extension, else by sniffing the first bytes as Go's
/// `http.DetectContentType` does for the types a gateway commonly serves (Kubo sniffs with it).
enum ContentType {
    static let byExtension: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8", "json": "application/json",
        "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8", "xml": "text/xml; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "webp": "image/webp", "ico": "image/vnd.microsoft.icon", "avif": "image/avif", "mp4": "video/mp4", "webm": "video/webm",
        "mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav", "pdf": "application/pdf", "wasm": "application/wasm",
        "zip": "application/zip", "woff": "font/woff", "woff2": "font/woff2", "car": "application/vnd.ipld.car",
    ]

    static func of(name: String?, head: [UInt8]) -> String {
        if let name, let dot = name.lastIndex(of: "."), let type = byExtension[name[name.index(after: dot)...].lowercased()] { return type }
        return sniff(head)
    }

    static func sniff(_ bytes: [UInt8]) -> String {
        let head = Array(bytes.prefix(512))
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool { head.count >= offset + prefix.count && Array(head[offset..<offset + prefix.count]) == prefix }
        let text = head.drop { [0x09, 0x0a, 0x0c, 0x0d, 0x20].contains($0) }
        let upper = String(decoding: text.prefix(14), as: UTF8.self).uppercased()
        for tag in ["<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"]
        where upper.hasPrefix(tag) {
            let next = text.dropFirst(tag.utf8.count).first
            if next == 0x20 || next == 0x3e { return "text/html; charset=utf-8" }
        }
        if upper.hasPrefix("<?XML") { return "text/xml; charset=utf-8" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        if starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) { return "image/png" }
        if starts([0xff, 0xd8, 0xff]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBPVP".utf8), at: 8) { return "image/webp" }
        if starts(Array("ftyp".utf8), at: 4) { return "video/mp4" }
        if starts([0x1a, 0x45, 0xdf, 0xa3]) { return "video/webm" }
        if starts(Array("ID3".utf8)) { return "audio/mpeg" }
        if starts(Array("OggS".utf8)) { return "application/ogg" }
        if starts([0x50, 0x4b, 0x03, 0x04]) { return "application/zip" }
        if starts([0x00, 0x61, 0x73, 0x6d]) { return "application/wasm" }
        // Text when no byte is a control character other than tab, newline, form feed, return and escape.
        if !head.contains(where: { $0 < 0x20 && ![0x09, 0x0a, 0x0c, 0x0d, 0x1b].contains($0) }) { return "text/plain; charset=utf-8" }
        return "application/octet-stream"
    }
}
