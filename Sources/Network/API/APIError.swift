import Foundation
import Hummingbird
import Ledger
import Storage

/// An API failure: an HTTP status and a one-line reason with a stable code, sent as
/// `{"error": {"code": "...", "message": "..."}}` (specs/openapi.yaml, Error).
public struct APIError: HTTPResponseError {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    /// Longest message sent, in characters (specs/openapi.yaml, Error).
    public static let messageMax = 300

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = APIError.oneLine(message, max: APIError.messageMax)
    }

    /// `text` on one line: control characters (newlines included) escaped as `\n`, `\u{7f}`…, and at
    /// most `max` Unicode scalars (as JSON Schema counts `maxLength`; cut text ends in `…`), so that no
    /// message echoes unbounded or multi-line input.
    public static func oneLine(_ text: some StringProtocol, max: Int) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default:
                let category = scalar.properties.generalCategory
                if category == .control || category == .format || category == .lineSeparator || category == .paragraphSeparator {
                    out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
                } else {
                    out.append(scalar)
                }
            }
            // Enough to know it must be cut: stop reading unbounded input early.
            if out.count > max { break }
        }
        guard out.count > max else { return String(out) }
        return String(String.UnicodeScalarView(out.prefix(Swift.max(max - 1, 0)))) + "…"
    }

    public static func notFound(_ what: String) -> APIError { APIError(.notFound, "not_found", "\(what) not found") }
    public static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    public static func rejected(_ rejection: Rejection) -> APIError { APIError(.badRequest, rejection.code.rawValue, rejection.message) }
    public static func store(_ error: StoreError) -> APIError { APIError(.internalServerError, "store", error.description) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(["error": ["code": code, "message": message]], status: status)
    }
}

enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Parses path and query values, turning bad ones into a 400 with the reason.
enum Parse {
    /// Input quoted in an error message: on one line, at most 64 characters.
    static func quote(_ text: some StringProtocol) -> String { "'" + APIError.oneLine(text, max: 64) + "'" }

    static func id(_ text: Substring, what: String = "ID") throws -> ID {
        do { return try ID(text: String(text)) } catch { throw APIError.badRequest("\(what) \(quote(text)): \(error)") }
    }

    static func digest(_ text: Substring, what: String) throws -> Digest {
        guard let digest = Digest(hex: String(text)) else { throw APIError.badRequest("\(what) must be 64 hex characters") }
        return digest
    }

    static func height(_ text: Substring) throws -> UInt64 {
        guard let height = UInt64(text) else { throw APIError.badRequest("height \(quote(text)) is not a non-negative integer") }
        return height
    }

    static func limit(_ text: Substring?, default defaultValue: Int, max maxValue: Int) throws -> Int {
        guard let text else { return defaultValue }
        guard let value = Int(text), value > 0, value <= maxValue else {
            throw APIError.badRequest("limit must be an integer from 1 to \(maxValue)")
        }
        return value
    }
}
