// swift-tools-version: 6.1
import PackageDescription

// Benchmarks live in their own package so the main package builds without the benchmark
// tooling. Run from this directory: `swift package benchmark` (ordo-one/benchmark), or
// `swift build -c release --product ombuds-eval-bench` for the peer comparison.
let package = Package(
  name: "OmbudsBenchmarks",
  platforms: [.macOS(.v14)],
  dependencies: [
    .package(name: "Ombuds", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
  ],
  targets: [
    // The default policy written by hand in Swift: the baseline the evaluator is held to.
    .target(name: "HandWritten", dependencies: [.product(name: "OmbudsEngine", package: "Ombuds")]),
    .executableTarget(
      name: "ombuds-eval-bench",
      dependencies: ["HandWritten", .product(name: "OmbudsEngine", package: "Ombuds")]
    ),
    .executableTarget(
      name: "ombuds-store-bench",
      dependencies: [
        .product(name: "OmbudsStore", package: "Ombuds"), .product(name: "OmbudsEngine", package: "Ombuds"),
        .product(name: "OmbudsRules", package: "Ombuds"), .product(name: "GRDB", package: "GRDB.swift"),
      ]
    ),
    .executableTarget(
      name: "OmbudsBenchmarks",
      dependencies: [
        "HandWritten",
        .product(name: "OmbudsEngine", package: "Ombuds"),
        .product(name: "OmbudsRules", package: "Ombuds"),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/OmbudsBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ],
  swiftLanguageModes: [.v6]
)
