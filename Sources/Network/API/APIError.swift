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

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
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
    static func id(_ text: Substring, what: String = "ID") throws -> ID {
        do { return try ID(text: String(text)) } catch { throw APIError.badRequest("\(what) '\(text)': \(error)") }
    }

    static func digest(_ text: Substring, what: String) throws -> Digest {
        guard let digest = Digest(hex: String(text)) else { throw APIError.badRequest("\(what) must be 64 hex characters") }
        return digest
    }

    static func height(_ text: Substring) throws -> UInt64 {
        guard let height = UInt64(text) else { throw APIError.badRequest("height '\(text)' is not a non-negative integer") }
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
