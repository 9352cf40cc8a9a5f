import Foundation
import Ledger
import Storage

/// The swarm and DHT as JSON (specs/openapi.yaml, tag p2p), for `ledgerctl swarm` and `ledgerctl dht`.
extension LedgerQueries {
    var p2p: P2PNetwork {
        get throws {
            guard let network else { throw APIError(.serviceUnavailable, "p2p_disabled", "this node runs without the peer-to-peer network") }
            return network
        }
    }

    func syncStatus(latest: UInt64) async -> [String: Any] {
        guard let target = await node.syncTarget else { return ["syncing": false, "target": latest, "behind": 0] }
        return ["syncing": true, "target": target, "behind": target > latest ? target - latest : 0]
    }

    func swarmLocal() async throws -> [String: Any] {
        let swarm = try p2p.swarm
        return ["peer_id": swarm.peerID.description, "ledger_id": info.nodeKey.id.text, "addresses": await swarm.addresses.map(\.description),
                "listen": await swarm.listenAddresses.map(\.description), "protocols": await swarm.protocols]
    }

    func swarmAddresses() throws -> [String: Any] {
        let book = try p2p.swarm.addressBook
        var peers: [String: Any] = [:]
        for (peer, entry) in book.all { peers[peer.description] = ["addresses": entry.addresses, "agent": entry.agent, "last_seen": entry.lastSeen] }
        return ["peers": peers]
    }

    func swarmPeers() async throws -> [String: Any] {
        let swarm = try p2p.swarm
        let peers = await swarm.connectedPeers.map { info -> [String: Any] in
            let protocols = swarm.traffic.byProtocol(of: info.peer)
            let total = protocols["transport"] ?? TrafficStats.Totals()
            return [
                "peer_id": info.peer.description, "ledger_id": info.peer.ledgerID?.text ?? "", "address": info.remote.description,
                "direction": info.outbound ? "outbound" : "inbound", "opened_ms": UInt64(info.opened.timeIntervalSince1970 * 1000),
                "agent": swarm.addressBook.entry(info.peer)?.agent ?? "",
                "bytes_in": total.received, "bytes_out": total.sent,
                "protocols": protocols.filter { $0.key != "transport" }.mapValues { ["bytes_in": $0.received, "bytes_out": $0.sent] },
            ]
        }
        let bans = swarm.peerGuard.bans.map { ["peer_id": $0.peer.description, "reason": $0.reason] }
        return ["peers": peers, "banned": bans]
    }

    func swarmConnect(_ text: String) async throws -> [String: Any] {
        let address: Multiaddr
        do { address = try Multiaddr(text) } catch { throw APIError.badRequest("address \(Parse.quote(text)): \(error)") }
        guard let target = address.peer else { throw APIError.badRequest("address must end in /p2p/<peer-id>") }
        let swarm = try p2p.swarm
        // Dialing itself is the caller's mistake, not a failure of the network: 400, not 502.
        guard target != swarm.peerID else { throw APIError.badRequest("\(target) is this node's own peer ID; a node does not dial itself") }
        do {
            let peer = try await swarm.dial(address)
            return ["peer_id": peer.description, "connected": true]
        } catch {
            throw APIError(.badGateway, "dial_failed", "\(error)")
        }
    }

    func swarmDisconnect(_ text: String) async throws -> [String: Any] {
        guard let peer = PeerID(text) else { throw APIError.badRequest("\(Parse.quote(text)) is not a peer ID") }
        guard try await p2p.swarm.disconnect(peer) else { throw APIError.notFound("connection to \(peer)") }
        return ["peer_id": peer.description, "connected": false]
    }

    func dhtFindPeer(_ text: Substring) async throws -> [String: Any] {
        guard let peer = PeerID(String(text)) else { throw APIError.badRequest("\(Parse.quote(text)) is not a peer ID") }
        guard let found = try await p2p.dht.findPeer(peer) else { throw APIError.notFound("peer \(peer) in the DHT") }
        return ["peer_id": peer.description, "addresses": found.addresses.map { $0.with(peer: peer).description }, "hops": found.hops]
    }

