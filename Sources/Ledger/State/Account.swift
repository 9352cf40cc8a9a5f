/// An account's balance (in bandwidth bytes) and the nonce its next transaction must carry.
/// Stored at the account's own ID. An account that never appeared reads as zero balance, nonce 0.
public struct Account: StateRecord, Equatable {
    public static let kind = "account"
    public var balance: UInt64
    public var nonce: UInt64

    public init(balance: UInt64 = 0, nonce: UInt64 = 0) {
        self.balance = balance
        self.nonce = nonce
    }

    public var fields: [String: CBOR] { ["balance": .unsigned(balance), "nonce": .unsigned(nonce)] }

    public init(fields: inout CBORFields) throws(DecodeError) {
        balance = try fields.unsigned("balance")
        nonce = try fields.unsigned("nonce")
    }
}
