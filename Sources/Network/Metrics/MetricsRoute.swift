import Hummingbird
import Ledger
import Metrics
import Prometheus

/// Prometheus exposition of every swift-metrics value the node records, at /metrics.
public enum NodeMetrics {
    /// Bootstraps swift-metrics once per process with a Prometheus registry and returns it.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    /// `traffic`: per-peer, per-protocol byte totals, written at scrape time from the swarm's own table (so
    /// peers that left do not linger as series, and bytes re-attributed after negotiation are exact).
    public static func register(on router: Router<NodeRequestContext>, registry: PrometheusCollectorRegistry, traffic: TrafficStats? = nil) {
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            if let traffic { buffer += Array(traffic.prometheusText().utf8) }
            // Every BIP-340 verification this process made: each signature should be verified once per node.
            buffer += Array("""
                # TYPE ledgerd_signature_verifications_total counter
                ledgerd_signature_verifications_total \(SignatureCount.verifications)

                """.utf8)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
