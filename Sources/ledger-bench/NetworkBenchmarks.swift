import Foundation
import Ledger
import LedgerNetwork
import NetworkTestSupport
import NIOCore
import NIOPosix

/// Issue 5's bars: stream throughput through Noise + yamux against a plain TCP copy of the same bytes,
/// connection set-ups per second, and DHT lookup latency in a 100-node loopback network; plus the
/// 1,000-node churn simulation's figures. Everything runs on loopback in this process.
enum NetworkBenchmarks {
    struct Figure {
        let name: String, value: String, note: String, key: String
        let raw: Any
    }

    /// `streamOnly`: just the throughput pair (for profiling the data path).
    static func run(quick: Bool, streamOnly: Bool = false) async throws -> [Figure] {
        var figures: [Figure] = []
        let bytes = quick ? 32 << 20 : 256 << 20
        let plain = try await plainTCP(bytes: bytes)
        let full = try await fullStack(bytes: bytes)
        figures.append(Figure(name: "Plain TCP copy over loopback (reference)", value: "\(formatted(plain / 1_048_576)) MiB/s",
                              note: "\(bytes >> 20) MiB, NIO async channels, 64 KiB writes", key: "p2p_plain_tcp_mib_per_s", raw: plain / 1_048_576))
        figures.append(Figure(name: "Stream throughput through Noise + yamux", value: "\(formatted(full / 1_048_576)) MiB/s",
                              note: "ratio to plain TCP: \(formatted(full / plain, decimals: 3))", key: "p2p_stream_ratio_to_tcp", raw: full / plain))
        if streamOnly { return figures }
        let setups = try await connectionSetups(count: quick ? 50 : 300)
        figures.append(Figure(name: "Connection set-ups (TCP + multistream + Noise XX + yamux), one at a time", value: "\(formatted(setups, decimals: 1))/s",
                              note: "dial to a ready session, then close", key: "p2p_connection_setups_per_s", raw: setups))
        let lookups = try await dhtLatency(nodes: 100, lookups: quick ? 100 : 500)
        figures.append(Figure(name: "DHT lookup latency, 100-node loopback network", value: "p50 \(formatted(lookups.p50, decimals: 2)) ms, p99 \(formatted(lookups.p99, decimals: 2)) ms",
                              note: "\(lookups.count) FIND_NODE lookups for random node IDs, α = 3, k = 20; found \(lookups.found)", key: "p2p_dht_lookup_ms",
                              raw: ["p50": lookups.p50, "p99": lookups.p99, "found": lookups.found, "count": lookups.count]))
        let simulation = DHTSimulation()
        await simulation.build(count: 1000, seed: 5)
        simulation.churn(share: 0.2, seed: 9)
        let outcome = await simulation.measure(lookups: 1000, seed: 11)
        figures.append(Figure(name: "DHT simulation, 1,000 nodes, 20 % gone without notice", value: "\(formatted(outcome.successRate * 100, decimals: 1)) % found",
                              note: "\(outcome.lookups) lookups; mean \(formatted(outcome.meanHops, decimals: 2)) hops, longest \(outcome.maxHops) (log2 N = 9.97)",
                              key: "p2p_dht_simulation", raw: ["success_rate": outcome.successRate, "mean_hops": outcome.meanHops, "max_hops": outcome.maxHops]))
        return figures
    }

    static func seconds(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// The reference: the same bytes over a plain NIO TCP connection, counted by the receiver.
    static func plainTCP(bytes: Int) async throws -> Double {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let port = server.channel.localAddress!.port!
        let serverTask = Task {
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    try await connection.executeThenClose { input, output in
                        var received = 0
                        for try await buffer in input {
                            received += buffer.readableBytes
                            if received >= bytes { break }
                        }
                        try await output.write(ByteBuffer(bytes: [1]))
                    }
                    break
                }
            }
        }
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        let chunk = [UInt8](repeating: 0x5a, count: 64 * 1024)
        let start = ContinuousClock.now
        try await client.executeThenClose { input, output in
            var sent = 0
            while sent < bytes {
                try await output.write(ByteBuffer(bytes: chunk))
                sent += chunk.count
            }
            for try await _ in input { break }
        }
        let elapsed = seconds(start)
        try await serverTask.value
        return Double(bytes) / elapsed
    }

    static func swarm(_ seed: Int) async throws -> Swarm {
        var config = Swarm.Config.loopback
        config.limits.streamsPerSecond = 1_000_000
        let key = try SecretKey(bytes: SHA256.hash(Array("bench swarm \(seed)".utf8)).bytes)
        let swarm = Swarm(identity: key, config: config)
        await swarm.registerCoreProtocols()
        try await swarm.listen()
        return swarm
    }

    /// One stream through the whole stack (TCP, Noise, yamux), the receiver acknowledging the last byte.
    static func fullStack(bytes: Int) async throws -> Double {
        let server = try await swarm(1), client = try await swarm(2)
        await server.handle("/bench/sink/1.0.0") { stream in
            var received = 0
            while received < bytes, let chunk = try await stream.readSome(max: 1 << 20) { received += chunk.count }
            try await stream.write([1])
            await stream.close()
        }
        let peer = try await client.dial(await server.addresses[0])
        let stream = try await client.openStream(to: peer, protocols: ["/bench/sink/1.0.0"])
        let chunk = [UInt8](repeating: 0x5a, count: 64 * 1024)
        let start = ContinuousClock.now
        var sent = 0
        while sent < bytes {
            try await stream.write(chunk)
            sent += chunk.count
        }
        _ = try await stream.readExactly(1)
        let elapsed = seconds(start)
        await client.stop()
        await server.stop()
        return Double(bytes) / elapsed
    }

    static func connectionSetups(count: Int) async throws -> Double {
        let server = try await swarm(3), client = try await swarm(4)
        let address = await server.addresses[0]
        let start = ContinuousClock.now
        for _ in 0..<count {
            let peer = try await client.dial(address)
            _ = await client.disconnect(peer)
        }
        let elapsed = seconds(start)
        await client.stop()
        await server.stop()
        return Double(count) / elapsed
    }

    static func dhtLatency(nodes: Int, lookups: Int) async throws -> (p50: Double, p99: Double, found: Int, count: Int) {
        var swarms: [Swarm] = [], dhts: [DHT] = []
        var generator = SeededGenerator(seed: 100)
        for index in 0..<nodes {
            let swarm = try await swarm(100 + index)
            let dht = DHT(swarm: swarm, tablePath: nil)
            await dht.start()
            if index > 0 { _ = await dht.bootstrap([await swarms[Int.random(in: 0..<index, using: &generator)].addresses[0]]) }
            swarms.append(swarm)
            dhts.append(dht)
        }
        for dht in dhts { _ = await dht.closestPeers(to: dht.swarm.peerID.bytes) }
        var latencies: [Double] = []
        var found = 0
        for _ in 0..<lookups {
            let from = dhts[Int.random(in: 0..<nodes, using: &generator)]
            let target = swarms[Int.random(in: 0..<nodes, using: &generator)].peerID
            let start = ContinuousClock.now
            let result = await from.closestPeers(to: target.bytes)
            latencies.append(seconds(start) * 1000)
            if result.closest.contains(target) || target == from.swarm.peerID { found += 1 }
        }
        for swarm in swarms { await swarm.stop() }
        latencies.sort()
        return (latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)], found, lookups)
    }
}
