// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Ombuds",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "OmbudsEngine", targets: ["OmbudsEngine"]),
    .library(name: "OmbudsRules", targets: ["OmbudsRules"]),
    .library(name: "OmbudsScreening", targets: ["OmbudsScreening"]),
    .library(name: "OmbudsStore", targets: ["OmbudsStore"]),
    .library(name: "OmbudsNotifier", targets: ["OmbudsNotifier"]),
    .library(name: "OmbudsReports", targets: ["OmbudsReports"]),
    .executable(name: "rules-check", targets: ["rules-check"]),
    .executable(name: "ombuds", targets: ["ombuds"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.20.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.60.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
    .package(url: "https://github.com/apple/swift-crypto", "3.9.0"..<"5.0.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.5.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
  ],
  targets: [
    // libyaml, the system library (Debian: libyaml-dev).
    .systemLibrary(
      name: "CLibYAML",
      pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
    ),
    // Located YAML tree and diagnostics: knows YAML shapes and positions only.
    .target(name: "OmbudsSyntax", dependencies: ["CLibYAML"]),
    // Text normalization and the keyword automaton (harmful-content screening). No I/O.
    .target(name: "OmbudsScreening"),
    // The rule language: expressions, checked rule model, checking passes.
    .target(
      name: "OmbudsRules",
      dependencies: ["OmbudsSyntax", "OmbudsScreening", .product(name: "Crypto", package: "swift-crypto")]
    ),
    // The compiled evaluator, business calendar, case snapshots. No I/O.
    .target(name: "OmbudsEngine", dependencies: ["OmbudsRules", "OmbudsScreening"]),
    // The case store: events, snapshots, decisions and the outbox in one transaction.
    .target(
      name: "OmbudsStore",
      dependencies: [
        "OmbudsEngine", "OmbudsRules", "OmbudsSyntax", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
      ],
      // Async functions run on their caller's executor unless they say otherwise: a SQLite
      // write transaction's logic then runs on the writer's queue, beside its statements.
      swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]
    ),
    // The notifier: delivers the outbox (log, file, signed webhooks) with retries and a
    // dead-letter state; `ombuds serve` runs it beside the due re-evaluations.
    .target(
      name: "OmbudsNotifier",
      dependencies: [
        "OmbudsStore", "OmbudsEngine", "OmbudsRules", "OmbudsSyntax",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
      ]
    ),
    // The quality bulletin as JSON, CSV, Markdown and a self-contained HTML page with SVG
    // charts: what `ombuds report`, `/reports/bulletin` and `/v1/reports` write.
    .target(name: "OmbudsReports", dependencies: ["OmbudsStore", "OmbudsEngine", "OmbudsRules"]),
    // The HTTP API of `ombuds serve` (/v1): tokens, routes, errors, metrics. Thin: it maps
    // JSON to the store's events and errors and calls the store's async API.
    .target(
      name: "OmbudsHTTP",
      dependencies: [
        "OmbudsStore", "OmbudsEngine", "OmbudsRules", "OmbudsSyntax", "OmbudsScreening", "OmbudsNotifier",
        "OmbudsReports",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
    // Command implementations shared by the executables.
    .target(
      name: "OmbudsCLI",
      dependencies: [
        "OmbudsEngine",
        "OmbudsStore",
        "OmbudsNotifier",
        "OmbudsHTTP",
        "OmbudsReports",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "rules-check", dependencies: ["OmbudsCLI"]),
    .executableTarget(name: "ombuds", dependencies: ["OmbudsCLI"]),
    .testTarget(
      name: "OmbudsTests",
      dependencies: [
        "OmbudsEngine", "OmbudsStore", "OmbudsNotifier", "OmbudsHTTP", "OmbudsCLI", "OmbudsReports", "rules-check",
        "ombuds",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
      ],
      exclude: ["Golden", "Fixtures"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
