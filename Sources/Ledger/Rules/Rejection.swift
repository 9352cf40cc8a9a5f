/// Why the ledger refused a transaction or a block: a stable code for programs (listed in
/// specs/transactions.md) and a one-line message for people.
public struct Rejection: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Codes are strings so that Credit and Consensus can add their own without touching Ledger.
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }

        public static let malformed: Code = "malformed"
        public static let tooLarge: Code = "too_large"
        public static let wrongChain: Code = "wrong_chain"
        public static let expired: Code = "expired"
        public static let badSignature: Code = "bad_signature"
        public static let badNonce: Code = "bad_nonce"
        public static let unknownType: Code = "unknown_type"
        public static let wrongSigners: Code = "wrong_signers"
        public static let amountNotPositive: Code = "amount_not_positive"
        public static let insufficientBalance: Code = "insufficient_balance"
        public static let overflow: Code = "overflow"
        public static let selfReference: Code = "self_reference"
        public static let unknownOrganization: Code = "unknown_organization"
        public static let organizationExists: Code = "organization_exists"
        public static let notSupervisor: Code = "not_supervisor"
        public static let alreadyMember: Code = "already_member"
        public static let notApplicant: Code = "not_applicant"
        public static let notMember: Code = "not_member"
        public static let lastSupervisor: Code = "last_supervisor"
        public static let invalidRole: Code = "invalid_role"
        public static let duplicate: Code = "duplicate"
        public static let mempoolFull: Code = "mempool_full"
        /// A stored record does not decode: a bug in a rule, refused rather than trapped.
        public static let unreadableRecord: Code = "unreadable_record"
    }
}

extension Rejection {
    static func malformed(_ error: DecodeError) -> Rejection { Rejection(.malformed, error.description) }
}
