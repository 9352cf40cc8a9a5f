import Foundation
import Ledger
import Testing

/// The genesis price of a DHT answer (specs/blocks.md, specs/credit.md §Metering in practice): written to
/// the `params` record only when the file gives it, so that every chain made before it keeps its state
/// root, and 1,024 bandwidth units when absent.
@Suite struct DHTQueryCoefficientTests {
    static func genesis(dhtQuery: UInt64?) -> Genesis {
        var genesis = Genesis.development(chainID: "dht-price", timeMillis: 0, bookkeeper: testKey(0).publicKey, balances: [(testKey(1).publicKey.id, 1_000)])
        genesis.parameters.coefficients.dhtQuery = dhtQuery
        return genesis
    }

    @Test func anAbsentPriceIsNotWrittenAndIsTheDefault() throws {
        let (state, _) = try Self.genesis(dhtQuery: nil).build()
        let params = try #require(state.record(ChainParameters.self, at: ChainParameters.stateKey))
        #expect(params.dhtQueryCoefficient == nil && params.dhtQueryUnits == ChainParameters.dhtQueryDefault)
        #expect(params.fields["dhtQuery"] == nil)
        #expect(!String(decoding: Self.genesis(dhtQuery: nil).encodeJSON(), as: UTF8.self).contains("dht_query"))
    }

    @Test func aGivenPriceIsInTheStateAndChangesTheRoot() throws {
        let priced = Self.genesis(dhtQuery: 65_536)
        let (state, block) = try priced.build()
        let params = try #require(state.record(ChainParameters.self, at: ChainParameters.stateKey))
        #expect(params.dhtQueryCoefficient == 65_536 && params.dhtQueryUnits == 65_536)
        #expect(block.header.stateRoot != (try Self.genesis(dhtQuery: nil).build()).block.header.stateRoot)
        // The file round-trips with the field, and a node that reads it builds the same block 0.
        let reread = try Genesis.decode(json: priced.encodeJSON())
        #expect(reread.parameters.coefficients.dhtQuery == 65_536)
        #expect(try reread.build().block.hash == block.hash)
    }

    @Test func aPriceOfNothingOrOfMoreThanAReceiptIntervalIsRefused() throws {
        #expect(throws: Genesis.Invalid.self) { try Self.genesis(dhtQuery: 0).build() }
        #expect(throws: Genesis.Invalid.self) { try Self.genesis(dhtQuery: ChainParameters.dhtQueryMax + 1).build() }
        #expect(throws: Genesis.Invalid.self) { try Self.genesis(dhtQuery: .max).build() }
        _ = try Self.genesis(dhtQuery: ChainParameters.dhtQueryMax).build()
        _ = try Self.genesis(dhtQuery: 1).build()
    }

    @Test func aPriceThatIsNotANumberIsRefused() {
        let json = String(decoding: Self.genesis(dhtQuery: 1).encodeJSON(), as: UTF8.self).replacingOccurrences(of: "\"dht_query\" : 1", with: "\"dht_query\" : -1")
        #expect(json.contains("-1"))
        #expect(throws: Genesis.Invalid.self) { try Genesis.decode(json: Data(json.utf8)) }
    }
}