    func dhtFindProviders(_ text: Substring) async throws -> [String: Any] {
        guard let key = ContentKey.parse(String(text)) else { throw APIError.badRequest("\(Parse.quote(text)) is not a CID or 64 hex characters") }
        let network = try p2p
        let providers = await network.dht.findProviders(key)
        return ["key": String(text), "providers": providers.map { peer in
            ["peer_id": peer.description, "addresses": network.swarm.addressBook.addresses(of: peer).map(\.description)]
        }]
    }

    func dhtProvide(_ text: String) async throws -> [String: Any] {
        guard let key = ContentKey.parse(text) else { throw APIError.badRequest("\(Parse.quote(text)) is not a CID or 64 hex characters") }
        return ["key": text, "told": try await p2p.dht.provide(key)]
    }

    /// A MiMei's newest head from the connected peers, through the head exchange, presenting `capability`
    /// (hex) for a private one; the record is for the caller to check, as a DHT record is.
    func mimeiHead(_ mid: String, capability: String?) async throws -> [String: Any] {
        guard let id = try? ID(text: mid) else { throw APIError.badRequest("\(Parse.quote(mid)) is not a MiMei ID (ld1…)") }
        var presented: [UInt8]?
        if let capability {
            guard let bytes = Hex.decode(capability), (try? MiMeiCapability(encoded: bytes)) != nil else {
                throw APIError(.badRequest, "bad_capability", "capability is not a signed MiMei capability in hex")
            }
            presented = bytes
        }
        guard let exchange = try p2p.exchange else { throw APIError(.serviceUnavailable, "p2p_disabled", "this node runs without the head exchange") }
        guard let found = await exchange.head(id, capability: presented) else {
            throw APIError.notFound("a head for \(id.text) from any connected peer (a private MiMei needs a capability its author signed for this node)")
        }
        return ["record": Hex.encode(found.record.encoded), "version": found.head.version, "cid": found.head.cid.text, "peers": found.peers.map(\.description)]
    }

    /// Bytes served to and received from each peer, per service, over all time kept (specs/usage.md).
    func usage() throws -> [String: Any] {
        guard let recorder = try p2p.usage else { throw APIError(.serviceUnavailable, "p2p_disabled", "this node keeps no usage ledger") }
        try? recorder.flush()
        var totals = try recorder.ledger.totals()
        // Anonymous gateway clients are the operator's own traffic: shown apart from peers.
        let anonymous = totals.removeValue(forKey: GatewayTraffic.account)?[GatewayTraffic.service]?.served ?? 0
        let peers: [[String: Any]] = totals.keys.sorted().map { peer in
            let services = totals[peer] ?? [:]
            return ["peer": peer, "served": services.values.reduce(UInt64(0)) { $0 &+ $1.served }, "received": services.values.reduce(UInt64(0)) { $0 &+ $1.received },
                    "services": services.mapValues { ["served": $0.served, "received": $0.received] }]
        }
        var gateway: [String: Any] = ["served": anonymous]
        if let traffic = recorder.gateway {
            let today = traffic.snapshot()
            gateway["today"] = ["served": today.served, "clients": today.clients, "refused": today.refused]
            if let allowance = traffic.settings.allowancePerClient { gateway["allowance_per_client"] = allowance }
            if let limit = traffic.settings.dailyLimit { gateway["daily_limit"] = limit }
        }
        return ["peers": peers, "gateway": gateway]
    }

    /// One peer's usage windows: the hours kept, and the days before them.
    func usage(of peer: Substring, limit limitText: Substring? = nil) throws -> [String: Any] {
        guard let recorder = try p2p.usage else { throw APIError(.serviceUnavailable, "p2p_disabled", "this node keeps no usage ledger") }
        guard peer == Substring(UsageLedger.others) || peer == Substring(GatewayTraffic.account) || PeerID(String(peer)) != nil else {
            throw APIError.badRequest("\(Parse.quote(peer)) is not a peer ID")
        }
        let limit = try Parse.limit(limitText, default: 500, max: 5_000)
        try? recorder.flush()
        let windows = try recorder.ledger.windows(of: String(peer), limit: limit)
        guard !windows.isEmpty else { throw APIError.notFound("usage of peer \(peer)") }
        return ["peer": String(peer), "windows": windows.map { ["service": $0.service, "start": $0.start, "span": $0.span, "served": $0.usage.served, "received": $0.usage.received] }]
    }

