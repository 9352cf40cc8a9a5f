// swift-tools-version:6.0
import PackageDescription

// Layout and dependency rules: ../shared/DESIGN.md §2. Pure logic (Ledger, Credit, Consensus) never
// imports Storage or Network; the C libraries sit behind one small shim target each.
let package = Package(
    name: "ledgerd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ledgerd", targets: ["ledgerd"]),
        .executable(name: "ledgerctl", targets: ["ledgerctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        // C shims: each is wrapped by exactly one Swift file that owns every unsafe pointer.
        .systemLibrary(name: "CSecp256k1", path: "Sources/CSecp256k1"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("crypto")]),

        // Pure logic: no disk, no network, no clock.
        .target(name: "Ledger", dependencies: ["CSecp256k1", "COpenSSL"]),
        .target(name: "Credit", dependencies: ["Ledger"]),
        .target(name: "Consensus", dependencies: ["Ledger"]),

        // I/O.
        .target(name: "Storage", dependencies: ["Ledger", "CSQLite", "CZstd"]),
        // Named LedgerNetwork because a module called Network makes `#if canImport(Network)` in SwiftNIO and
        // Hummingbird (meant for Apple's Network.framework) pick up ours; the folder keeps DESIGN's name.
        .target(name: "LedgerNetwork", dependencies: [
            "Ledger", "Credit", "Consensus", "Storage",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            "COpenSSL", "CSecp256k1",
        ], path: "Sources/Network"),

        // Executables.
        .executableTarget(name: "ledgerd", dependencies: [
            "Ledger", "Credit", "Consensus", "Storage", "LedgerNetwork",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "ledgerctl", dependencies: [
            "Ledger", "Credit", "Consensus", "Storage",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks need a release build and real wall-clock figures, which tests must never assert;
        // so they live in their own executable that `make bench` runs.
        .executableTarget(name: "ledger-bench", dependencies: [
            "Ledger", "Credit", "Consensus", "Storage", "LedgerNetwork", "LedgerTestSupport", "NetworkTestSupport",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),

        // Shared by the test targets: deterministic keys and an in-memory chain.
        .target(name: "LedgerTestSupport", dependencies: ["Ledger", "Credit", "Consensus"], path: "Tests/Support"),
        // The DHT simulation: the daemon's own Kademlia lookups over a simulated network, for tests and benchmarks.
        .target(name: "NetworkTestSupport", dependencies: ["Ledger", "LedgerNetwork"], path: "Tests/NetworkSupport"),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger", "Credit", "Consensus", "LedgerTestSupport"]),
        .testTarget(name: "ConsensusTests", dependencies: ["Ledger", "Credit", "Consensus", "LedgerTestSupport"]),
        .testTarget(name: "CreditTests", dependencies: [
            "Ledger", "Credit", "LedgerTestSupport", .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "StorageTests", dependencies: ["Ledger", "Credit", "Storage", "LedgerTestSupport"]),
        .testTarget(name: "NetworkTests", dependencies: [
            "Ledger", "Credit", "Consensus", "Storage", "LedgerNetwork", "LedgerTestSupport", "NetworkTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "IntegrationTests", dependencies: [
            "Ledger", "Credit", "Storage", "LedgerNetwork", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
