// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "Ombuds",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "OmbudsEngine", targets: ["OmbudsEngine"]),
    .library(name: "OmbudsRules", targets: ["OmbudsRules"]),
    .library(name: "OmbudsScreening", targets: ["OmbudsScreening"]),
    .executable(name: "rules-check", targets: ["rules-check"]),
    .executable(name: "ombuds", targets: ["ombuds"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
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
    .target(name: "OmbudsRules", dependencies: ["OmbudsSyntax", "OmbudsScreening"]),
    // The compiled evaluator, business calendar, case snapshots. No I/O.
    .target(name: "OmbudsEngine", dependencies: ["OmbudsRules", "OmbudsScreening"]),
    // Command implementations shared by the executables.
    .target(
      name: "OmbudsCLI",
      dependencies: [
        "OmbudsEngine",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "rules-check", dependencies: ["OmbudsCLI"]),
    .executableTarget(name: "ombuds", dependencies: ["OmbudsCLI"]),
    .testTarget(
      name: "OmbudsTests",
      dependencies: ["OmbudsEngine", "OmbudsCLI", "rules-check", "ombuds"],
      exclude: ["Golden", "Fixtures"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