    /// Bitswap billed between ledger nodes, both ways, with each stream's standing on the chain.
    func metering() async throws -> [String: Any] {
        guard let metering = try p2p.metering else { throw APIError(.serviceUnavailable, "not_metered", "this node does not meter Bitswap") }
        let report = await metering.report()
        let provided: [[String: Any]] = report.provided.map { stream in
            var view: [String: Any] = [
                "consumer": stream.consumer.text, "served": stream.standing.served, "receipted": stream.standing.receipted, "sequence": stream.sequence,
                "settled": stream.standing.settled, "owed": stream.standing.owed, "limit": stream.standing.limit, "exposure": stream.standing.exposure,
                "serving": stream.stopped == nil,
            ]
            if let stopped = stream.stopped { view["stopped"] = stopped }
            return view
        }
        let consumed: [[String: Any]] = report.consumed.map {
            ["provider": $0.provider.text, "received": $0.received, "signed": $0.signed, "sequence": $0.sequence, "settled": $0.settled,
             "owed": $0.owed, "limit": $0.limit]
        }
        var forward: [String: Any] = [:]
        if let forwarding = try p2p.forwarding {
            let streams = await forwarding.report()
            func view(_ stream: ForwardMetering.Stream) -> [String: Any] {
                var view: [String: Any] = ["contract": stream.contract.text, "bytes": stream.relayed, "receipted": stream.receipted, "sequence": stream.sequence]
                if let stopped = stream.stopped { view["stopped"] = stopped }
                return view
            }
            forward = ["relayed": streams.relayed.map(view), "counted": streams.counted.map(view)]
            if let relay = try p2p.relay { forward["reservations"] = await relay.current.map { ["peer": $0.client.description, "circuits": $0.circuits, "bytes": $0.relayed] } }
            if let client = try p2p.relayClient {
                forward["relays"] = await client.current.map { relay -> [String: Any] in
                    var view: [String: Any] = ["address": relay.address.description, "reserved": relay.expires.map { $0 > Date() } ?? false]
                    if let refusal = relay.refusal { view["refusal"] = refusal }
                    return view
                }
            }
        }
        return ["provided": provided, "consumed": consumed, "forward": forward]
    }

    func dhtGet(_ key: String?) async throws -> [String: Any] {
        guard let key, DHTRecord.isValidKey(key) else {
            throw APIError.badRequest("key must be /ledgerd/mimei/<MiMei ID>, /ledgerd/org/<id> or /ledgerd/addr/<id>")
        }
        guard let record = try await p2p.dht.get(key) else { throw APIError.notFound("record \(key)") }
        return JSONView.record(record)
    }

    func dhtPut(_ hex: String) async throws -> [String: Any] {
        guard let bytes = Hex.decode(hex), let cbor = try? CBORDecoder.decode(bytes), case .map(let fields) = cbor, case .text(let key)? = fields["key"] else {
            throw APIError.badRequest("record must be the hex of a CBOR {key, value, seq, signer, signature} map")
        }
        let record: DHTRecord
        do { record = try DHTRecord(encoded: bytes, expectedKey: key) } catch { throw APIError(.badRequest, "bad_record", "\(error)") }
        let stored = try await p2p.dht.put(record)
        var view = JSONView.record(record)
        view["stored_on"] = stored
        return view
    }
}

extension JSONView {
    static func record(_ record: DHTRecord) -> [String: Any] {
        ["key": record.key, "value_hex": Hex.encode(record.value), "value": String(decoding: record.value, as: UTF8.self),
         "seq": record.seq, "signer": record.signer.id.text, "record": Hex.encode(record.encoded)]
    }
}
