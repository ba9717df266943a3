import Foundation
import HTTPTypes
import Hummingbird
import OmbudsEngine
import OmbudsStore

/// Every error the API answers with: `{"error": {"code", "message", …}}`, the code stable
/// and documented (Documentation/HTTP.md), the message the store's own where the store
/// refused. No stack trace, SQL or file path ever reaches a response.
public struct APIError: Error, Sendable {
  /// The stable error codes, with their status.
  public enum Code: String, Sendable, CaseIterable {
    case invalidJSON = "invalid_json"
    case invalidParameter = "invalid_parameter"
    case unauthorized
    case forbidden
    case actorMismatch = "actor_mismatch"
    case notFound = "not_found"
    case caseNotFound = "case_not_found"
    case methodNotAllowed = "method_not_allowed"
    case versionConflict = "version_conflict"
    case caseExists = "case_exists"
    case transitionRefused = "transition_refused"
    case gateClosed = "gate_closed"
    case refused
    case payloadTooLarge = "payload_too_large"
    case batchTooLarge = "batch_too_large"
    case unsupportedMediaType = "unsupported_media_type"
    case invalidEvent = "invalid_event"
    case invalidCase = "invalid_case"
    case timeout
    case busy
    case notReady = "not_ready"
    case `internal`

    public var status: HTTPResponse.Status {
      switch self {
      case .invalidJSON, .invalidParameter: .badRequest
      case .unauthorized: .unauthorized
      case .forbidden, .actorMismatch: .forbidden
      case .notFound, .caseNotFound: .notFound
      case .methodNotAllowed: .methodNotAllowed
      case .versionConflict, .caseExists, .transitionRefused, .gateClosed, .refused: .conflict
      case .payloadTooLarge, .batchTooLarge: .contentTooLarge
      case .unsupportedMediaType: .unsupportedMediaType
      case .invalidEvent, .invalidCase: .unprocessableContent
      case .timeout, .busy, .notReady: .serviceUnavailable
      case .internal: .internalServerError
      }
    }
  }

  public var code: Code
  public var message: String
  /// The request field concerned, when one is.
  public var field: String?
  /// The rule that refused (`file:line:column`), when a rule did.
  public var rule: String?
  /// Extra members of the error object (already JSON text), e.g. `current_version`.
  public var extra: [(String, String)] = []
  public var headers: HTTPFields = [:]

  public init(_ code: Code, _ message: String, field: String? = nil, rule: String? = nil) {
    self.code = code
    self.message = message
    self.field = field
    self.rule = rule
  }

  /// The error object, as JSON text.
  var json: String {
    J.object([
      (
        "error",
        J.object(
          [
            ("code", J.str(code.rawValue)), ("message", J.str(message)), ("field", field.map(J.str)),
            ("rule", rule.map(J.str)),
          ]
            + extra.map { ($0.0, Optional($0.1)) })
      )
    ])
  }

  /// The response for this error.
  func response() -> Response {
    var headers = self.headers
    headers[.contentType] = "application/json; charset=utf-8"
    return Response(
      status: code.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json + "\n")))
  }

  /// The field a store message names (`field \`x\``, `` `x` ``), for the error's `field`.
  static func fieldNamed(in message: String) -> String? {
    guard let r = message.range(of: "field `") else { return nil }
    let rest = message[r.upperBound...]
    guard let end = rest.firstIndex(of: "`") else { return nil }
    return String(rest[..<end])
  }

  /// The API error for a store error: its message kept, its kind mapped to a status.
  public init(_ error: StoreError) {
    switch error {
    case .invalidEvent(let m):
      self.init(.invalidEvent, m, field: Self.fieldNamed(in: m))
    case .unknownCase:
      self.init(.caseNotFound, error.description)
    case .caseExists:
      self.init(.caseExists, error.description)
    case .invalidCase(_, let m):
      self.init(.invalidCase, error.description, field: Self.fieldNamed(in: m))
    case .conflict(_, _, let actual):
      self.init(.versionConflict, error.description)
      extra = [("current_version", "\(actual)")]
      headers[.eTag] = "\"\(actual)\""
    case .illegalTransition:
      self.init(.transitionRefused, error.description)
    case .gate:
      self.init(.gateClosed, error.description)
    case .forbidden:
      self.init(.refused, error.description)
    case .notPermitted(_, let m, let rule):
      self.init(.forbidden, m, rule: rule)
    case .invalidArgument(let m):
      self.init(.invalidParameter, m)
    case .notFound(let m):
      self.init(.notFound, m)
    case .retry:
      self.init(.busy, "the store is busy with concurrent writes to the same case; retry")
      headers[.retryAfter] = "1"
    case .database:
      self.init(.internal, "the store failed; the server log has the details")
    }
  }
}
