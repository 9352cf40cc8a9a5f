import Ledger
import Testing

/// The database MiMei's pure parts (specs/content.md §Database MiMei): RESP commands parsed whole,
/// pipelined, incomplete or hostile; a version's buckets and root encoded and decoded back to the same
/// data; hostile blocks refused.
@Suite struct DatabaseMiMeiTests {
    @Test func commandsParseWholePipelinedInlineAndIncomplete() throws {
        let two = Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n".utf8)
        let first = try #require(try RESP.parseCommand(two, from: 0))
        #expect(first.arguments == [Array("GET".utf8), Array("k".utf8)])
        let second = try #require(try RESP.parseCommand(two, from: first.next))
        #expect(second.arguments == [Array("PING".utf8)] && second.next == two.count)
        // Every cut of a command is incomplete, never an error.
        for cut in 1..<first.next { #expect(try RESP.parseCommand(Array(two.prefix(cut)), from: 0) == nil) }
        #expect(try RESP.parseCommand(Array("SET a  b\r\n".utf8), from: 0)?.arguments == [Array("SET".utf8), Array("a".utf8), Array("b".utf8)])
        for hostile in ["*1\r\n$x\r\n", "*1\r\n+OK\r\n", "*99999999999\r\n", "*1\r\n$-5\r\n", "*1\r\n$" + String(repeating: "9", count: 80) + "\r\n"] {
            #expect(throws: RESP.ParseError.self) { try RESP.parseCommand(Array(hostile.utf8), from: 0) }
        }
        #expect(RESP.array([.bulk("a"), .null, .integer(-3), .error("ERR x"), .ok]).encoded == Array("*5\r\n$1\r\na\r\n$-1\r\n:-3\r\n-ERR x\r\n+OK\r\n".utf8))
    }

    @Test func aVersionDecodesToTheSameDataAndOnlyChangedBucketsChange() throws {
        var database = KeyValueDatabase()
        func run(_ words: String) -> RESP {
            let parts = words.split(separator: " ").map { Array($0.utf8) }
            return database.execute(String(decoding: parts[0], as: UTF8.self), Array(parts.dropFirst()))
        }
        #expect(run("set s hello") == .ok)
        #expect(run("hset h b 2 a 1") == .integer(2))
        #expect(run("rpush l x y z") == .integer(3))
        #expect(run("sadd set 3 1 2") == .integer(3))
        #expect(run("zadd z 1.5 m 2 n") == .integer(2))
        #expect(run("lpush s x") == .error("WRONGTYPE Operation against a key holding the wrong kind of value"))
        #expect(run("incr s") == .error("ERR value is not an integer or out of range"))
        for index in 0..<300 { _ = run("set key\(index) \(index)") }
        // Encode every bucket, then decode the version and compare.
        var blocks: [Int: (cid: CID, size: Int)] = [:], stored: [CID: [UInt8]] = [:]
        let byBucket = Dictionary(grouping: database.entries.keys) { DatabaseSnapshot.bucket(of: $0) }
        for (index, keys) in byBucket {
            let block = try #require(try DatabaseSnapshot.encodeBucket(keys, in: database.entries))
            blocks[index] = (CID.dagCBOR(block), block.count)
            stored[CID.dagCBOR(block)] = block
        }
        let root = DatabaseSnapshot.encodeRoot(buckets: blocks, keys: database.entries.count)
        var decoded: [[UInt8]: RedisValue] = [:]
        for (index, cid) in try DatabaseSnapshot.decodeRoot(root) {
            for (key, value) in try DatabaseSnapshot.decodeBucket(try #require(stored[cid]), index: index) { decoded[key] = value }
        }
        #expect(decoded == database.entries)
        #expect(try DatabaseSnapshot.decodeRoot(root).count == byBucket.count)
        // A bucket claiming a key of another bucket, or a root that is no database, is refused.
        let key = Array("s".utf8), wrongIndex = (DatabaseSnapshot.bucket(of: key) + 1) % 256
        let block = try #require(try DatabaseSnapshot.encodeBucket([key], in: database.entries))
        #expect(throws: DatabaseSnapshot.Failure.self) { try DatabaseSnapshot.decodeBucket(block, index: wrongIndex) }
        #expect(throws: DatabaseSnapshot.Failure.self) { try DatabaseSnapshot.decodeRoot(DagPB.encode(links: [], data: [1, 2, 3])) }
        #expect(throws: DatabaseSnapshot.Failure.self) { try DatabaseSnapshot.decodeBucket(Array("not cbor".utf8), index: 0) }
    }

    @Test func globPatternsAndHostilePatternsEnd() {
        var database = KeyValueDatabase()
        for key in ["user:1", "user:2", "user:10", "admin"] { _ = database.execute("set", [Array(key.utf8), [49]]) }
        #expect(database.execute("keys", [Array("user:?".utf8)]) == .array([.bulk("user:1"), .bulk("user:2")]))
        #expect(database.execute("keys", [Array("[a-b]*".utf8)]) == .array([.bulk("admin")]))
        #expect(database.execute("keys", [Array("*".utf8)]) == .array(["admin", "user:1", "user:10", "user:2"].map { .bulk($0) }))
        // Many stars against a long key: bounded work, an answer.
        _ = database.execute("set", [Array(repeating: 97, count: 4_000), [1]])
        #expect(database.execute("keys", [Array(String(repeating: "*a", count: 200).utf8) + [98]]) == .array([]))
    }
}
