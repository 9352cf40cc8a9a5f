import Foundation

/// Issue 11's exchange and serving bars, measured by Tests/p2p/content_bench.py in a network namespace
/// that has loopback alone: a 100 MiB file fetched over Bitswap by a second ledgerd and by Kubo, against a
/// plain loopback TCP copy of as many bytes; the gateway under wrk (64 connections) for a 1 MiB and a
/// 4 KiB object against nginx serving the same bytes from disk; and the serving node's resident memory
/// while it streams a 1 GiB file, against its idle figure.
enum ContentExchangeBenchmarks {
    static func run(_ report: inout Report, binaries: String, quick: Bool) {
        let exchange = quick ? 32 : 100, serve = quick ? 256 : 1_024, seconds = quick ? 3 : 5
        let keys = ["bitswap_ledgerd_from_ledgerd_to_tcp", "bitswap_billed_to_unmetered", "bitswap_receipts_per_second_serving", "bitswap_kubo_from_ledgerd_to_tcp", "bitswap_ledgerd_over_kubo",
                    "gateway_1mib_to_nginx", "gateway_4kib_to_nginx", "gateway_serving_rss_growth_bytes"]
        let figures: [String: Double]
        do { figures = try measure(binaries: binaries, exchange: exchange, serve: serve, seconds: seconds) } catch {
            for key in keys { report.fail(key.replacingOccurrences(of: "_", with: " "), "\(error)", key: key) }
            return
        }
        func value(_ key: String) -> Double { figures[key] ?? .nan }
        let mebibytes = Double(exchange)
        let tcp = mebibytes / value("tcp_seconds"), ours = mebibytes / value("ledgerd_from_ledgerd_seconds"), kubo = mebibytes / value("kubo_from_ledgerd_seconds")
        report.add("Bitswap: \(exchange) MiB, ledgerd from ledgerd", "\(formatted(ours)) MiB/s",
                   "a HEAD on the second node's gateway, which fetches the whole file first; best of 2, repo gc between", key: "bitswap_ledgerd_from_ledgerd_mib_per_second", ours)
        report.add("  ratio to a plain loopback TCP copy", formatted(ours / tcp, decimals: 3), "TCP: \(formatted(tcp)) MiB/s, best of 3",
                   key: "bitswap_ledgerd_from_ledgerd_to_tcp", ours / tcp)
        let billed = mebibytes / value("billed_seconds"), unmetered = mebibytes / value("unmetered_seconds")
        report.add("Bitswap billed: \(exchange) MiB under a letter of credit", "\(formatted(billed)) MiB/s",
                   "receipts every MiB, each checked, acknowledged and kept; settled on the chain; best of 2", key: "bitswap_billed_mib_per_second", billed)
        report.add("  ratio to the same transfer with metering off (goal ≥ 0.95)", formatted(billed / unmetered, decimals: 3),
                   "both nodes restarted with --no-metering: \(formatted(unmetered)) MiB/s", key: "bitswap_billed_to_unmetered", billed / unmetered)
        let receiptRate = value("billed_receipts") / value("billed_total_seconds")
        report.add("Receipts signed and verified per second while serving", formatted(receiptRate, decimals: 1),
                   "\(Int(value("billed_receipts"))) receipts for both billed fetches, signed by B, verified and acknowledged by A, over their \(formatted(value("billed_total_seconds"), decimals: 2)) s",
                   key: "bitswap_receipts_per_second_serving", receiptRate)
        report.add("Bitswap: \(exchange) MiB, Kubo from ledgerd", "\(formatted(kubo)) MiB/s", "Kubo 0.22's Download, written to a file",
                   key: "bitswap_kubo_from_ledgerd_mib_per_second", kubo)
        report.add("  ratio to a plain loopback TCP copy", formatted(kubo / tcp, decimals: 3), "", key: "bitswap_kubo_from_ledgerd_to_tcp", kubo / tcp)
        report.add("  ledgerd from ledgerd over Kubo from ledgerd (goal ≥ 1)", formatted(ours / kubo, decimals: 2), "", key: "bitswap_ledgerd_over_kubo", ours / kubo)
        for (name, label) in [("one_mib", "1 MiB"), ("four_kib", "4 KiB")] {
            let gateway = value("gateway_\(name)_rps"), nginx = value("nginx_\(name)_rps")
            let key = name == "one_mib" ? "gateway_1mib" : "gateway_4kib"
            report.add("Gateway under wrk, a \(label) object", "\(formatted(gateway)) requests/s", "wrk -t2 -c64 -d\(seconds)s; nginx: \(formatted(nginx)) requests/s (sendfile)",
                       key: "\(key)_requests_per_second", gateway)
            report.add("  ratio to nginx serving the same bytes from disk\(name == "one_mib" ? " (goal ≥ 0.8)" : "")", formatted(gateway / nginx, decimals: 2), "",
                       key: "\(key)_to_nginx", gateway / nginx)
        }
        let growth = value("serving_rss_bytes") - value("idle_rss_bytes")
        report.add("Gateway: resident memory serving a \(serve) MiB file, over idle (goal ≤ 64 MiB)", "\(formatted(growth / 1_048_576, decimals: 1)) MiB",
                   "VmRSS sampled every 20 ms: \(formatted(value("idle_rss_bytes") / 1_048_576, decimals: 1)) MiB idle, \(formatted(value("serving_rss_bytes") / 1_048_576, decimals: 1)) MiB at most; \(formatted(Double(serve) / value("serve_seconds"))) MiB/s",
                   key: "gateway_serving_rss_growth_bytes", growth)
    }

    static func measure(binaries: String, exchange: Int, serve: Int, seconds: Int) throws -> [String: Double] {
        let (root, venv, library) = try ContentBenchmarks.kubo(binaries: binaries)
        for tool in ["/usr/bin/wrk", "/usr/sbin/nginx"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw BenchHTTPClient.Failure(description: "\(tool) is not installed (scripts/install-deps.sh --test installs wrk and nginx-light)")
        }
        let work = NSTemporaryDirectory() + "ledger-bench-exchange-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let result = try ContentBenchmarks.runProcess("/usr/bin/unshare", ["-n", venv + "/bin/python", root + "/Tests/p2p/content_bench.py", library, binaries, work,
                                                                           "\(exchange)", "\(serve)", "\(seconds)"])
        guard let line = result.output.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw BenchHTTPClient.Failure(description: "content_bench.py printed nothing usable: \(result.output.suffix(300))")
        }
        guard let figures = object["figures"] as? [String: Any] else {
            throw BenchHTTPClient.Failure(description: "content_bench.py: \(object["error"] ?? "no figures")")
        }
        return figures.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}
